package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.pagehop.cli.agent.AgentAddress;
import dev.pagehop.cli.demo.AgentLauncher;
import dev.pagehop.cli.demo.LaunchedAgent;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.ProcessState;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The demo's flow against in-process agents: what it asks each agent, what it prints, that it
 * verifies the digest on the target, and that it stops both agents whatever happens.
 */
class DemoCommandTest {
    CliHarness cli;
    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dir;
    java.nio.file.Path report;
    final List<String> stopped = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        cli = new CliHarness();
        report = dir.resolve("demo.html");
        cli.launcher = (role, name) -> new LaunchedAgent() {
            @Override
            public AgentAddress address() {
                return role == AgentLauncher.Role.SOURCE ? cli.sourceAddress : cli.targetAddress;
            }

            @Override
            public String where() {
                return "in-process";
            }

            @Override
            public String stop() {
                stopped.add(name);
                return "stopped";
            }
        };
        // The process as the target rebuilt it: pid 7, the memory the source had at freeze.
        cli.target.processes.put(7, ProcessInfo.newBuilder().setPid(7).setWorkload("kv").setState(ProcessState.PROCESS_STATE_FROZEN)
                .build());
        cli.target.digests.put(7, ByteString.copyFrom(Migrations.DIGEST));
    }

    @AfterEach
    void stop() throws Exception {
        cli.close();
    }

    @Test
    void startsAgentsMigratesVerifiesAndStops() throws Exception {
        CliHarness.Result r = cli.run("demo", "--report", report.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        String out = r.out();
        assertThat(out).contains("report: " + report + "\n");
        assertThat(java.nio.file.Files.readString(report)).contains("chart-pages-per-round").contains("42 ms");
        assertThat(out).startsWith("pagehop demo: live migration of an emulated arm64 process between two local agents\n"
                + "  starting target agent ... ready on " + cli.targetAddress + " (target 'tgt', version 0.1.0, protocol 1; in-process)\n"
                + "  starting source agent ... ready on " + cli.sourceAddress + " (source 'src', version 0.1.0, protocol 1; in-process)\n"
                + "spawned pid 1 on the source: kv, 64.0 MiB, 4k pages, writing 128 KiB/s\n"
                + "migrating pid 1 → " + cli.targetAddress + " (hybrid, uffd-wp-async, downtime limit 300 ms)\n");
        assertThat(out).contains("round 0  50%").contains("round 2 (final) done").containsPattern("Downtime\\s+42 ms")
                .contains("verify: target pid 7 memory digest 3f2a117e55010203, source pid 1 at freeze 3f2a117e55010203 → identical")
                .contains("verify: kv self-check on the target: ok (4096 keys, checksums ok)")
                .contains("pagehop demo: OK — pid 1 moved in 1234 ms with 42 ms downtime, 70.0 MiB sent (1.09× memory) in 3 rounds")
                .endsWith("stopping agents: " + cli.sourceAddress + " stopped, " + cli.targetAddress + " stopped\n");
        assertThat(stopped).containsExactly("demo-source", "demo-target");
        StartMigrationRequest sent = (StartMigrationRequest) cli.source.requests.stream()
                .filter(StartMigrationRequest.class::isInstance).findFirst().orElseThrow();
        // Frozen on the target and kept on the source, so both digests describe the same instant.
        assertThat(sent.getLeavePausedOnTarget()).isTrue();
        assertThat(sent.getKeepSource()).isTrue();
        assertThat(sent.getTarget()).isEqualTo(cli.targetAddress.toString());
        // Pre-copy that converges within the caps, with post-copy rather than an abort if it cannot.
        assertThat(sent.getMode()).isEqualTo(dev.pagehop.proto.types.v1.MigrationMode.MIGRATION_MODE_HYBRID);
        assertThat(sent.getPolicy().getPostcopyAfterRounds()).as("no forced post-copy").isZero();
        assertThat(sent.getPolicy().getMaxAmplification()).as("the default 3 x cap").isZero();
        SpawnRequest spawn = (SpawnRequest) cli.source.requests.stream().filter(SpawnRequest.class::isInstance)
                .findFirst().orElseThrow();
        assertThat(spawn.getWriteRateBytesPerSec()).isEqualTo(128L << 10);
    }

    @Test
    void aDemoThatReachesACapFinishesInPostcopyAndSaysSo() {
        cli.source.outcome = q -> {
            MigrationInfo pc = Migrations.postcopy("", q.getPid(), q.getTarget());
            return pc.toBuilder().setMode(q.getMode()).setStats(pc.getStats().toBuilder()
                    .setLastDecision(dev.pagehop.proto.control.v1.Decision.DECISION_POSTCOPY)
                    .setLastDecisionReason("AMPLIFICATION: sent 201326592 bytes, 3.00 x the memory size 67108864, cap 3.00 x"))
                    .build();
        };
        CliHarness.Result r = cli.run("demo", "--progress", "none");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("→ identical").containsPattern(
                "pagehop demo: OK — pid 1 moved in 1234 ms with 42 ms downtime, 70\\.0 MiB sent \\(1\\.09× memory\\) in 3 rounds, "
                        + "then post-copy \\(AMPLIFICATION\\)\n");
    }

    @Test
    void precopyCanStillBeAskedFor() {
        CliHarness.Result r = cli.run("demo", "--progress", "none", "--mode", "precopy", "--write-rate", "16MiB/s");
        assertThat(r.exitCode()).as(r.err()).isZero();
        StartMigrationRequest sent = (StartMigrationRequest) cli.source.requests.stream()
                .filter(StartMigrationRequest.class::isInstance).findFirst().orElseThrow();
        assertThat(sent.getMode()).isEqualTo(dev.pagehop.proto.types.v1.MigrationMode.MIGRATION_MODE_PRECOPY);
        assertThat(r.out()).contains("writing 16.0 MiB/s").contains("(precopy, uffd-wp-async").doesNotContain("then post-copy");
    }

    @Test
    void aDifferentDigestOnTheTargetFailsVerification() {
        cli.target.digests.put(7, ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9}));
        CliHarness.Result r = cli.run("demo", "--progress", "none");
        assertThat(r.exitCode()).isEqualTo(ExitCode.VERIFY_FAILED.code());
        assertThat(r.out()).contains("→ DIFFERENT");
        assertThat(r.err().strip()).isEqualTo("pagehop: demo: memory on the target (digest 0102030405060708) differs from the "
                + "source at freeze (digest 3f2a117e55010203)");
        assertThat(stopped).containsExactly("demo-source", "demo-target");
    }

    @Test
    void aFailedSelfCheckOnTheTargetFailsVerification() {
        cli.target.integrityFailure = "key 9 checksum mismatch";
        CliHarness.Result r = cli.run("demo", "--progress", "none");
        assertThat(r.exitCode()).isEqualTo(ExitCode.VERIFY_FAILED.code());
        assertThat(r.err()).contains("self-check failed on the target: key 9 checksum mismatch");
    }

    @Test
    void anAgentThatCannotStartIsReportedAndTheOtherStopped() {
        AgentLauncher ok = cli.launcher;
        cli.launcher = (role, name) -> {
            if (role == AgentLauncher.Role.SOURCE) {
                throw new IOException("source agent demo-source exited with code 2 before listening; last output: "
                        + "Unknown option: '--bogus'");
            }
            return ok.start(role, name);
        };
        CliHarness.Result r = cli.run("demo");
        assertThat(r.exitCode()).isEqualTo(ExitCode.UNREACHABLE.code());
        assertThat(r.err().strip()).isEqualTo("pagehop: demo: could not start the source agent: source agent demo-source exited "
                + "with code 2 before listening; last output: Unknown option: '--bogus'");
        assertThat(stopped).containsExactly("demo-target");
    }

    @Test
    void aFailedMigrationExitsWithItsCodeAndStillStopsTheAgents() {
        cli.source.outcome = q -> Migrations.ended(Migrations.completed("", 1, q.getTarget()),
                dev.pagehop.proto.types.v1.SourcePhase.SOURCE_PHASE_FAILED, "overall timeout of 300000 ms reached in round 30",
                dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_TIMED_OUT);
        CliHarness.Result r = cli.run("demo", "--progress", "plain");
        assertThat(r.exitCode()).isEqualTo(ExitCode.TIMED_OUT.code());
        assertThat(r.out()).doesNotContain("verify:");
        assertThat(stopped).containsExactly("demo-source", "demo-target");
    }
}
