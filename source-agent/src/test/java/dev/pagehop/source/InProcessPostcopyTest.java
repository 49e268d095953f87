package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.ProcessState;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import dev.pagehop.workload.IntegrityReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Post-copy and hybrid end to end over the in-process transport: the target resumes with pages
 * missing, the lazy pager brings every one in (on demand and in the background), and the source
 * releases its copy only after the target confirmed.
 */
class InProcessPostcopyTest {

    static Stream<Arguments> matrix() {
        List<Arguments> out = new ArrayList<>();
        // Every workload kind of the process model (a64 needs an ELF image; A64MigrationTest has it).
        for (String w : new String[] {"kv", "zipf", "churn", "uniform", "sequential", "phase", "idle"}) {
            out.add(Arguments.of(w, MigrationMode.MIGRATION_MODE_POSTCOPY));
            out.add(Arguments.of(w, MigrationMode.MIGRATION_MODE_HYBRID));
        }
        return out.stream();
    }

    /**
     * Left paused on the target, the process cannot change its memory, so after post-copy the
     * target's memory must equal the source's frozen memory page for page.
     */
    @ParameterizedTest(name = "{0} / {1} left paused")
    @Timeout(60)
    @MethodSource("matrix")
    void thePagedInMemoryEqualsTheSourcesAtFreeze(String workload, MigrationMode mode) throws Exception {
        try (InProcessAgents agents = new InProcessAgents()) {
            ProcessInfo p = agents.stub.spawn(SpawnRequest.newBuilder().setWorkload(workload)
                    .setGranule(Granule.GRANULE_4K).setMemoryBytes(256 * 4096).setThreads(2).setSeed(11).build());
            EmulatedProcess src = agents.source.state().requireProcess(p.getPid()).process;
            await().atMost(Duration.ofSeconds(30)).until(() -> src.stats().steps() > 200);
            MigrationInfo started = agents.stub.startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                    .setTarget(agents.targetName).setMode(mode).setTracker(Tracker.TRACKER_UFFD_WP_ASYNC)
                    .setPolicy(MigrationPolicy.newBuilder().setChunkBytes(65536).setPostcopyAfterRounds(1)
                            .setDowntimeLimitMs(1).setStopPages(1))
                    .setLeavePausedOnTarget(true).setKeepSource(true).build());
            MigrationInfo end = agents.awaitEnd(started.getMigrationId());
            assertThat(end.getSourcePhase()).as(end.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
            if (mode == MigrationMode.MIGRATION_MODE_HYBRID) {
                // One pre-copy round, then post-copy (or a plain switchover when nothing was dirty).
                assertThat(end.getStats().getRounds()).isEqualTo(2);
            } else {
                assertThat(end.getStats().getRounds()).as("only the final layout round").isEqualTo(1);
            }
            if (end.getStats().hasPostcopy()) {
                assertPostcopyFigures(end);
                assertThat(end.getStats().getPostcopy().getFaults()).as("left paused: no thread ran to fault").isZero();
                assertThat(end.getStats().getPostcopy().getFaultLatencyHistogramList()).isEmpty();
            }
            EmulatedProcess dst = agents.target.receivedProcess(end.getPeerPid());
            assertThat(dst).isNotNull();
            assertThat(src.state()).isEqualTo(ProcessState.FROZEN);
            assertThat(dev.pagehop.xfer.MemoryDigest.hex(dev.pagehop.xfer.MemoryDigest.of(dst.mm())))
                    .as("memory digest").isEqualTo(dev.pagehop.xfer.MemoryDigest.hex(dev.pagehop.xfer.MemoryDigest.of(src.mm())));
            InProcessAgents.assertSameMemory(src.mm(), dst.mm());
            InProcessAgents.assertSameCpu(src, dst);

            long before = dst.stats().steps();
            dst.thaw();
            await().atMost(Duration.ofSeconds(30)).until(() -> dst.stats().steps() > before + 200);
            dst.freeze();
            IntegrityReport r = dst.verify();
            assertThat(r.ok()).as(r.toString()).isTrue();
            assertThat(dst.stopReason()).isEmpty();
        }
    }

    /**
     * The source's final record carries the target's final post-copy figures, and they add up:
     * every page missing at the switchover arrived on demand or in the background, or was zapped.
     */
    private static void assertPostcopyFigures(MigrationInfo end) {
        assertThat(end.getStats().hasPostcopy()).isTrue();
        dev.pagehop.proto.types.v1.PostcopyStats pc = end.getStats().getPostcopy();
        assertThat(pc.getComplete()).isTrue();
        assertThat(pc.getPagesMissing()).isZero();
        assertThat(pc.getPagesOnDemand() + pc.getPagesBackground() + pc.getPagesDropped())
                .isEqualTo(pc.getPagesMissingAtStart());
        assertThat(pc.getSourcePagesUrgent()).isGreaterThanOrEqualTo(pc.getPagesOnDemand());
        assertThat(end.getStats().getPostcopyBytes()).isEqualTo(pc.getSourceBytes()).isPositive();
        assertThat(end.getStats().getTransferredBytes()).isEqualTo(end.getStats().getPrecopyBytes()
                + end.getStats().getDowntimeBytes() + end.getStats().getPostcopyBytes());
        assertThat(end.getStats().getRemainingBytes()).isZero();
        long histogramFaults = pc.getFaultLatencyHistogramList().stream()
                .mapToLong(dev.pagehop.proto.types.v1.LatencyBucket::getCount).sum();
        // One latency per urgent answer: each page installed on demand has one, and an answer
        // may also come for a page the background pull or an unmap settled first.
        assertThat(histogramFaults).as("one latency per urgent answer")
                .isGreaterThanOrEqualTo(pc.getPagesOnDemand())
                .isLessThanOrEqualTo(pc.getSourcePagesUrgent());
    }

    /** Resumed at once: the workload's threads fault pages in on demand while the pull runs. */
    @ParameterizedTest(name = "{0} running")
    @Timeout(60)
    @org.junit.jupiter.params.provider.ValueSource(strings = {"kv", "zipf", "churn"})
    void theResumedProcessFaultsItsPagesInAndStaysCorrect(String workload) throws Exception {
        try (InProcessAgents agents = new InProcessAgents()) {
            ProcessInfo p = agents.stub.spawn(SpawnRequest.newBuilder().setWorkload(workload)
                    .setGranule(Granule.GRANULE_4K).setMemoryBytes(256 * 4096).setThreads(2).setSeed(5).build());
            EmulatedProcess src = agents.source.state().requireProcess(p.getPid()).process;
            await().atMost(Duration.ofSeconds(30)).until(() -> src.stats().steps() > 200);
            MigrationInfo started = agents.stub.startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                    .setTarget(agents.targetName).setMode(MigrationMode.MIGRATION_MODE_POSTCOPY)
                    .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC).setKeepSource(true).build());
            MigrationInfo end = agents.awaitEnd(started.getMigrationId());
            assertThat(end.getSourcePhase()).as(end.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
            assertPostcopyFigures(end);
            EmulatedProcess dst = agents.target.receivedProcess(end.getPeerPid());
            long before = dst.stats().steps();
            await().atMost(Duration.ofSeconds(30)).until(() -> dst.stats().steps() > before + 200);
            dst.freeze();
            IntegrityReport r = dst.verify();
            assertThat(r.ok()).as(r.toString()).isTrue();
            assertThat(dst.stopReason()).isEmpty();
        }
    }
}
