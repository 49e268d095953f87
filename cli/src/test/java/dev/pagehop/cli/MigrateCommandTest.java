package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.cli.output.Json;
import dev.pagehop.proto.control.v1.FailureKind;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.ProcessState;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.types.v1.AutoConverge;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.NoConvergenceAction;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import io.grpc.Status;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** migrate: the request it sends, progress and summary, and the exit code of every way a migration ends. */
class MigrateCommandTest {
    CliHarness cli;

    @BeforeEach
    void start() throws Exception {
        cli = new CliHarness();
        cli.source.addProcess("kv", 64L << 20, ProcessState.PROCESS_STATE_RUNNING);
    }

    @AfterEach
    void stop() throws Exception {
        cli.close();
    }

    private CliHarness.Result migrate(String... extra) {
        String[] args = new String[extra.length + 4];
        args[0] = "migrate";
        args[1] = "1";
        args[2] = "--target";
        args[3] = cli.targetAddress.toString();
        System.arraycopy(extra, 0, args, 4, extra.length);
        return cli.onSource(args);
    }

    @Test
    void completedMigrationShowsPlainProgressThenRoundsAndHeadlineFigures() {
        CliHarness.Result r = migrate();
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        String out = r.out();
        // Not a terminal: plain lines, no carriage returns or escape sequences.
        assertThat(out).doesNotContain("\r").doesNotContain("\033[");
        assertThat(out).contains("watching migration m-1: pid 1 → " + cli.targetAddress + " (precopy, uffd-wp-async, 64.0 MiB)")
                .contains("round 0  50%  remaining 32.0 MiB  sent 32.0 MiB  rate 400 MiB/s  dirty 12.0 MiB/s")
                .contains("ETA ").contains("exp. downtime 80 ms")
                .contains("round 1 done in 200.0 ms: 2048 pages + 0 zero")
                .contains("phase stop-and-copy")
                .contains("round 2 (final) done")
                .contains("migration m-1 completed");
        // The per-round table and the METRICS.md headline figures.
        assertThat(out).containsPattern("ROUND\\s+TIME\\s+PAGES\\s+ZERO\\s+SENT\\s+DIRTY AFTER").contains("2 final")
                .contains("switchover: 1.0 MiB pending <= 123 MiB (bandwidth x 300 ms)");
        assertThat(out).containsPattern("Downtime\\s+42 ms\\s+expected 38 ms, limit 300 ms; freeze 90.0 µs, final round 20.0 ms, state capture 5.0 ms")
                .containsPattern("Total migration time\\s+1234 ms\\s+setup 12 ms")
                .containsPattern("Data transferred\\s+70.0 MiB\\s+pre-copy 68.0 MiB, downtime 2.0 MiB, post-copy 0 B")
                .containsPattern("Amplification\\s+1.09×")
                .containsPattern("Effective throughput\\s+475.3 Mbit/s")
                .containsPattern("Dirty page rate\\s+8.0 MiB/s")
                .containsPattern("Rounds\\s+3\\s+last decision switchover: final")
                .containsPattern("Remaining\\s+0 B")
                .containsPattern("Post-copy faults\\s+none")
                .containsPattern("Tracker cost\\s+19000 traps, 3 collects\\s+uffd-wp-async: 300 ns per trap")
                .containsPattern("Memory digest\\s+match");
    }

    @Test
    void sendsModeTrackerAndEveryPolicyFlag() {
        CliHarness.Result r = migrate("--mode", "hybrid", "--tracker", "soft-dirty", "--downtime-limit", "50ms",
                "--bandwidth", "100MiB/s", "--max-rounds", "8", "--stop-pages", "50", "--growth-stop", "15",
                "--no-growth-rule", "--auto-converge", "abort", "--throttle", "30,5,90", "--on-no-convergence", "postcopy",
                "--progress-timeout", "20s", "--timeout", "2m", "--max-amplification", "2.5", "--postcopy-after", "3",
                "--chunk-size", "1MiB", "--chunks-in-flight", "4", "--skip-digest", "--leave-paused", "--keep-source", "--progress", "none");
        assertThat(r.exitCode()).as(r.err()).isZero();
        StartMigrationRequest sent = cli.source.requests.stream().filter(StartMigrationRequest.class::isInstance)
                .map(StartMigrationRequest.class::cast).findFirst().orElseThrow();
        assertThat(sent.getPid()).isEqualTo(1);
        assertThat(sent.getTarget()).isEqualTo(cli.targetAddress.toString());
        assertThat(sent.getMode()).isEqualTo(MigrationMode.MIGRATION_MODE_HYBRID);
        assertThat(sent.getTracker()).isEqualTo(Tracker.TRACKER_SOFT_DIRTY);
        assertThat(sent.getLeavePausedOnTarget()).isTrue();
        assertThat(sent.getKeepSource()).isTrue();
        var p = sent.getPolicy();
        assertThat(p.getDowntimeLimitMs()).isEqualTo(50);
        assertThat(p.getMaxBandwidthBytesPerSec()).isEqualTo(100L << 20);
        assertThat(p.getMaxRounds()).isEqualTo(8);
        assertThat(p.getStopPages()).isEqualTo(50);
        assertThat(p.getGrowthStopPercent()).isEqualTo(15);
        assertThat(p.getDisableGrowthRule()).isTrue();
        assertThat(p.getAutoConverge()).isEqualTo(AutoConverge.AUTO_CONVERGE_ABORT);
        assertThat(p.getThrottleInitialPercent()).isEqualTo(30);
        assertThat(p.getThrottleIncrementPercent()).isEqualTo(5);
        assertThat(p.getThrottleMaxPercent()).isEqualTo(90);
        assertThat(p.getNoConvergenceAction()).isEqualTo(NoConvergenceAction.NO_CONVERGENCE_ACTION_POSTCOPY);
        assertThat(p.getProgressTimeoutMs()).isEqualTo(20_000);
        assertThat(p.getOverallTimeoutMs()).isEqualTo(120_000);
        assertThat(p.getMaxAmplification()).isEqualTo(2.5);
        assertThat(p.getPostcopyAfterRounds()).isEqualTo(3);
        assertThat(p.getChunkBytes()).isEqualTo(1 << 20);
        assertThat(p.getMaxChunksInFlight()).isEqualTo(4);
        assertThat(p.getSkipMemoryDigest()).isTrue();
        // --progress none: no progress lines, only the summary.
        assertThat(r.out()).doesNotContain("watching migration").contains("Downtime");
    }

    @Test
    void policyFlagsLeftOutStayZeroSoTheAgentAppliesItsDefaults() {
        migrate("--progress", "none");
        StartMigrationRequest sent = (StartMigrationRequest) cli.source.requests.stream()
                .filter(StartMigrationRequest.class::isInstance).findFirst().orElseThrow();
        assertThat(sent.getPolicy().getDowntimeLimitMs()).isZero();
        assertThat(sent.getPolicy().getMaxRounds()).isZero();
        assertThat(sent.getMode()).isEqualTo(MigrationMode.MIGRATION_MODE_PRECOPY);
        assertThat(sent.getTracker()).isEqualTo(Tracker.TRACKER_UFFD_WP_ASYNC);
    }

    @Test
    void liveProgressOnATerminalRewritesOneLine() {
        cli.terminal = new Terminal(true, 200);
        CliHarness.Result r = migrate();
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("\r\033[2K[##########..........] round 0  50%  remaining 32.0 MiB")
                .contains("\r\033[2Kround 0 done in 100.0 ms");
    }

    @Test
    void jsonOutputIsTheFinalRecordAlone() {
        CliHarness.Result r = migrate("-o", "json");
        assertThat(r.exitCode()).isZero();
        MigrationInfo m = Json.parse(r.out(), MigrationInfo.newBuilder()).build();
        assertThat(m.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
        assertThat(m.getStats().getPerRoundCount()).isEqualTo(3);
        assertThat(r.out()).contains("\"rounds\": 3").contains("\"downtimeMs\": \"42\"");
    }

    @Test
    void jsonWithExplicitProgressSendsProgressToStderr() {
        CliHarness.Result r = migrate("-o", "json", "--progress", "plain");
        assertThat(r.exitCode()).isZero();
        assertThat(Json.parse(r.out(), MigrationInfo.newBuilder()).getMigrationId()).isEqualTo("m-1");
        assertThat(r.err()).contains("watching migration m-1").contains("migration m-1 completed");
    }

    @Test
    void detachPrintsTheIdAndDoesNotWatch() {
        CliHarness.Result r = migrate("--detach");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("started migration m-1: pid 1 → " + cli.targetAddress + " (precopy, uffd-wp-async)\n");
        assertThat(cli.source.requests).noneMatch(q -> q instanceof dev.pagehop.proto.control.v1.WatchMigrationRequest);
    }

    @Test
    void refusalByTheTargetExitsRefusedWithTheTargetsReason() {
        cli.source.startStatus = Status.FAILED_PRECONDITION.withDescription("target " + cli.targetAddress
                + " refused prepare: granule 64K not supported (supports 4K, 16K)");
        CliHarness.Result r = migrate();
        assertThat(r.exitCode()).isEqualTo(ExitCode.REFUSED.code());
        assertThat(r.err().strip()).isEqualTo("pagehop: source agent at " + cli.sourceAddress + " refused StartMigration: target "
                + cli.targetAddress + " refused prepare: granule 64K not supported (supports 4K, 16K)");
        assertThat(r.err().lines()).hasSize(1);
    }

    @Test
    void refusalReportedAsAFailedMigrationAlsoExitsRefused() {
        cli.source.outcome = q -> Migrations.ended(Migrations.completed("", 1, q.getTarget()), SourcePhase.SOURCE_PHASE_FAILED,
                "prepare refused by target: address space of 9.0 GiB exceeds the limit of 8.0 GiB",
                FailureKind.FAILURE_KIND_REFUSED_BY_TARGET);
        CliHarness.Result r = migrate();
        assertThat(r.exitCode()).isEqualTo(ExitCode.REFUSED.code());
        assertThat(r.err().strip()).isEqualTo("pagehop: migration m-1 failed: prepare refused by target: address space of "
                + "9.0 GiB exceeds the limit of 8.0 GiB");
        assertThat(r.out()).contains("reason: prepare refused by target");
    }

    @Test
    void timeoutExitsTimedOut() {
        cli.source.outcome = q -> Migrations.ended(Migrations.completed("", 1, q.getTarget()), SourcePhase.SOURCE_PHASE_FAILED,
                "progress timeout: nothing transferred for 150000 ms in round 4", FailureKind.FAILURE_KIND_TIMED_OUT);
        CliHarness.Result r = migrate();
        assertThat(r.exitCode()).isEqualTo(ExitCode.TIMED_OUT.code());
        assertThat(r.err()).contains("migration m-1 failed: progress timeout: nothing transferred for 150000 ms in round 4");
    }

    @Test
    void cancelledExitsCancelled() {
        cli.source.outcome = q -> Migrations.ended(Migrations.completed("", 1, q.getTarget()),
                SourcePhase.SOURCE_PHASE_CANCELLED, "cancelled by the user in round 1");
        CliHarness.Result r = migrate();
        assertThat(r.exitCode()).isEqualTo(ExitCode.CANCELLED.code());
        assertThat(r.err()).contains("migration m-1 cancelled: cancelled by the user in round 1");
    }

    @Test
    void noConvergenceExitsNotConverged() {
        cli.source.outcome = q -> Migrations.ended(Migrations.completed("", 1, q.getTarget()), SourcePhase.SOURCE_PHASE_FAILED,
                "did not converge: dirty set grew 35 % in round 3 (limit 10 %)", FailureKind.FAILURE_KIND_DID_NOT_CONVERGE);
        CliHarness.Result r = migrate();
        assertThat(r.exitCode()).isEqualTo(ExitCode.NOT_CONVERGED.code()).isEqualTo(9);
        assertThat(r.err()).contains("did not converge: dirty set grew 35 % in round 3");
        assertThat(r.out()).containsPattern("Downtime\\s+-\\s+reported on completion only");
    }

    @Test
    void aFailureOfTheTargetExitsFailed() {
        cli.source.outcome = q -> Migrations.ended(Migrations.completed("", 1, q.getTarget()), SourcePhase.SOURCE_PHASE_FAILED,
                "bulk stream failed: DATA_LOSS: missing sequence 17", FailureKind.FAILURE_KIND_TARGET_ERROR);
        CliHarness.Result r = migrate();
        assertThat(r.exitCode()).isEqualTo(ExitCode.FAILED.code());
        assertThat(r.err()).contains("missing sequence 17");
    }

    @Test
    void aCommitOfUnknownOutcomeExitsNeedsAttention() {
        cli.source.outcome = q -> Migrations.ended(Migrations.completed("", 1, q.getTarget()), SourcePhase.SOURCE_PHASE_FAILED,
                "commit outcome unknown, target unreachable; the source process 1 stays frozen", FailureKind.FAILURE_KIND_COMMIT_UNKNOWN);
        CliHarness.Result r = migrate();
        assertThat(r.exitCode()).isEqualTo(ExitCode.NEEDS_ATTENTION.code()).isEqualTo(10);
    }

    @Test
    void aTargetTheSourceCannotReachExitsUnreachable() {
        cli.source.outcome = q -> Migrations.ended(Migrations.completed("", 1, q.getTarget()), SourcePhase.SOURCE_PHASE_FAILED,
                "target 127.0.0.1:1 refused Prepare: UNAVAILABLE: io exception", FailureKind.FAILURE_KIND_TARGET_UNREACHABLE);
        CliHarness.Result r = migrate();
        assertThat(r.exitCode()).isEqualTo(ExitCode.UNREACHABLE.code());
        assertThat(r.err()).contains("target 127.0.0.1:1 refused Prepare: UNAVAILABLE");
    }

    @Test
    void unknownProcessExitsNotFound() {
        CliHarness.Result r = cli.onSource("migrate", "99", "--target", cli.targetAddress.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCode.NOT_FOUND.code());
        assertThat(r.err().strip()).isEqualTo("pagehop: source agent at " + cli.sourceAddress + ": no process with pid 99");
    }

    @Test
    void theProcessMayBeGivenAsPidOptionAsTheKubernetesJobDoes() {
        CliHarness.Result r = cli.run("migrate", "--source", cli.sourceAddress.toString(), "--target",
                cli.targetAddress.toString(), "--pid", "1", "--progress", "none");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(((StartMigrationRequest) cli.source.requests.stream().filter(StartMigrationRequest.class::isInstance)
                .findFirst().orElseThrow()).getPid()).isEqualTo(1);
        assertThat(cli.onSource("migrate", "--target", "t:1").err().strip())
                .isEqualTo("pagehop: migrate needs the process: PID or --pid PID");
        CliHarness.Result both = cli.onSource("migrate", "1", "--pid", "2", "--target", "t:1");
        assertThat(both.exitCode()).isEqualTo(ExitCode.USAGE.code());
        assertThat(both.err()).contains("got the process twice (PID 1 and --pid 2)");
    }

    @Test
    void missingTargetIsAUsageError() {
        CliHarness.Result r = cli.onSource("migrate", "1");
        assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
        assertThat(r.err()).contains("Missing required option: '--target=HOST:PORT'").contains("pagehop migrate --help");
    }

    @Test
    void badFlagValuesNameTheValue() {
        assertThat(migrate("--tracker", "dirty-bit").err()).contains("tracker 'dirty-bit' is not one of uffd-wp-async, soft-dirty, uffd-wp-sync");
        assertThat(migrate("--downtime-limit", "300").err()).contains("duration '300' needs a unit");
        CliHarness.Result r = migrate("--throttle", "10,20");
        assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
        assertThat(r.err()).contains("--throttle takes INITIAL,STEP,MAX (three percents), got 2 values");
        assertThat(migrate("--max-rounds", "0").err()).contains("--max-rounds 0 must be positive");
        assertThat(cli.source.requests).noneMatch(StartMigrationRequest.class::isInstance);
    }

    @Test
    void unreachableInProcessAgentExitsUnreachableNamingHostAndPort() {
        CliHarness.Result r = cli.run("migrate", "1", "--agent", "nowhere:7070", "--target", cli.targetAddress.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCode.UNREACHABLE.code());
        assertThat(r.err()).startsWith("pagehop: cannot reach source agent at nowhere:7070");
    }

    @Test
    void unreachableTcpAgentExitsUnreachableNamingHostAndPort() throws IOException {
        int port;
        // A port that was just free on loopback: nothing listens there now.
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        CliHarness.Result r = runOverTcp("ps", "--agent", "127.0.0.1:" + port);
        assertThat(r.exitCode()).isEqualTo(ExitCode.UNREACHABLE.code());
        assertThat(r.err().strip()).isEqualTo("pagehop: cannot reach agent at 127.0.0.1:" + port + ": connection refused");
    }

    private static CliHarness.Result runOverTcp(String... args) {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        var cl = Pagehop.commandLine(new CliContext(dev.pagehop.cli.agent.AgentChannels.tcp(), new Terminal(false, 80), null));
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        return new CliHarness.Result(cl.execute(args), out.toString(), err.toString());
    }
}
