package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.ThreadState;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.Userfaultfd;
import java.time.Duration;
import java.util.Comparator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A thread parked in a synchronous write-protect fault counts as frozen, but its store lands when
 * the monitor resolves the fault, which may be after the freeze. The final round must wait for
 * those stores before it collects and digests, or the last write is lost on the target.
 *
 * <p>Deterministic: the test is the write-protect monitor. Both threads of the process park in a
 * WP fault on the heap before the migration starts; the test resolves the faults only once the
 * final round is waiting for them ({@link EmulatedProcess#parkedFaultWaiters}). If the final
 * round does not wait, nobody is ever waiting, and the test fails on that. The tracker is
 * soft-dirty, because a VMA has one userfaultfd and the test's holds the heap.
 */
class ParkedFaultFreezeTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    @Timeout(120)
    void storesOfThreadsParkedInAWriteProtectFaultAtFreezeReachTheTarget() throws Exception {
        try (InProcessAgents agents = new InProcessAgents()) {
            ProcessInfo p = agents.stub.spawn(SpawnRequest.newBuilder().setWorkload("uniform")
                    .setGranule(Granule.GRANULE_4K).setMemoryBytes(64 * 4096).setThreads(2).setSeed(11)
                    .setSoftDirty(true).build());
            EmulatedProcess src = agents.source.state().requireProcess(p.getPid()).process;
            await().atMost(WAIT).until(() -> src.stats().steps() > 200);
            MemoryManager mm = src.mm();
            VmaInfo heap = mm.vmas().stream().filter(v -> (v.prot() & Prot.WRITE) != 0)
                    .max(Comparator.comparingLong(VmaInfo::length)).orElseThrow();
            try (Userfaultfd monitor = mm.userfaultfd(0)) {
                monitor.api(Uffd.FEATURE_WP_UNPOPULATED);
                monitor.register(heap.start(), heap.length(), Uffd.REGISTER_MODE_WP);
                monitor.writeprotect(heap.start(), heap.length(), Uffd.WRITEPROTECT_MODE_WP);
                await().atMost(WAIT).until(() -> src.threads().stream()
                        .allMatch(t -> t.state() == ThreadState.PARKED_IN_FAULT));

                MigrationInfo started = agents.stub.startMigration(StartMigrationRequest.newBuilder()
                        .setPid(p.getPid()).setTarget(agents.targetName).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                        .setTracker(Tracker.TRACKER_SOFT_DIRTY).setPolicy(MigrationPolicy.newBuilder().setChunkBytes(65536))
                        .setLeavePausedOnTarget(true).setKeepSource(true).build());
                // Resolve once the final round waits for the parked stores, or give up when the
                // migration ends without ever waiting (what a final round that does not wait does).
                await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(() -> src.parkedFaultWaiters() > 0
                        || agents.source.state().migration(started.getMigrationId()).phase().terminal());
                boolean finalRoundWaited = src.parkedFaultWaiters() > 0;
                byte[] before = new byte[(int) heap.length()];
                mm.peek(heap.start(), before, 0, before.length);
                monitor.writeprotect(heap.start(), heap.length(), 0);

                MigrationInfo end = agents.awaitEnd(started.getMigrationId());
                assertThat(finalRoundWaited).as("the final round waited for the threads parked in a WP fault").isTrue();
                assertThat(end.getSourcePhase()).as(end.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
                byte[] after = new byte[(int) heap.length()];
                mm.peek(heap.start(), after, 0, after.length);
                assertThat(after).as("the parked stores landed during the freeze").isNotEqualTo(before);
                EmulatedProcess dst = agents.target.receivedProcess(end.getPeerPid());
                InProcessAgents.assertSameMemory(src.mm(), dst.mm());
                assertThat(end.getStats().getSourceDigest()).isEqualTo(end.getStats().getTargetDigest());
            }
        }
    }
}
