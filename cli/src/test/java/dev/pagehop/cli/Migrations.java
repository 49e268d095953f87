package dev.pagehop.cli;

import com.google.protobuf.ByteString;
import dev.pagehop.proto.control.v1.Decision;
import dev.pagehop.proto.control.v1.DowntimeBreakdown;
import dev.pagehop.proto.control.v1.MigrationEvent;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.MigrationStats;
import dev.pagehop.proto.control.v1.RoundStats;
import dev.pagehop.proto.control.v1.TrackerCost;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import java.util.ArrayList;
import java.util.List;

/** Records and event scripts of migrations, with figures chosen so every number is recognisable in output. */
final class Migrations {
    static final long MIB = 1 << 20;
    static final byte[] DIGEST = {0x3f, 0x2a, 0x11, 0x7e, 0x55, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};

    private Migrations() {
    }

    static MigrationPolicy policy() {
        return MigrationPolicy.newBuilder().setDowntimeLimitMs(300).setMaxRounds(30).setStopPages(64)
                .setGrowthStopPercent(10).setProgressTimeoutMs(150_000).setOverallTimeoutMs(300_000)
                .setMaxAmplification(3).setChunkBytes(256 * 1024).setMaxChunksInFlight(16).build();
    }

    static RoundStats round(int r, boolean fin, long pages, long zero, long dirtyAfter, long dirtyRate, long bw,
            Decision d, String reason) {
        return RoundStats.newBuilder().setRound(r).setFinal(fin).setDurationNs(100_000_000L * (r + 1))
                .setNormalPages(pages).setZeroPages(zero).setTransferredBytes(pages * 4096 + zero * 16)
                .setDirtyPagesAfter(dirtyAfter).setDirtyRateBytesPerSec(dirtyRate).setBandwidthBytesPerSec(bw)
                .setExpectedDowntimeMs(dirtyAfter * 4096 * 1000 / Math.max(1, bw)).setCollectNs(41_000)
                .setDecision(d).setDecisionReason(reason).build();
    }

    static List<RoundStats> threeRounds() {
        return List.of(
                round(0, false, 15_360, 1_024, 2_048, 12 * MIB, 400 * MIB, Decision.DECISION_CONTINUE, "8.0 MiB pending, above the 120 MiB threshold"),
                round(1, false, 2_048, 0, 256, 9 * MIB, 410 * MIB, Decision.DECISION_SWITCHOVER,
                        "1.0 MiB pending <= 123 MiB (bandwidth x 300 ms)"),
                round(2, true, 256, 0, 0, 8 * MIB, 420 * MIB, Decision.DECISION_SWITCHOVER, "final"));
    }

    static MigrationStats.Builder stats(List<RoundStats> rounds) {
        return MigrationStats.newBuilder().setTotalTimeMs(1_234).setSetupTimeMs(12).setDowntimeMs(42)
                .setExpectedDowntimeMs(38).setRounds(rounds.size()).setTransferredBytes(70 * MIB)
                .setPrecopyBytes(68 * MIB).setDowntimeBytes(2 * MIB).setNormalPages(17_664).setZeroPages(1_024)
                .setRemainingBytes(0).setMemoryBytes(64 * MIB).setDirtyRateBytesPerSec(8 * MIB).setDirtyPagesRate(2_048)
                .setBandwidthBytesPerSec(420 * MIB).setMbps(475.3).setAmplification(1.09).setThrottlePercent(0)
                .setLastDecision(Decision.DECISION_SWITCHOVER).setLastDecisionReason("final").addAllPerRound(rounds)
                .setTrackerCost(TrackerCost.newBuilder().setTracker("uffd-wp-async").setTraps(19_000).setTrapNs(5_700_000)
                        .setCollects(3).setCollectNs(123_000).setPageTablesPopulated(33).setPagesReported(2_304)
                        .setFalsePositivePages(0))
                .setDowntimeBreakdown(DowntimeBreakdown.newBuilder().setFreezeNs(90_000).setFinalRoundNs(20_000_000)
                        .setStateCaptureNs(5_000_000).setStateSendNs(12_000_000).setCompleteNs(4_000_000))
                .setSourceDigest(ByteString.copyFrom(DIGEST)).setTargetDigest(ByteString.copyFrom(DIGEST))
                .setPageSize(4096);
    }

    static MigrationInfo completed(String id, int pid, String target) {
        return MigrationInfo.newBuilder().setMigrationId(id).setPid(pid).setTarget(target)
                .setMode(MigrationMode.MIGRATION_MODE_PRECOPY).setTracker(Tracker.TRACKER_UFFD_WP_ASYNC)
                .setSourcePhase(SourcePhase.SOURCE_PHASE_COMPLETED).setStats(stats(threeRounds()))
                .setPolicy(policy()).setStartTimeMs(1_700_000_000_000L).setEndTimeMs(1_700_000_001_234L).setPeerPid(7)
                .build();
    }

    /** A completed post-copy: 3 faults at 100-250 µs, two threads blocked, the rest pulled in the background. */
    static MigrationInfo postcopy(String id, int pid, String target) {
        MigrationInfo pre = completed(id, pid, target);
        dev.pagehop.proto.types.v1.PostcopyStats pc = dev.pagehop.proto.types.v1.PostcopyStats.newBuilder()
                .setFaults(3).setFaultsOnPagesInFlight(1).setZeroPagesMapped(0)
                .setFaultLatencyP50Ns(180_000).setFaultLatencyP99Ns(250_000).setFaultLatencyMaxNs(250_000)
                .setFaultLatencyMeanNs(176_000)
                .addFaultLatencyHistogram(bucket(1_000, 0)).addFaultLatencyHistogram(bucket(2_000, 0))
                .addFaultLatencyHistogram(bucket(4_000, 0)).addFaultLatencyHistogram(bucket(8_000, 0))
                .addFaultLatencyHistogram(bucket(16_000, 0)).addFaultLatencyHistogram(bucket(32_000, 0))
                .addFaultLatencyHistogram(bucket(64_000, 0)).addFaultLatencyHistogram(bucket(128_000, 1))
                .addFaultLatencyHistogram(bucket(256_000, 2))
                .setBlockedTotalNs(610_000).setAllThreadsBlockedNs(90_000)
                .addBlockedPerThread(dev.pagehop.proto.types.v1.ThreadBlocktime.newBuilder().setTid(101).setBlockedNs(430_000))
                .addBlockedPerThread(dev.pagehop.proto.types.v1.ThreadBlocktime.newBuilder().setTid(102).setBlockedNs(180_000))
                .setPagesOnDemand(3).setPagesBackground(16_381).setPagesMissingAtStart(16_384).setPagesMissing(0)
                .setBytesReceived(16_384L * 4096).setDurationNs(812_000_000L).setSourcePagesUrgent(3)
                .setSourcePagesBackground(16_381).setSourceBytes(65 * MIB).setComplete(true).build();
        return pre.toBuilder().setMode(MigrationMode.MIGRATION_MODE_POSTCOPY)
                .setStats(pre.getStats().toBuilder().setPostcopy(pc).setPostcopyBytes(65 * MIB).setPostcopyTimeMs(812))
                .build();
    }

    private static dev.pagehop.proto.types.v1.LatencyBucket bucket(long upperNs, long count) {
        return dev.pagehop.proto.types.v1.LatencyBucket.newBuilder().setUpperBoundNs(upperNs).setCount(count).build();
    }

    static MigrationInfo ended(MigrationInfo base, SourcePhase phase, String failure) {
        return ended(base, phase, failure, phase == SourcePhase.SOURCE_PHASE_CANCELLED
                ? dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_CANCELLED
                : dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_UNSPECIFIED);
    }

    static MigrationInfo ended(MigrationInfo base, SourcePhase phase, String failure,
            dev.pagehop.proto.control.v1.FailureKind kind) {
        return base.toBuilder().setSourcePhase(phase).setFailure(failure).setFailureKind(kind)
                .setStats(base.getStats().toBuilder().setDowntimeMs(0).clearTargetDigest()).setPeerPid(0).build();
    }

    static MigrationInfo running(MigrationInfo end) {
        return end.toBuilder().setSourcePhase(SourcePhase.SOURCE_PHASE_ITERATING).clearFailure()
                .setStats(end.getStats().toBuilder().clearPerRound().setRounds(0).setDowntimeMs(0)
                        .setRemainingBytes(64 * MIB).setTransferredBytes(0))
                .build();
    }

    /** Snapshot, progress within round 0, the round ends, a phase change and the end, as an agent sends them. */
    static List<MigrationEvent> script(MigrationInfo end) {
        List<MigrationEvent> ev = new ArrayList<>();
        long t = 1_700_000_000_000L;
        MigrationInfo start = running(end);
        ev.add(event(MigrationEvent.Kind.KIND_SNAPSHOT, t, end, 0).setInfo(start)
                .setSourcePhase(SourcePhase.SOURCE_PHASE_ITERATING).build());
        ev.add(event(MigrationEvent.Kind.KIND_PROGRESS, t + 100, end, 0).setTransferredBytes(32 * MIB)
                .setRemainingBytes(32 * MIB).setBandwidthBytesPerSec(400 * MIB).setDirtyRateBytesPerSec(12 * MIB)
                .setExpectedDowntimeMs(80).setSourcePhase(SourcePhase.SOURCE_PHASE_ITERATING).build());
        List<RoundStats> rounds = end.getStats().getPerRoundList();
        for (int i = 0; i < rounds.size(); i++) {
            MigrationInfo soFar = start.toBuilder().setStats(start.getStats().toBuilder().addAllPerRound(rounds.subList(0, i + 1))
                    .setRounds(i + 1)).build();
            if (rounds.get(i).getFinal()) {
                ev.add(event(MigrationEvent.Kind.KIND_PHASE, t + 250 + i * 100, end, i)
                        .setSourcePhase(SourcePhase.SOURCE_PHASE_STOP_AND_COPY).build());
            }
            ev.add(event(MigrationEvent.Kind.KIND_ROUND_END, t + 300 + i * 100, end, i).setInfo(soFar)
                    .setTransferredBytes(rounds.get(i).getTransferredBytes())
                    .setSourcePhase(SourcePhase.SOURCE_PHASE_ITERATING).build());
        }
        ev.add(event(MigrationEvent.Kind.KIND_END, t + 1_234, end, rounds.size() - 1).setInfo(end)
                .setSourcePhase(end.getSourcePhase()).build());
        return ev;
    }

    private static MigrationEvent.Builder event(MigrationEvent.Kind kind, long t, MigrationInfo m, int round) {
        return MigrationEvent.newBuilder().setKind(kind).setTimeMs(t).setMigrationId(m.getMigrationId()).setRound(round);
    }
}
