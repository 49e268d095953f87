package dev.pagehop.cli.report;

import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.RoundStats;
import java.util.ArrayList;
import java.util.List;

/**
 * What the report draws, derived from a finished migration's record: one point per round on a
 * time axis (setup time, then each round's duration added up), and the post-copy fault latency
 * histogram when there is one.
 *
 * @param faultLatency empty for pre-copy, and for agents that do not report post-copy figures
 */
public record ReportData(MigrationInfo info, List<RoundPoint> rounds, List<LatencyBucket> faultLatency) {

    /**
     * One round. {@code remainingBytes} is the dirty set collected at its end — what the next round
     * has to send — so the remaining-bytes curve starts at the memory size and ends near zero.
     */
    public record RoundPoint(int round, boolean isFinal, double endSeconds, long normalPages, long zeroPages,
            long transferredBytes, long dirtyRateBytesPerSec, long bandwidthBytesPerSec, long remainingBytes) {
    }

    /** Faults whose round trip took at most {@code upperBoundNs} (and more than the previous bucket's bound). */
    public record LatencyBucket(long upperBoundNs, long count) {
    }

    public ReportData {
        rounds = List.copyOf(rounds);
        faultLatency = List.copyOf(faultLatency);
    }

    /** The report of {@code info}, with the fault latency histogram the agent reported for its post-copy. */
    public static ReportData of(MigrationInfo info) {
        List<LatencyBucket> buckets = new ArrayList<>();
        for (dev.pagehop.proto.types.v1.LatencyBucket b : info.getStats().getPostcopy().getFaultLatencyHistogramList()) {
            buckets.add(new LatencyBucket(b.getUpperBoundNs(), b.getCount()));
        }
        return of(info, buckets);
    }

    public static ReportData of(MigrationInfo info, List<LatencyBucket> faultLatency) {
        long pageSize = info.getStats().getPageSize();
        double t = info.getStats().getSetupTimeMs() / 1000.0;
        List<RoundPoint> points = new ArrayList<>();
        for (RoundStats r : info.getStats().getPerRoundList()) {
            t += r.getDurationNs() / 1e9;
            points.add(new RoundPoint(r.getRound(), r.getFinal(), t, r.getNormalPages(), r.getZeroPages(),
                    r.getTransferredBytes(), r.getDirtyRateBytesPerSec(), r.getBandwidthBytesPerSec(),
                    r.getFinal() ? 0 : r.getDirtyPagesAfter() * pageSize));
        }
        return new ReportData(info, points, faultLatency);
    }

    public double startSeconds() {
        return info.getStats().getSetupTimeMs() / 1000.0;
    }
}
