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
 * The migration matrix over the in-process transport: workloads × trackers × granules. After
 * switchover the target's memory equals the source's at freeze page for page, the registers are
 * the same, and the resumed process keeps running correctly (the key-value self-check passes).
 */
class InProcessMigrationTest {

    static Stream<Arguments> matrix() {
        List<Arguments> out = new ArrayList<>();
        Tracker[] trackers = {Tracker.TRACKER_UFFD_WP_ASYNC, Tracker.TRACKER_SOFT_DIRTY, Tracker.TRACKER_UFFD_WP_SYNC};
        for (String w : new String[] {"kv", "uniform", "zipf", "sequential", "phase", "churn", "idle"}) {
            for (Tracker t : trackers) {
                out.add(Arguments.of(w, t, Granule.GRANULE_4K));
            }
        }
        for (Granule g : new Granule[] {Granule.GRANULE_16K, Granule.GRANULE_64K}) {
            for (String w : new String[] {"kv", "churn"}) {
                for (Tracker t : trackers) {
                    out.add(Arguments.of(w, t, g));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} / {1} / {2}")
    @Timeout(120)
    @MethodSource("matrix")
    void memoryCpuAndWorkloadSurviveTheMigration(String workload, Tracker tracker, Granule granule) throws Exception {
        try (InProcessAgents agents = new InProcessAgents()) {
            long pageSize = switch (granule) {
                case GRANULE_16K -> 16384;
                case GRANULE_64K -> 65536;
                default -> 4096;
            };
            ProcessInfo p = agents.stub.spawn(SpawnRequest.newBuilder().setWorkload(workload).setGranule(granule)
                    .setMemoryBytes(64 * pageSize).setThreads(2).setSeed(7)
                    .setSoftDirty(tracker == Tracker.TRACKER_SOFT_DIRTY).build());
            EmulatedProcess src = agents.source.state().requireProcess(p.getPid()).process;
            await().atMost(Duration.ofSeconds(30)).until(() -> src.stats().steps() > 200);
            MigrationInfo started = agents.stub.startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                    .setTarget(agents.targetName).setMode(MigrationMode.MIGRATION_MODE_PRECOPY).setTracker(tracker)
                    .setPolicy(MigrationPolicy.newBuilder().setChunkBytes((int) Math.max(16 * pageSize, 65536)))
                    .setLeavePausedOnTarget(true).setKeepSource(true).build());
            MigrationInfo end = agents.awaitEnd(started.getMigrationId());
            assertThat(end.getSourcePhase()).as(end.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
            assertThat(end.getStats().getRounds()).isGreaterThanOrEqualTo(2);
            assertThat(end.getStats().getSourceDigest()).isEqualTo(end.getStats().getTargetDigest());

            EmulatedProcess dst = agents.target.receivedProcess(end.getPeerPid());
            assertThat(dst).isNotNull();
            assertThat(src.state()).isEqualTo(ProcessState.FROZEN);
            assertThat(dst.state()).isEqualTo(ProcessState.FROZEN);
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
}
