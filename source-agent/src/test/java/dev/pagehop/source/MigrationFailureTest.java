package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pagehop.migrate.FaultPoint;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.ProcessState;
import dev.pagehop.proto.control.v1.CancelMigrationRequest;
import dev.pagehop.proto.control.v1.GetMigrationRequest;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import dev.pagehop.target.TargetAgentServer;
import dev.pagehop.migrate.FaultInjector;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessServerBuilder;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Each failure ends with a clear error, the source process running on unchanged (same pid, not
 * frozen, not throttled, its workload still consistent), nothing left on the target, and a
 * following migration succeeding (CRIU's rerun after an injected fault).
 */
@Timeout(120)
class MigrationFailureTest {

    private static ProcessInfo spawnKv(InProcessAgents a, long memoryBytes) {
        return a.stub.spawn(SpawnRequest.newBuilder().setWorkload("kv").setGranule(Granule.GRANULE_4K)
                .setMemoryBytes(memoryBytes).setThreads(2).setSeed(11).build());
    }

    private static MigrationInfo migrate(InProcessAgents a, int pid, String target, MigrationPolicy policy) {
        MigrationInfo started = a.stub.startMigration(StartMigrationRequest.newBuilder().setPid(pid).setTarget(target)
                .setMode(MigrationMode.MIGRATION_MODE_PRECOPY).setTracker(Tracker.TRACKER_UFFD_WP_ASYNC)
                .setPolicy(policy).setKeepSource(true).setLeavePausedOnTarget(true).build());
        return a.awaitEnd(started.getMigrationId());
    }

    private static MigrationPolicy small() {
        return MigrationPolicy.newBuilder().setChunkBytes(16 * 4096).setMaxChunksInFlight(4).build();
    }

    /** The source process survived: running, unthrottled, progressing, its key-value table intact. */
    private static void assertSourceRunsOn(InProcessAgents a, int pid) {
        EmulatedProcess p = a.source.state().requireProcess(pid).process;
        assertThat(p.state()).isEqualTo(ProcessState.RUNNING);
        assertThat(p.throttlePercent()).isZero();
        assertThat(a.source.state().requireProcess(pid).migrating()).isFalse();
        long steps = p.stats().steps();
        await().atMost(Duration.ofSeconds(30)).until(() -> p.stats().steps() > steps + 100);
        p.freeze();
        try {
            assertThat(p.verify().ok()).as(p.verify().toString()).isTrue();
        } finally {
            p.thaw();
        }
    }

    private static void assertRerunSucceeds(InProcessAgents a, int pid, String target) {
        MigrationInfo again = migrate(a, pid, target, small());
        assertThat(again.getSourcePhase()).as(again.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
        assertThat(again.getStats().getSourceDigest()).isEqualTo(again.getStats().getTargetDigest());
    }

    @Test
    void targetRefusingPrepareFailsWithItsReason() throws Exception {
        try (InProcessAgents a = new InProcessAgents()) {
            int pid = spawnKv(a, 256 * 1024).getPid();
            a.targetFaults.arm(FaultPoint.REFUSE_PREPARE, 0);
            MigrationInfo m = migrate(a, pid, a.targetName, small());
            assertThat(m.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
            assertThat(m.getFailure()).contains("refused Prepare", "FAILED_PRECONDITION", "refuses to prepare");
            assertThat(m.getFailureKind()).isEqualTo(dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_REFUSED_BY_TARGET);
            // Watching a migration that has already ended still yields its END event.
            assertThat(a.awaitEnd(m.getMigrationId()).getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
            assertThat(a.target.activeMigrations()).isZero();
            assertSourceRunsOn(a, pid);
            assertRerunSucceeds(a, pid, a.targetName);
        }
    }

    /**
     * A target counts what it already holds: a process it received and runs takes part of its
     * memory budget, so the next migration is refused at Prepare with the numbers, the source
     * runs on, and once the received process is gone the same migration is admitted.
     */
    @Test
    void aTargetOverItsMemoryBudgetRefusesPrepareUntilAReceivedProcessLeaves() throws Exception {
        try (InProcessAgents a = new InProcessAgents()) {
            ProcessInfo first = spawnKv(a, 1 << 20);
            ProcessInfo second = spawnKv(a, 1 << 20);
            // Room for one of them and 64 KiB more: the first fits, then what it holds does not
            // leave room for the second.
            long budget = Math.max(first.getMappedBytes(), second.getMappedBytes()) + (64 << 10);
            String name = "target-" + UUID.randomUUID();
            try (TargetAgentServer t = new TargetAgentServer(InProcessServerBuilder.forName(name),
                    new TargetAgentServer.Options("budgeted", 1L << 30, 4, new FaultInjector(), () -> { },
                            System::nanoTime, "127.0.0.1", -1, 1000, budget))) {
                MigrationInfo m1 = migrate(a, first.getPid(), name, small());
                assertThat(m1.getSourcePhase()).as(m1.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
                io.grpc.ManagedChannel tc = io.grpc.inprocess.InProcessChannelBuilder.forName(name).build();
                try {
                    var targetStub = dev.pagehop.proto.control.v1.AgentControlGrpc.newBlockingStub(tc);
                    ProcessInfo received = targetStub.listProcesses(
                            dev.pagehop.proto.control.v1.ListProcessesRequest.getDefaultInstance()).getProcesses(0);
                    assertThat(received.getResidentBytes()).as("the received process holds more than the slack")
                            .isGreaterThan(64 << 10);

                    MigrationInfo refused = migrate(a, second.getPid(), name, small());
                    assertThat(refused.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
                    assertThat(refused.getFailureKind())
                            .isEqualTo(dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_REFUSED_BY_TARGET);
                    assertThat(refused.getFailure()).contains("refused Prepare", "RESOURCE_EXHAUSTED",
                            "1 processes running here hold " + received.getResidentBytes() + " bytes resident",
                            "over its limit of " + budget + " bytes (--max-total-memory)");
                    assertSourceRunsOn(a, second.getPid());

                    targetStub.killProcess(dev.pagehop.proto.control.v1.KillProcessRequest.newBuilder()
                            .setPid(received.getPid()).build());
                    assertRerunSucceeds(a, second.getPid(), name);
                } finally {
                    tc.shutdownNow();
                }
            }
        }
    }

    @Test
    void targetKilledMidRoundFailsAndAnotherTargetThenSucceeds() throws Exception {
        try (InProcessAgents a = new InProcessAgents()) {
            int pid = spawnKv(a, 1 << 20).getPid();
            a.targetFaults.arm(FaultPoint.KILL_TARGET_AFTER_PAGES, 40);
            MigrationInfo m = migrate(a, pid, a.targetName, small());
            assertThat(m.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
            assertThat(m.getFailure()).contains("bulk stream failed", "UNAVAILABLE");
            assertThat(m.getFailureKind()).isEqualTo(dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_TARGET_UNREACHABLE);
            assertSourceRunsOn(a, pid);
            String second = "target-" + UUID.randomUUID();
            try (TargetAgentServer t2 = new TargetAgentServer(InProcessServerBuilder.forName(second),
                    new TargetAgentServer.Options("target-2", 1L << 30, 2, new FaultInjector(), () -> { }, System::nanoTime,
                            "127.0.0.1", -1, 1000))) {
                assertRerunSucceeds(a, pid, second);
            }
        }
    }

    @Test
    void connectionCutMidRoundFailsCleanly() throws Exception {
        try (InProcessAgents a = new InProcessAgents()) {
            int pid = spawnKv(a, 1 << 20).getPid();
            a.sourceFaults.arm(FaultPoint.CUT_STREAM_AFTER_CHUNKS, 3);
            MigrationInfo m = migrate(a, pid, a.targetName, small());
            assertThat(m.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
            assertThat(m.getFailure()).contains("bulk stream failed", "CANCELLED");
            assertThat(m.getFailureKind()).isEqualTo(dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_TARGET_UNREACHABLE);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.target.activeMigrations() == 0);
            assertSourceRunsOn(a, pid);
            assertRerunSucceeds(a, pid, a.targetName);
        }
    }

    @Test
    void droppedChunkIsAMissingSequenceAtTheTarget() throws Exception {
        try (InProcessAgents a = new InProcessAgents()) {
            int pid = spawnKv(a, 1 << 20).getPid();
            a.sourceFaults.arm(FaultPoint.DROP_CHUNK, 2);
            MigrationInfo m = migrate(a, pid, a.targetName, small());
            assertThat(m.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
            assertThat(m.getFailure()).contains("DATA_LOSS", "missing sequence 2", "got 3");
            assertThat(m.getFailureKind()).isEqualTo(dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_TARGET_ERROR);
            assertSourceRunsOn(a, pid);
            assertRerunSucceeds(a, pid, a.targetName);
        }
    }

    @Test
    void aChunkLostAfterItsChecksumIsCaughtByTheMemoryDigestAtSwitchover() throws Exception {
        try (InProcessAgents a = new InProcessAgents()) {
            int pid = spawnKv(a, 1 << 20).getPid();
            a.targetFaults.arm(FaultPoint.LOSE_CHUNK, 0);
            MigrationInfo m = migrate(a, pid, a.targetName, small());
            assertThat(m.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
            assertThat(m.getFailure()).contains("refused the switchover", "DATA_LOSS", "memory digest at the target",
                    "differs from the source's");
            assertSourceRunsOn(a, pid);
            assertRerunSucceeds(a, pid, a.targetName);
        }
    }

    @Test
    void writesTheTrackerMissedAreCaughtBeforeTheSwitchoverAndTheSourceRunsOn() throws Exception {
        try (InProcessAgents a = new InProcessAgents()) {
            int pid = spawnKv(a, 1 << 20).getPid();
            a.sourceFaults.arm(FaultPoint.WRITE_AFTER_FINAL_COLLECT, 0);
            MigrationInfo m = migrate(a, pid, a.targetName, small());
            assertThat(m.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
            assertThat(m.getFailure()).contains("do not add up to the frozen memory", "tracker missed changes at 0x", "after final round",
                    "the process runs on here");
            assertThat(m.getFailureKind())
                    .isEqualTo(dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_DIGEST_MISMATCH);
            assertThat(a.target.activeMigrations()).isZero();
            assertSourceRunsOn(a, pid);
            assertRerunSucceeds(a, pid, a.targetName);
        }
    }

    @Test
    void corruptedChunkFailsItsChecksum() throws Exception {
        try (InProcessAgents a = new InProcessAgents()) {
            int pid = spawnKv(a, 1 << 20).getPid();
            a.sourceFaults.arm(FaultPoint.CORRUPT_CHUNK, 1);
            MigrationInfo m = migrate(a, pid, a.targetName, small());
            assertThat(m.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
            assertThat(m.getFailure()).contains("DATA_LOSS", "chunk 1", "checksum");
            assertThat(m.getFailureKind()).isEqualTo(dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_TARGET_ERROR);
            assertSourceRunsOn(a, pid);
            assertRerunSucceeds(a, pid, a.targetName);
        }
    }

    @Test
    void failingFinalStateThawsTheSource() throws Exception {
        try (InProcessAgents a = new InProcessAgents()) {
            int pid = spawnKv(a, 256 * 1024).getPid();
            a.targetFaults.arm(FaultPoint.FAIL_FINAL_STATE, 0);
            MigrationInfo m = migrate(a, pid, a.targetName, small());
            assertThat(m.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
            assertThat(m.getFailure()).contains("refused the switchover", "INTERNAL", "fail-final-state");
            assertThat(m.getFailureKind()).isEqualTo(dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_TARGET_ERROR);
            assertThat(a.target.activeMigrations()).isZero();
            assertSourceRunsOn(a, pid);
            assertRerunSucceeds(a, pid, a.targetName);
        }
    }

    @Test
    void cancelDuringARoundLeavesTheSourceRunning() throws Exception {
        try (InProcessAgents a = new InProcessAgents()) {
            int pid = spawnKv(a, 4 << 20).getPid();
            // A 1 MB/s cap makes round 0 of 4 MiB last seconds: long enough to cancel inside it.
            MigrationPolicy slow = MigrationPolicy.newBuilder().setChunkBytes(16 * 4096).setMaxBandwidthBytesPerSec(1_000_000)
                    .build();
            MigrationInfo started = a.stub.startMigration(StartMigrationRequest.newBuilder().setPid(pid)
                    .setTarget(a.targetName).setMode(MigrationMode.MIGRATION_MODE_PRECOPY).setPolicy(slow).build());
            String id = started.getMigrationId();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                MigrationInfo i = a.stub.getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build());
                return i.getSourcePhase() == SourcePhase.SOURCE_PHASE_ITERATING && i.getStats().getTransferredBytes() > 0;
            });
            a.stub.cancelMigration(CancelMigrationRequest.newBuilder().setMigrationId(id).build());
            MigrationInfo end = a.awaitEnd(id);
            assertThat(end.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_CANCELLED);
            assertThat(end.getFailure()).contains("cancelled by the user", "ITERATING", "round 0");
            assertThat(end.getFailureKind()).isEqualTo(dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_CANCELLED);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.target.activeMigrations() == 0);
            assertSourceRunsOn(a, pid);
            assertThatThrownBy(() -> a.stub.cancelMigration(CancelMigrationRequest.newBuilder().setMigrationId(id).build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                        assertThat(e.getStatus().getDescription()).contains(id, "CANCELLED");
                    });
            assertRerunSucceeds(a, pid, a.targetName);
        }
    }

    @Test
    void aProcessCannotMigrateTwiceAtOnceAndUnknownIdsAreNamed() throws Exception {
        try (InProcessAgents a = new InProcessAgents()) {
            int pid = spawnKv(a, 4 << 20).getPid();
            MigrationPolicy slow = MigrationPolicy.newBuilder().setMaxBandwidthBytesPerSec(1_000_000).build();
            MigrationInfo first = a.stub.startMigration(StartMigrationRequest.newBuilder().setPid(pid)
                    .setTarget(a.targetName).setMode(MigrationMode.MIGRATION_MODE_PRECOPY).setPolicy(slow).build());
            assertThatThrownBy(() -> a.stub.startMigration(StartMigrationRequest.newBuilder().setPid(pid)
                    .setTarget(a.targetName).setMode(MigrationMode.MIGRATION_MODE_PRECOPY).build()))
                    .hasMessageContaining("FAILED_PRECONDITION").hasMessageContaining("process " + pid)
                    .hasMessageContaining("already migrating");
            a.stub.cancelMigration(CancelMigrationRequest.newBuilder().setMigrationId(first.getMigrationId()).build());
            a.awaitEnd(first.getMigrationId());
            assertThatThrownBy(() -> a.stub.getMigration(GetMigrationRequest.newBuilder().setMigrationId("nope").build()))
                    .hasMessageContaining("NOT_FOUND").hasMessageContaining("'nope'");
            assertThatThrownBy(() -> a.stub.startMigration(StartMigrationRequest.newBuilder().setPid(pid)
                    .setTarget(a.targetName).build()))
                    .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("mode 0");
            assertThatThrownBy(() -> a.stub.startMigration(StartMigrationRequest.newBuilder().setPid(999)
                    .setTarget(a.targetName).setMode(MigrationMode.MIGRATION_MODE_PRECOPY).build()))
                    .hasMessageContaining("NOT_FOUND").hasMessageContaining("no process 999");
        }
    }

    @Test
    void aTargetAlreadyRunningThePidRefusesASecondProcessWithIt() throws Exception {
        try (InProcessAgents a = new InProcessAgents()) {
            int pid = spawnKv(a, 256 * 1024).getPid();
            MigrationInfo first = migrate(a, pid, a.targetName, small());
            assertThat(first.getSourcePhase()).as(first.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
            String name = "source-2-" + UUID.randomUUID();
            try (SourceAgentServer other = new SourceAgentServer(InProcessServerBuilder.forName(name),
                    t -> io.grpc.inprocess.InProcessChannelBuilder.forName(t).build(),
                    SourceAgentServer.defaultOptions("source-2"))) {
                io.grpc.ManagedChannel c = io.grpc.inprocess.InProcessChannelBuilder.forName(name).build();
                try {
                    var stub = dev.pagehop.proto.control.v1.AgentControlGrpc.newBlockingStub(c);
                    int samePid = stub.spawn(SpawnRequest.newBuilder().setWorkload("kv").setGranule(Granule.GRANULE_4K)
                            .setMemoryBytes(256 * 1024).build()).getPid();
                    assertThat(samePid).isEqualTo(pid);
                    String id = stub.startMigration(StartMigrationRequest.newBuilder().setPid(samePid)
                            .setTarget(a.targetName).setMode(MigrationMode.MIGRATION_MODE_PRECOPY).build())
                            .getMigrationId();
                    await().atMost(Duration.ofSeconds(30)).until(() -> stub.getMigration(GetMigrationRequest.newBuilder()
                            .setMigrationId(id).build()).getSourcePhase() == SourcePhase.SOURCE_PHASE_FAILED);
                    assertThat(stub.getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build()).getFailure())
                            .contains("ALREADY_EXISTS", "pid " + pid, "already runs on this target");
                } finally {
                    c.shutdownNow();
                }
            }
        }
    }
}
