package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.migrate.FaultPoint;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.ProcessState;
import dev.pagehop.proto.control.v1.ListProcessesRequest;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import dev.pagehop.xfer.MemoryDigest;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The last step of a migration crosses the network like every other: a Commit that does not
 * reach the target, or whose answer does not come back, is sent again until the target answers.
 * The target resumes the process once however often Commit arrives, so the migration completes
 * with the process on the target once and the source's copy frozen; only a target unreachable for
 * the whole RPC timeout leaves the outcome unknown.
 */
class CommitRecoveryTest {

    private static MigrationInfo migrate(InProcessAgents a, int pid, MigrationMode mode) {
        MigrationInfo started = a.stub.startMigration(StartMigrationRequest.newBuilder().setPid(pid)
                .setTarget(a.targetName).setMode(mode).setTracker(Tracker.TRACKER_UFFD_WP_ASYNC)
                .setPolicy(MigrationPolicy.newBuilder().setChunkBytes(65536).setPostcopyAfterRounds(1)
                        .setDowntimeLimitMs(mode == MigrationMode.MIGRATION_MODE_PRECOPY ? 300 : 1).setStopPages(1))
                .setKeepSource(true).setLeavePausedOnTarget(true).build());
        return a.awaitEnd(started.getMigrationId());
    }

    private static ProcessInfo spawn(InProcessAgents a) {
        return a.stub.spawn(SpawnRequest.newBuilder().setWorkload("kv").setGranule(Granule.GRANULE_4K)
                .setMemoryBytes(256 * 4096).setThreads(2).setSeed(5).build());
    }

    private static void assertCompletedOnce(InProcessAgents a, MigrationInfo end, EmulatedProcess src) {
        assertThat(end.getSourcePhase()).as(end.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
        assertThat(a.targetStub.listProcesses(ListProcessesRequest.getDefaultInstance()).getProcessesList())
                .as("the target runs the process once").extracting(ProcessInfo::getPid)
                .containsExactly(end.getPeerPid());
        assertThat(src.state()).as("the source's copy never runs again").isEqualTo(ProcessState.FROZEN);
        EmulatedProcess dst = a.target.receivedProcess(end.getPeerPid());
        assertThat(MemoryDigest.hex(MemoryDigest.of(dst.mm()))).isEqualTo(MemoryDigest.hex(MemoryDigest.of(src.mm())));
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> cuts() {
        // Commits that never reach the target (source side), and commits applied whose answer is
        // lost (target side), each in pre-copy and post-copy.
        java.util.List<org.junit.jupiter.params.provider.Arguments> out = new java.util.ArrayList<>();
        for (MigrationMode mode : new MigrationMode[] {MigrationMode.MIGRATION_MODE_PRECOPY,
                MigrationMode.MIGRATION_MODE_POSTCOPY}) {
            out.add(org.junit.jupiter.params.provider.Arguments.of(mode, FaultPoint.FAIL_COMMIT_CALLS, 3));
            out.add(org.junit.jupiter.params.provider.Arguments.of(mode, FaultPoint.LOSE_COMMIT_ANSWERS, 2));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}, {1} x{2}")
    @MethodSource("cuts")
    @Timeout(60)
    void aCommitLostOnTheWayThereOrBackIsSentAgainAndAppliedOnce(MigrationMode mode, FaultPoint cut, int times)
            throws Exception {
        try (InProcessAgents a = new InProcessAgents()) {
            ProcessInfo p = spawn(a);
            EmulatedProcess src = a.source.state().requireProcess(p.getPid()).process;
            dev.pagehop.migrate.FaultInjector faults = cut == FaultPoint.FAIL_COMMIT_CALLS ? a.sourceFaults
                    : a.targetFaults;
            faults.arm(cut, times);
            MigrationInfo end = migrate(a, p.getPid(), mode);
            assertCompletedOnce(a, end, src);
            assertThat(faults.armed(cut)).as("every lost attempt was made").isFalse();
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = MigrationMode.class, names = {"MIGRATION_MODE_PRECOPY", "MIGRATION_MODE_POSTCOPY"})
    @Timeout(60)
    void aTargetUnreachableForTheWholeTimeoutLeavesTheOutcomeUnknownAndTheSourceFrozen(MigrationMode mode)
            throws Exception {
        try (InProcessAgents a = new InProcessAgents(TimeUnit.SECONDS.toNanos(20), 1_000)) {
            ProcessInfo p = spawn(a);
            EmulatedProcess src = a.source.state().requireProcess(p.getPid()).process;
            a.sourceFaults.arm(FaultPoint.FAIL_COMMIT_CALLS, Long.MAX_VALUE);
            MigrationInfo end = migrate(a, p.getPid(), mode);
            assertThat(end.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
            assertThat(end.getFailureKind()).isEqualTo(dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_COMMIT_UNKNOWN);
            assertThat(end.getFailure()).contains("commit outcome unknown", "Commit attempts", "fail-commit-calls",
                    "stays frozen");
            assertThat(src.state()).isEqualTo(ProcessState.FROZEN);
        }
    }
}
