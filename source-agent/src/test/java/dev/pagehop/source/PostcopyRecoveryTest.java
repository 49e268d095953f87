package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pagehop.migrate.FaultPoint;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.EmulatedThread;
import dev.pagehop.proc.ProcessState;
import dev.pagehop.proc.ThreadState;
import dev.pagehop.proto.control.v1.GetMigrationRequest;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.RecoverMigrationRequest;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.migration.v1.MigrationGrpc;
import dev.pagehop.proto.migration.v1.RecoverRequest;
import dev.pagehop.proto.migration.v1.RecoverResponse;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.TargetPhase;
import dev.pagehop.proto.types.v1.Tracker;
import dev.pagehop.workload.IntegrityReport;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Post-copy across a lost page link, agent to agent over the in-process transport. The fault
 * point cut-page-link-after-pages cuts the source's page streams mid-post-copy and keeps them
 * down, as a network that stays cut, until RecoverMigration.
 */
class PostcopyRecoveryTest {
    private static final int PAGES = 256;

    private static ProcessInfo spawn(InProcessAgents agents, long seed) {
        ProcessInfo p = agents.stub.spawn(SpawnRequest.newBuilder().setWorkload("kv").setGranule(Granule.GRANULE_4K)
                .setMemoryBytes(PAGES * 4096).setThreads(2).setSeed(seed).build());
        EmulatedProcess src = agents.source.state().requireProcess(p.getPid()).process;
        await().atMost(Duration.ofSeconds(30)).until(() -> src.stats().steps() > 200);
        return p;
    }

    private static String postcopy(InProcessAgents agents, ProcessInfo p, boolean leavePaused) {
        return agents.stub.startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                .setTarget(agents.targetName).setMode(MigrationMode.MIGRATION_MODE_POSTCOPY)
                .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC).setPolicy(MigrationPolicy.newBuilder().setChunkBytes(65536))
                .setLeavePausedOnTarget(leavePaused).setKeepSource(true).build()).getMigrationId();
    }

    private static MigrationInfo onSource(InProcessAgents agents, String id) {
        return agents.stub.getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build());
    }

    private static MigrationInfo onTarget(InProcessAgents agents, String id) {
        return agents.targetStub.getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build());
    }

    /** The cut link seen on both sides: source and target report post-copy paused. */
    private static void awaitBothPaused(InProcessAgents agents, String id) {
        await().atMost(Duration.ofSeconds(30)).until(() -> onSource(agents, id).getSourcePhase()
                == SourcePhase.SOURCE_PHASE_POSTCOPY_PAUSED);
        await().atMost(Duration.ofSeconds(30)).until(() -> onTarget(agents, id).getTargetPhase()
                == TargetPhase.TARGET_PHASE_POSTCOPY_PAUSED);
    }

    /** What the target still misses (Migration.Recover), page count. */
    private static long targetMissingPages(InProcessAgents agents, String id) {
        RecoverResponse r = MigrationGrpc.newBlockingStub(agents.targetControlChannel)
                .recover(RecoverRequest.newBuilder().setProtocolVersion(1).setMigrationId(id).build());
        long bytes = 0;
        for (int i = 0; i < r.getMissingRangesCount(); i += 2) {
            bytes += r.getMissingRanges(i + 1) - r.getMissingRanges(i);
        }
        return bytes / 4096;
    }

    private static boolean targetMisses(InProcessAgents agents, String id, long page) {
        RecoverResponse r = MigrationGrpc.newBlockingStub(agents.targetControlChannel)
                .recover(RecoverRequest.newBuilder().setProtocolVersion(1).setMigrationId(id).build());
        for (int i = 0; i < r.getMissingRangesCount(); i += 2) {
            if (r.getMissingRanges(i) <= page && page < r.getMissingRanges(i + 1)) {
                return true;
            }
        }
        return false;
    }

    /** Waits for a thread of {@code p} asleep in a userfault; returns its page. */
    private static long awaitParkedThread(EmulatedProcess p) {
        AtomicReference<EmulatedThread> parked = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            for (EmulatedThread t : p.threads()) {
                if (t.state() == ThreadState.PARKED_IN_FAULT) {
                    parked.set(t);
                    return true;
                }
            }
            return false;
        });
        return parked.get().faultAddress() & -4096L;
    }

    @Test
    @Timeout(120)
    void aNetworkCutPausesBothSidesWithThreadsBlockedAndRecoverCompletesWithNothingLost() throws Exception {
        try (InProcessAgents agents = new InProcessAgents()) {
            ProcessInfo p = spawn(agents, 3);
            agents.sourceFaults.arm(FaultPoint.CUT_PAGE_LINK_AFTER_PAGES, 24);
            String id = postcopy(agents, p, false);

            awaitBothPaused(agents, id);
            assertThat(onTarget(agents, id).getFailure()).contains("source unreachable");
            EmulatedProcess dst = agents.target.receivedProcess(onSource(agents, id).getPeerPid());
            long page = awaitParkedThread(dst);
            // The faulting thread sleeps on a page the target still misses; it is never zero-filled.
            assertThat(targetMisses(agents, id, page)).as("page 0x%x missing on the target", page).isTrue();
            assertThat(dst.mm().pagemapEntry(page) >>> 63).as("page 0x%x present", page).isZero();
            assertThat(onSource(agents, id).getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_POSTCOPY_PAUSED);

            MigrationInfo recovering = agents.stub.recoverMigration(RecoverMigrationRequest.newBuilder()
                    .setMigrationId(id).build());
            assertThat(recovering.getMigrationId()).isEqualTo(id);
            MigrationInfo end = agents.awaitEnd(id);
            assertThat(end.getSourcePhase()).as(end.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
            await().atMost(Duration.ofSeconds(30)).until(() -> onTarget(agents, id).getTargetPhase()
                    == TargetPhase.TARGET_PHASE_RUNNING);

            long before = dst.stats().steps();
            await().atMost(Duration.ofSeconds(30)).until(() -> dst.stats().steps() > before + 200);
            dst.freeze();
            IntegrityReport r = dst.verify();
            assertThat(r.ok()).as(r.toString()).isTrue();
            assertThat(dst.stopReason()).isEmpty();

            assertThatThrownBy(() -> agents.stub.recoverMigration(RecoverMigrationRequest.newBuilder()
                    .setMigrationId(id).build())).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                        assertThat(e.getStatus().getDescription()).contains(id).contains("COMPLETED");
                    });
            assertThatThrownBy(() -> agents.stub.recoverMigration(RecoverMigrationRequest.newBuilder()
                    .setMigrationId("no-such-migration").build())).isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> {
                                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                                assertThat(e.getStatus().getDescription()).contains("no-such-migration");
                            });
        }
    }

    /**
     * Killing the received process on the target while post-copy waits for pages ends that
     * migration there as failed and frees its slot of the concurrent-migration limit; the
     * source's frozen copy, the only whole one, is kept.
     */
    @Test
    @Timeout(120)
    void theProcessKilledOnTheTargetDuringPostcopyEndsTheMigrationThereAndFreesItsSlot() throws Exception {
        try (InProcessAgents agents = new InProcessAgents()) {
            ProcessInfo p = spawn(agents, 6);
            agents.sourceFaults.arm(FaultPoint.CUT_PAGE_LINK_AFTER_PAGES, 24);
            String id = postcopy(agents, p, false);
            await().atMost(Duration.ofSeconds(30)).until(() -> onTarget(agents, id).getTargetPhase()
                    == TargetPhase.TARGET_PHASE_POSTCOPY_PAUSED);
            int peer = onSource(agents, id).getPeerPid();
            assertThat(agents.target.activeMigrations()).isEqualTo(1);

            agents.targetStub.killProcess(dev.pagehop.proto.control.v1.KillProcessRequest.newBuilder().setPid(peer)
                    .build());

            MigrationInfo there = onTarget(agents, id);
            assertThat(there.getTargetPhase()).isEqualTo(TargetPhase.TARGET_PHASE_FAILED);
            assertThat(there.getFailure()).contains("process pid " + peer + " killed on this target")
                    .contains("pages still missing");
            assertThat(agents.target.activeMigrations()).isZero();
            assertThat(agents.source.state().requireProcess(p.getPid()).process.state())
                    .as("the source's copy stays frozen: it is the only whole one").isEqualTo(ProcessState.FROZEN);
        }
    }

    /**
     * Left paused, the process cannot change its memory, so after the recovery the target's memory
     * equals the source's at freeze; and the source serves after the recovery no more pages than
     * the target still missed when the link went down: nothing installed is asked for again.
     */
    @Test
    @Timeout(120)
    void afterARecoverOnlyMissingPagesAreAskedForAndTheMemoryEqualsTheSourcesAtFreeze() throws Exception {
        try (InProcessAgents agents = new InProcessAgents()) {
            ProcessInfo p = spawn(agents, 4);
            agents.sourceFaults.arm(FaultPoint.CUT_PAGE_LINK_AFTER_PAGES, 40);
            String id = postcopy(agents, p, true);
            awaitBothPaused(agents, id);
            PostcopyServer server = agents.source.state().migration(id).postcopyServer();
            long servedBefore = server.urgentPagesServed() + server.backgroundPagesServed();
            long missingAtPause = targetMissingPages(agents, id);
            assertThat(servedBefore).isGreaterThanOrEqualTo(40);
            assertThat(missingAtPause).isPositive();

            agents.stub.recoverMigration(RecoverMigrationRequest.newBuilder().setMigrationId(id).build());
            MigrationInfo end = agents.awaitEnd(id);
            assertThat(end.getSourcePhase()).as(end.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
            long servedAfter = server.urgentPagesServed() + server.backgroundPagesServed() - servedBefore;
            assertThat(servedAfter).as("pages served after the recovery").isLessThanOrEqualTo(missingAtPause);
            assertThat(server.connects()).isEqualTo(2);

            EmulatedProcess src = agents.source.state().requireProcess(p.getPid()).process;
            EmulatedProcess dst = agents.target.receivedProcess(end.getPeerPid());
            assertThat(src.state()).isEqualTo(ProcessState.FROZEN);
            InProcessAgents.assertSameMemory(src.mm(), dst.mm());
            InProcessAgents.assertSameCpu(src, dst);
        }
    }

    /**
     * The source agent dies while the page link is down: the target cannot tell it from a cut
     * until its source-lost deadline passes; then it reports that the migration cannot complete
     * and keeps the process frozen, its faulting thread asleep on a page never zero-filled.
     */
    @Test
    @Timeout(120)
    void theSourceKilledDuringPostcopyLeavesTheTargetFrozenReportingItCannotComplete() throws Exception {
        try (InProcessAgents agents = new InProcessAgents()) {
            agents.target.postcopyTimeouts(500, 10_000);
            ProcessInfo p = spawn(agents, 5);
            agents.sourceFaults.arm(FaultPoint.CUT_PAGE_LINK_AFTER_PAGES, 24);
            String id = postcopy(agents, p, false);
            awaitBothPaused(agents, id);
            EmulatedProcess dst = agents.target.receivedProcess(onSource(agents, id).getPeerPid());
            long page = awaitParkedThread(dst);

            agents.source.close();

            await().atMost(Duration.ofSeconds(30)).until(() -> onTarget(agents, id).getTargetPhase()
                    == TargetPhase.TARGET_PHASE_FAILED);
            MigrationInfo t = onTarget(agents, id);
            assertThat(t.getFailure()).contains("can never arrive").contains("stays frozen");
            assertThat(dst.state()).isEqualTo(ProcessState.FROZEN);
            assertThat(dst.threads()).anySatisfy(th -> assertThat(th.state()).isEqualTo(ThreadState.PARKED_IN_FAULT));
            assertThat(dst.mm().pagemapEntry(page) >>> 63).as("page 0x%x never zero-filled", page).isZero();
            assertThat(targetMisses(agents, id, page)).isTrue();
        }
    }
}
