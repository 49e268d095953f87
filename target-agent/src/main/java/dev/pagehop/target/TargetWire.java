package dev.pagehop.target;

import dev.pagehop.migrate.TargetPhase;
import dev.pagehop.proto.types.v1.LatencyBucket;
import dev.pagehop.proto.types.v1.PostcopyStats;
import dev.pagehop.proto.types.v1.ThreadBlocktime;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/** Domain to wire conversions of the target side. */
final class TargetWire {
    /** The histogram's first bucket bound: 1 µs, well under any loopback round trip. */
    static final long FIRST_BUCKET_NS = 1_000;

    private TargetWire() {
    }

    static dev.pagehop.proto.types.v1.TargetPhase phase(TargetPhase p) {
        return switch (p) {
            case PREPARED -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_PREPARED;
            case RECEIVING -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_RECEIVING;
            case FINAL_ROUND_RECEIVED -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_FINAL_ROUND_RECEIVED;
            case READY -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_READY;
            case RUNNING -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_RUNNING;
            case POSTCOPY -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_POSTCOPY;
            case POSTCOPY_PAUSED -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_POSTCOPY_PAUSED;
            case ABORTED -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_ABORTED;
            case FAILED -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_FAILED;
        };
    }

    /** The pager's figures so far (final once it completed). */
    static PostcopyStats postcopy(LazyPager pager) {
        // State first: if it reads COMPLETED, the figures read after it are final too.
        boolean complete = pager.state() == PostcopyState.COMPLETED;
        dev.pagehop.target.PostcopyStats s = pager.stats();
        Histogram h = pager.latencyHistogram();
        PostcopyStats.Builder b = PostcopyStats.newBuilder()
                .setFaults(s.faults()).setFaultsOnPagesInFlight(s.faultsOnPagesInFlight())
                .setZeroPagesMapped(s.pagesZeroMapped())
                .setFaultLatencyP50Ns(s.latencyP50Ns()).setFaultLatencyP99Ns(s.latencyP99Ns())
                .setFaultLatencyMaxNs(s.latencyMaxNs())
                .setFaultLatencyMeanNs(h.getTotalCount() == 0 ? 0 : Math.round(h.getMean()))
                .setBlockedTotalNs(s.blockedTotalNs()).setAllThreadsBlockedNs(pager.allThreadsBlockedNs())
                .setPagesOnDemand(s.pagesOnDemand()).setPagesBackground(s.pagesBackground())
                .setPagesDropped(s.pagesDropped()).setPagesMissingAtStart(pager.pagesMissingAtStart())
                .setPagesMissing(s.pagesMissing()).setBytesReceived(s.bytesReceived()).setDurationNs(s.durationNs())
                .setPauses(s.pauses()).setReconnects(s.reconnects()).setComplete(complete);
        Map<Long, Long> byTid = new TreeMap<>();
        for (Map.Entry<Long, Long> e : s.blockedNsByThread().entrySet()) {
            byTid.merge(pager.tidOf(e.getKey()), e.getValue(), Long::sum);
        }
        for (Map.Entry<Long, Long> e : byTid.entrySet()) {
            b.addBlockedPerThread(ThreadBlocktime.newBuilder().setTid((int) (long) e.getKey()).setBlockedNs(e.getValue()));
        }
        for (long[] bucket : buckets(h)) {
            b.addFaultLatencyHistogram(LatencyBucket.newBuilder().setUpperBoundNs(bucket[0]).setCount(bucket[1]));
        }
        return b.build();
    }

    /**
     * Log2 buckets from 1 µs: (0, 1 µs], (1, 2 µs], (2, 4 µs], ... up to the one holding the
     * largest value; empty buckets in between stay, so a chart's axis is even.
     */
    static java.util.List<long[]> buckets(Histogram h) {
        java.util.List<long[]> out = new java.util.ArrayList<>();
        if (h.getTotalCount() == 0) {
            return out;
        }
        long[] counts = new long[64];
        int last = 0;
        for (HistogramIterationValue v : h.recordedValues()) {
            int i = bucketOf(h.medianEquivalentValue(v.getValueIteratedTo()));
            counts[i] += v.getCountAtValueIteratedTo();
            last = Math.max(last, i);
        }
        for (int i = 0; i <= last; i++) {
            out.add(new long[] {FIRST_BUCKET_NS << i, counts[i]});
        }
        return out;
    }

    private static int bucketOf(long ns) {
        int i = 0;
        while (i < 40 && ns > FIRST_BUCKET_NS << i) {
            i++;
        }
        return i;
    }
}
