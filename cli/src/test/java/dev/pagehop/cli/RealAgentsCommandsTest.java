package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.cli.output.Json;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.source.RealAgents;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands against the real agents (in-process transport): spawn, migrate, status, stats, report, inspect. */
class RealAgentsCommandsTest {
    private static final AtomicInteger SEQ = new AtomicInteger();
    String source;
    String target;
    RealAgents agents;
    @TempDir
    Path dir;

    @BeforeEach
    void start() throws Exception {
        int n = SEQ.incrementAndGet();
        source = "real-source-" + n + ":7070";
        target = "real-target-" + n + ":7071";
        agents = new RealAgents(source, target);
    }

    @AfterEach
    void stop() throws Exception {
        agents.close();
    }

    private CliHarness.Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Pagehop.commandLine(new CliContext(a -> InProcessChannelBuilder.forName(a.toString()).build(),
                new Terminal(false, 160), null));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new CliHarness.Result(cl.execute(args), out.toString(), err.toString());
    }

    @Test
    void spawnMigrateVerifyAndReport() throws Exception {
        CliHarness.Result spawned = run("spawn", "-a", source, "-w", "zipf", "-m", "4MiB", "--write-rate", "1MiB/s");
        assertThat(spawned.exitCode()).as(spawned.err()).isZero();
        Matcher m = Pattern.compile("spawned pid (\\d+)").matcher(spawned.out());
        assertThat(m.find()).isTrue();
        String pid = m.group(1);

        CliHarness.Result migrated = run("migrate", pid, "-a", source, "-t", target, "--leave-paused", "--keep-source");
        assertThat(migrated.exitCode()).as(migrated.out() + migrated.err()).isZero();
        assertThat(migrated.out()).contains("watching migration").contains("(final) done").contains(" completed")
                .containsPattern("Memory digest\\s+match");

        MigrationInfo info = Json.parse(run("status", "-a", source, "-o", "json").out(),
                dev.pagehop.proto.control.v1.ListMigrationsResponse.newBuilder()).getMigrations(0);
        assertThat(info.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
        String id = info.getMigrationId();

        // The process on the target, frozen at switchover, has the source's memory at freeze.
        CliHarness.Result onTarget = run("inspect", Integer.toString(info.getPeerPid()), "-a", target);
        CliHarness.Result onSource = run("inspect", pid, "-a", source);
        assertThat(onTarget.exitCode()).as(onTarget.err()).isZero();
        String digest = onSource.out().lines().filter(l -> l.startsWith("memory digest:")).findFirst().orElseThrow();
        assertThat(onTarget.out()).contains(digest);
        // A received process shows the memory it maps, not the 0 B of a size only the source knew.
        dev.pagehop.proto.control.v1.ProcessInfo received = Json.parse(run("ps", "-a", target, "-o", "json").out(),
                dev.pagehop.proto.control.v1.ListProcessesResponse.newBuilder()).getProcesses(0);
        assertThat(received.getPid()).isEqualTo(info.getPeerPid());
        assertThat(received.getMemoryBytes()).isEqualTo(received.getMappedBytes()).isGreaterThanOrEqualTo(4L << 20);
        String row = run("ps", "-a", target).out().lines().filter(l -> l.strip().startsWith(info.getPeerPid() + " "))
                .findFirst().orElseThrow();
        assertThat(row).contains(dev.pagehop.cli.output.Units.bytes(received.getMemoryBytes())).doesNotContainPattern("(^|\\s)0 B(\\s|$)");
        // RSS comes from the memory manager: the received process holds its pages, within what it maps.
        for (String agent : new String[] {source, target}) {
            for (dev.pagehop.proto.control.v1.ProcessInfo p : Json.parse(run("ps", "-a", agent, "-o", "json").out(),
                    dev.pagehop.proto.control.v1.ListProcessesResponse.newBuilder()).getProcessesList()) {
                assertThat(p.getResidentBytes()).as("pid %d on %s", p.getPid(), agent).isPositive()
                        .isLessThanOrEqualTo(p.getMappedBytes());
            }
        }

        assertThat(run("stats", "-a", source).out()).containsPattern("Completed \\(converged\\)\\s+1 \\(100% of ended\\)");
        assertThat(run("watch", id, "-a", source).exitCode()).isZero();

        Path html = dir.resolve("report.html");
        CliHarness.Result report = run("report", id, "-a", source, "-f", html.toString());
        assertThat(report.exitCode()).as(report.err()).isZero();
        assertThat(ReportCommandTest.charts(Files.readString(html))).hasSize(3);

        assertThat(run("cancel", id, "-a", source).exitCode()).isEqualTo(ExitCode.REFUSED.code());
    }

    @Test
    void detachThenCancelLeavesTheSourceRunning() {
        CliHarness.Result spawned = run("spawn", "-a", source, "-w", "kv", "-m", "8MiB");
        Matcher m = Pattern.compile("spawned pid (\\d+)").matcher(spawned.out());
        assertThat(m.find()).as(spawned.out() + spawned.err()).isTrue();
        String pid = m.group(1);
        // 8 MiB at 64 KiB/s: round 0 alone takes two minutes, so the cancel lands before switchover.
        CliHarness.Result started = run("migrate", pid, "-a", source, "-t", target, "--bandwidth", "64KiB/s", "--detach",
                "-o", "json");
        assertThat(started.exitCode()).as(started.err()).isZero();
        String id = Json.parse(started.out(), MigrationInfo.newBuilder()).getMigrationId();

        CliHarness.Result cancelled = run("cancel", id, "-a", source);
        assertThat(cancelled.exitCode()).as(cancelled.err()).isZero();
        CliHarness.Result watched = run("watch", id, "-a", source);
        assertThat(watched.exitCode()).as(watched.out() + watched.err()).isEqualTo(ExitCode.CANCELLED.code());
        assertThat(watched.err()).startsWith("pagehop: migration " + id + " cancelled");
        assertThat(run("ps", "-a", source).out()).contains(pid).contains("running");
        assertThat(run("report", id, "-a", source, "-f", dir.resolve("c.html").toString()).exitCode()).isZero();
    }

    /**
     * A post-copy whose page link is cut (and stays cut) pauses; 'recover' reconnects it and
     * follows the migration to its end, and the process on the target passes its own check.
     */
    @Test
    void recoverResumesARealPausedPostcopy() {
        CliHarness.Result spawned = run("spawn", "-a", source, "-w", "kv", "-m", "1MiB");
        Matcher m = Pattern.compile("spawned pid (\\d+)").matcher(spawned.out());
        assertThat(m.find()).as(spawned.out() + spawned.err()).isTrue();
        agents.sourceFaults.arm(dev.pagehop.migrate.FaultPoint.CUT_PAGE_LINK_AFTER_PAGES, 32);
        CliHarness.Result started = run("migrate", m.group(1), "-a", source, "-t", target, "--mode", "postcopy",
                "--leave-paused", "--keep-source", "--detach", "-o", "json");
        assertThat(started.exitCode()).as(started.err()).isZero();
        String id = Json.parse(started.out(), MigrationInfo.newBuilder()).getMigrationId();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> Json.parse(
                run("status", id, "-a", source, "-o", "json").out(), MigrationInfo.newBuilder()).getSourcePhase()
                == SourcePhase.SOURCE_PHASE_POSTCOPY_PAUSED);

        CliHarness.Result recovered = run("recover", id, "-a", source);
        assertThat(recovered.exitCode()).as(recovered.out() + recovered.err()).isZero();
        assertThat(recovered.out()).contains(" completed");
        MigrationInfo end = Json.parse(run("status", id, "-a", source, "-o", "json").out(), MigrationInfo.newBuilder())
                .build();
        assertThat(end.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
        CliHarness.Result onTarget = run("inspect", Integer.toString(end.getPeerPid()), "-a", target, "--check");
        assertThat(onTarget.exitCode()).as(onTarget.out() + onTarget.err()).isZero();

        CliHarness.Result again = run("recover", id, "-a", source);
        assertThat(again.exitCode()).isEqualTo(ExitCode.REFUSED.code());
        assertThat(again.err()).contains(id).contains("COMPLETED");
    }

    @Test
    void theTargetsRefusalReachesTheUserWithItsReason() {
        // The in-process target admits 1 GiB; an idle process maps 2 GiB without touching it.
        CliHarness.Result spawned = run("spawn", "-a", source, "-w", "idle", "-m", "2GiB");
        Matcher m = Pattern.compile("spawned pid (\\d+)").matcher(spawned.out());
        assertThat(m.find()).as(spawned.out() + spawned.err()).isTrue();
        CliHarness.Result r = run("migrate", m.group(1), "-a", source, "-t", target);
        assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCode.REFUSED.code());
        assertThat(r.err()).startsWith("pagehop: migration ").contains("refused Prepare: RESOURCE_EXHAUSTED");
        assertThat(r.err().lines()).hasSize(1);
    }

    @Test
    void unknownProcessAndMigrationOnTheRealAgent() {
        CliHarness.Result r = run("migrate", "4242", "-a", source, "-t", target);
        assertThat(r.exitCode()).isEqualTo(ExitCode.NOT_FOUND.code());
        assertThat(r.err()).contains("4242");
        assertThat(run("status", "nope", "-a", source).exitCode()).isEqualTo(ExitCode.NOT_FOUND.code());
        assertThat(run("spawn", "-a", target).exitCode()).isEqualTo(ExitCode.REFUSED.code());
    }
}
