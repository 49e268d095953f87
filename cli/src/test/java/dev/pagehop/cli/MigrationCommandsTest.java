package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.cli.output.Json;
import dev.pagehop.proto.control.v1.ListMigrationsResponse;
import dev.pagehop.proto.control.v1.MigrationEvent;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationStats;
import dev.pagehop.proto.types.v1.SourcePhase;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** status, watch, cancel, recover and stats against an in-process agent with recorded migrations. */
class MigrationCommandsTest {
    CliHarness cli;

    @BeforeEach
    void start() throws Exception {
        cli = new CliHarness();
    }

    @AfterEach
    void stop() throws Exception {
        cli.close();
    }

    private MigrationInfo record(MigrationInfo m) {
        cli.source.migrations.put(m.getMigrationId(), m);
        cli.source.scripts.put(m.getMigrationId(), Migrations.script(m));
        return m;
    }

    private MigrationInfo completed(String id) {
        return record(Migrations.completed(id, 1, cli.targetAddress.toString()).toBuilder().setMigrationId(id).build());
    }

    @Test
    void statusOfOneMigrationShowsTheSummary() {
        completed("m-7");
        CliHarness.Result r = cli.onSource("status", "m-7");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("migration m-7: completed — pid 1 → " + cli.targetAddress + " pid 7 (precopy, uffd-wp-async)")
                .contains("ROUND").containsPattern("Downtime\\s+42 ms");
        MigrationInfo j = Json.parse(cli.onSource("status", "m-7", "-o", "json").out(), MigrationInfo.newBuilder()).build();
        assertThat(j).isEqualTo(cli.source.migrations.get("m-7"));
    }

    @Test
    void statusWithoutIdListsMigrations() {
        completed("m-1");
        record(Migrations.running(Migrations.completed("m-2", 2, "elsewhere:7071")).toBuilder().setMigrationId("m-2").build());
        CliHarness.Result r = cli.onSource("status");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("MIGRATION  PID  TARGET").contains("m-1").contains("completed").contains("42 ms")
                .contains("m-2").contains("iterating").contains("elsewhere:7071");
        ListMigrationsResponse j = Json.parse(cli.onSource("status", "-o", "json").out(), ListMigrationsResponse.newBuilder()).build();
        assertThat(j.getMigrationsCount()).isEqualTo(2);
    }

    @Test
    void statusOfAnUnknownMigrationExitsNotFound() {
        CliHarness.Result r = cli.onSource("status", "m-404");
        assertThat(r.exitCode()).isEqualTo(ExitCode.NOT_FOUND.code());
        assertThat(r.err().strip()).isEqualTo("pagehop: agent at " + cli.sourceAddress + ": no migration 'm-404'");
    }

    @Test
    void watchFollowsToTheEndAndExitsWithTheOutcome() {
        completed("m-3");
        CliHarness.Result r = cli.onSource("watch", "m-3");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("watching migration m-3").contains("round 2 (final) done").contains("migration m-3 completed")
                .containsPattern("Memory digest\\s+match");

        record(Migrations.ended(Migrations.completed("m-4", 1, "t:1"), SourcePhase.SOURCE_PHASE_CANCELLED, "cancelled by the user")
                .toBuilder().setMigrationId("m-4").build());
        assertThat(cli.onSource("watch", "m-4").exitCode()).isEqualTo(ExitCode.CANCELLED.code());
    }

    @Test
    void watchJsonStreamsOneEventPerLine() {
        completed("m-3");
        CliHarness.Result r = cli.onSource("watch", "m-3", "-o", "json");
        assertThat(r.exitCode()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(Migrations.script(cli.source.migrations.get("m-3")).size());
        MigrationEvent last = Json.parse(lines.getLast(), MigrationEvent.newBuilder()).build();
        assertThat(last.getKind()).isEqualTo(MigrationEvent.Kind.KIND_END);
        assertThat(last.getInfo().getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
        assertThat(Json.parse(lines.getFirst(), MigrationEvent.newBuilder()).getKind()).isEqualTo(MigrationEvent.Kind.KIND_SNAPSHOT);
    }

    @Test
    void watchFallsBackToGetMigrationWhenTheStreamEndsEarly() {
        MigrationInfo m = completed("m-5");
        cli.source.scripts.put("m-5", Migrations.script(m).subList(0, 2));
        CliHarness.Result r = cli.onSource("watch", "m-5");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("   0.000s  watching migration m-5").contains("migration m-5: completed");
    }

    @Test
    void cancelBeforeSwitchoverSucceeds() {
        record(Migrations.running(Migrations.completed("m-6", 3, "t:1")).toBuilder().setMigrationId("m-6").build());
        CliHarness.Result r = cli.onSource("cancel", "m-6");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("migration m-6 cancelled; pid 3 keeps running on " + cli.sourceAddress + "\n");
        assertThat(cli.source.migrations.get("m-6").getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_CANCELLED);
    }

    @Test
    void cancelAfterSwitchoverIsRefused() {
        completed("m-8");
        CliHarness.Result r = cli.onSource("cancel", "m-8");
        assertThat(r.exitCode()).isEqualTo(ExitCode.REFUSED.code());
        assertThat(r.err().strip()).isEqualTo("pagehop: agent at " + cli.sourceAddress
                + " refused CancelMigration: migration m-8 is SOURCE_PHASE_COMPLETED; it can be cancelled only before switchover");
    }

    @Test
    void recoverResumesAPausedPostcopyAndFollowsIt() {
        record(Migrations.completed("m-9", 1, "t:1").toBuilder().setMigrationId("m-9")
                .setSourcePhase(SourcePhase.SOURCE_PHASE_POSTCOPY_PAUSED).build());
        CliHarness.Result r = cli.onSource("recover", "m-9");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("migration m-9 completed");

        CliHarness.Result again = cli.onSource("recover", "m-9");
        assertThat(again.exitCode()).isEqualTo(ExitCode.REFUSED.code());
        assertThat(again.err()).contains("is SOURCE_PHASE_COMPLETED, not POSTCOPY_PAUSED");
    }

    @Test
    void recoverOnAnAgentWithoutItIsRefusedClearly() throws Exception {
        FakeAgent bare = new FakeAgent(dev.pagehop.proto.control.v1.AgentRole.AGENT_ROLE_SOURCE, "old");
        bare.servesRecover = false;
        dev.pagehop.cli.agent.AgentAddress addr = new dev.pagehop.cli.agent.AgentAddress("old-agent", 7070);
        io.grpc.Server s = io.grpc.inprocess.InProcessServerBuilder.forName(addr.toString()).directExecutor()
                .addService(bare).build().start();
        try {
            CliHarness.Result r = cli.run("recover", "m-1", "--agent", addr.toString());
            assertThat(r.exitCode()).isEqualTo(ExitCode.REFUSED.code());
            assertThat(r.err()).contains("source agent at old-agent:7070 does not implement RecoverMigration");
        } finally {
            s.shutdownNow();
        }
    }

    @Test
    void statsOfOneMigrationAreTheHeadlineFigures() {
        completed("m-1");
        CliHarness.Result r = cli.onSource("stats", "m-1");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).containsPattern("Downtime\\s+42 ms").containsPattern("Rounds\\s+3").doesNotContain("ROUND ");
        MigrationStats s = Json.parse(cli.onSource("stats", "m-1", "-o", "json").out(), MigrationStats.newBuilder()).build();
        assertThat(s.getDowntimeMs()).isEqualTo(42);
    }

    @Test
    void statsWithoutIdAggregateConvergence() {
        completed("m-1");
        completed("m-2");
        record(Migrations.ended(Migrations.completed("m-3", 1, "t:1"), SourcePhase.SOURCE_PHASE_FAILED, "did not converge")
                .toBuilder().setMigrationId("m-3").build());
        record(Migrations.running(Migrations.completed("m-4", 1, "t:1")).toBuilder().setMigrationId("m-4").build());
        CliHarness.Result r = cli.onSource("stats");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).containsPattern("Migrations\\s+4").containsPattern("Completed \\(converged\\)\\s+2 \\(67% of ended\\)")
                .containsPattern("Failed\\s+1").containsPattern("Running\\s+1")
                .containsPattern("Downtime, mean / max\\s+42 ms / 42 ms");
        String json = cli.onSource("stats", "-o", "json").out();
        assertThat(json).contains("\"completed\": 2.0").contains("\"failed\": 1.0").contains("\"convergedFraction\": 0.666");
    }
}
