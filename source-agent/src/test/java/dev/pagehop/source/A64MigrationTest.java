package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.abort;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.ProcessState;
import dev.pagehop.proto.control.v1.Decision;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import dev.pagehop.syscall.ElfWorkload;
import dev.pagehop.syscall.GuestClock;
import dev.pagehop.syscall.GuestOutcome;
import dev.pagehop.syscall.LinuxGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Real arm64 programs migrated mid-run: an AArch64 ELF (static glibc) runs under the
 * interpreter on the source agent, is migrated pre-copy, post-copy or hybrid while it prints and
 * dirties memory (the threads program with its pthreads as process threads, some of them
 * waiting on futexes), and finishes on the target with exactly the output it prints when run
 * alone.
 */
class A64MigrationTest {
    private static Path programs;

    @BeforeAll
    static void buildPrograms() throws Exception {
        Path script = Paths.get("../common/src/test/a64/build.sh").toAbsolutePath().normalize();
        Path out = Paths.get("target/a64-programs").toAbsolutePath();
        Process p = new ProcessBuilder(script.toString(), out.toString()).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("building the A64 programs took over 5 minutes: " + text);
        }
        if (p.exitValue() == 3) {
            String why = "*** A64 migration tests NOT RUN: " + text.trim() + " (.ci/setup-test-host installs it) ***";
            System.err.println(why);
            abort(why);
        }
        assertThat(p.exitValue()).as(text).isZero();
        programs = out;
    }

    /** What the program prints when nothing interrupts it. */
    static String standalone(String program, String[] argv) throws Exception {
        LinuxGuest g = LinuxGuest.start(MemoryManager.create(MmConfig.arm64(Granule.K4)),
                Files.readAllBytes(programs.resolve(program)), Arrays.asList(argv), List.of(), GuestClock.SYSTEM, 1);
        assertThat(g.runToEnd(Long.MAX_VALUE)).isEqualTo(GuestOutcome.exited(0));
        return g.stdoutText();
    }

    @ParameterizedTest(name = "{0} {1} with {3}")
    @CsvSource({
        "dirtier, dirtier+4+150, round 1, TRACKER_UFFD_WP_ASYNC",
        "dirtier, dirtier+4+150, round 1, TRACKER_SOFT_DIRTY",
        "dirtier, dirtier+4+150, round 1, TRACKER_UFFD_WP_SYNC",
        "hashtable, hashtable+60000, steps 300000, TRACKER_UFFD_WP_ASYNC",
        "threads, threads+4+400000, steps 300000, TRACKER_UFFD_WP_ASYNC",
        "threads, threads+4+400000, steps 300000, TRACKER_SOFT_DIRTY",
        "threads, threads+4+400000, steps 300000, TRACKER_UFFD_WP_SYNC",
    })
    void programMigratedMidRunPrintsWhatItPrintsAlone(String program, String argv, String startAfter, Tracker tracker)
            throws Exception {
        String expected = standalone(program, argv.split("\\+"));
        try (InProcessAgents agents = new InProcessAgents()) {
            EmulatedProcess src = spawnAndAwait(agents, program, argv, startAfter, tracker);
            MigrationInfo started = agents.stub.startMigration(StartMigrationRequest.newBuilder()
                    .setPid(src.pid()).setTarget(agents.targetName)
                    .setMode(MigrationMode.MIGRATION_MODE_PRECOPY).setTracker(tracker)
                    .setPolicy(MigrationPolicy.newBuilder().setChunkBytes(256 * 1024))
                    .setLeavePausedOnTarget(true).setKeepSource(true).build());
            MigrationInfo end = agents.awaitEnd(started.getMigrationId());
            assertThat(end.getSourcePhase()).as(end.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
            assertThat(end.getStats().getSourceDigest()).isEqualTo(end.getStats().getTargetDigest());

            EmulatedProcess dst = agents.target.receivedProcess(end.getPeerPid());
            InProcessAgents.assertSameMemory(src.mm(), dst.mm());
            InProcessAgents.assertSameCpu(src, dst);
            assertThat(dst.threads()).hasSameSizeAs(src.threads());
            String printedOnSource = ElfWorkload.console(src.mm());
            assertThat(ElfWorkload.outcome(src.mm())).as("migrated mid-run, after: %s", printedOnSource).isNull();
            assertThat(expected).startsWith(printedOnSource);

            dst.thaw();
            assertFinishesWith(dst, expected);
        }
    }

    /**
     * Post-copy and hybrid (one pre-copy round first): the target resumes at once with pages
     * still on the source, faults them in while the background pull runs, and finishes with the
     * standalone output.
     */
    @ParameterizedTest(name = "{0} {1} {4} with {3}")
    @CsvSource({
        "dirtier, dirtier+4+150, round 1, TRACKER_UFFD_WP_ASYNC, MIGRATION_MODE_POSTCOPY",
        "dirtier, dirtier+4+150, round 1, TRACKER_UFFD_WP_ASYNC, MIGRATION_MODE_HYBRID",
        "dirtier, dirtier+4+150, round 1, TRACKER_SOFT_DIRTY, MIGRATION_MODE_HYBRID",
        "dirtier, dirtier+4+150, round 1, TRACKER_UFFD_WP_SYNC, MIGRATION_MODE_HYBRID",
        "hashtable, hashtable+60000, steps 300000, TRACKER_UFFD_WP_ASYNC, MIGRATION_MODE_POSTCOPY",
        "threads, threads+4+400000, steps 300000, TRACKER_UFFD_WP_ASYNC, MIGRATION_MODE_POSTCOPY",
    })
    void programMigratedPostcopyMidRunPrintsWhatItPrintsAlone(String program, String argv, String startAfter,
            Tracker tracker, MigrationMode mode) throws Exception {
        String expected = standalone(program, argv.split("\\+"));
        try (InProcessAgents agents = new InProcessAgents()) {
            EmulatedProcess src = spawnAndAwait(agents, program, argv, startAfter, tracker);
            MigrationInfo started = agents.stub.startMigration(StartMigrationRequest.newBuilder()
                    .setPid(src.pid()).setTarget(agents.targetName).setMode(mode).setTracker(tracker)
                    // Hybrid goes post-copy after its pre-copy round only if that round did not
                    // converge: a 1 ms downtime limit and dirtier's MiBs of dirty pages per round
                    // make that the usual case, not a certainty (hashtable and threads dirty less,
                    // so they run pure post-copy, which switches over right after the layout).
                    .setPolicy(MigrationPolicy.newBuilder().setChunkBytes(256 * 1024).setPostcopyAfterRounds(1)
                            .setDowntimeLimitMs(1).setStopPages(1))
                    .setKeepSource(true).build());
            MigrationInfo end = agents.awaitEnd(started.getMigrationId());
            assertThat(end.getSourcePhase()).as(end.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
            if (mode == MigrationMode.MIGRATION_MODE_POSTCOPY) {
                assertThat(end.getStats().getLastDecision()).as(end.getStats().getLastDecisionReason())
                        .isEqualTo(Decision.DECISION_POSTCOPY);
            } else {
                // Post-copy after round 1 wins over convergence, but a round that left nothing
                // dirty at all (the sync tracker slows the writer) switches over: nothing to fetch.
                assertThat(end.getStats().getLastDecision()).as(end.getStats().getLastDecisionReason())
                        .isIn(Decision.DECISION_POSTCOPY, Decision.DECISION_SWITCHOVER);
            }
            assertThat(ElfWorkload.outcome(src.mm())).as("migrated mid-run, after: %s", ElfWorkload.console(src.mm()))
                    .isNull();
            assertThat(expected).startsWith(ElfWorkload.console(src.mm()));
            EmulatedProcess dst = agents.target.receivedProcess(end.getPeerPid());
            assertFinishesWith(dst, expected);
        }
    }

    private static EmulatedProcess spawnAndAwait(InProcessAgents agents, String program, String argv, String startAfter,
            Tracker tracker) {
        ProcessInfo info = agents.stub.spawn(SpawnRequest.newBuilder().setWorkload(ElfWorkload.KIND)
                .putParameters("elf", programs.resolve(program).toString()).putParameters("argv", argv)
                .setGranule(dev.pagehop.proto.types.v1.Granule.GRANULE_4K).setThreads(1).setSeed(3)
                .setSoftDirty(tracker == Tracker.TRACKER_SOFT_DIRTY).build());
        EmulatedProcess src = agents.source.state().requireProcess(info.getPid()).process;
        // Start once the program is visibly under way: a line it printed, or a step count.
        long steps = startAfter.startsWith("steps ") ? Long.parseLong(startAfter.substring(6)) : -1;
        await().atMost(Duration.ofSeconds(120)).until(() -> src.state() != ProcessState.RUNNING
                || (steps < 0 ? ElfWorkload.console(src.mm()).contains(startAfter) : src.stats().steps() > steps));
        assertThat(src.state()).isEqualTo(ProcessState.RUNNING);
        return src;
    }

    private static void assertFinishesWith(EmulatedProcess dst, String expected) {
        await().atMost(Duration.ofSeconds(300)).until(() -> ElfWorkload.outcome(dst.mm()) != null
                || dst.stopReason().isPresent());
        assertThat(dst.stopReason()).isEmpty();
        assertThat(ElfWorkload.outcome(dst.mm())).isEqualTo(GuestOutcome.exited(0));
        assertThat(ElfWorkload.console(dst.mm())).isEqualTo(expected);
        dst.freeze();
    }
}
