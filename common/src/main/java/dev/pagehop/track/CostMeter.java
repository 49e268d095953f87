package dev.pagehop.track;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters behind {@link TrackerCost}. Traps may be counted from a monitor thread while a
 * collect runs, hence adders. False positives are judged by the {@link TrueWriteLog} (see there
 * for why a counted one is always real).
 */
final class CostMeter {
    private final LongAdder traps = new LongAdder();
    private final LongAdder trapNanos = new LongAdder();
    private final LongAdder collects = new LongAdder();
    private final LongAdder collectNanos = new LongAdder();
    private final LongAdder pageTablesPopulated = new LongAdder();
    private final LongAdder pagesReported = new LongAdder();
    private final LongAdder falsePositivePages = new LongAdder();

    private final TrueWriteLog log;
    /** Traps the kernel counted (async uffd-wp, soft-dirty), as {count, nanos} since the baseline. */
    private volatile java.util.function.Supplier<long[]> kernelTraps = () -> new long[] {0, 0};
    private final long pageSize;
    /** Per reported page: the log instant at which the collect that last reported it began. */
    private final Map<Long, Long> lastReportStart = new HashMap<>();
    private long trackingStart;
    private long currentCollectStart;

    CostMeter(TrueWriteLog log, long pageSize) {
        if (log != null && log.pageSize() != pageSize) {
            throw new IllegalArgumentException("true write log counts " + log.pageSize()
                    + "-byte pages but the address space uses " + pageSize + "-byte pages");
        }
        this.log = log;
        this.pageSize = pageSize;
    }

    /** Tracking starts: writes logged before now were not the tracker's to see. */
    void started() {
        if (log != null) {
            lastReportStart.clear();
            trackingStart = log.collectStarting();
        }
    }

    /** A collect begins (before it looks at the layout or scans anything). */
    void collectStarting() {
        if (log != null) {
            currentCollectStart = log.collectStarting();
        }
    }

    void trap(long nanos) {
        traps.increment();
        trapNanos.add(nanos);
    }

    /**
     * Traps taken inside the kernel, invisible to a user-space tracker except through the mm's
     * fault counters; {@code source} returns {count, nanos} since tracking started.
     */
    void kernelTraps(java.util.function.Supplier<long[]> source) {
        kernelTraps = source;
    }

    void pageTablesPopulated(long count) {
        pageTablesPopulated.add(count);
    }

    /** Accounts one finished collect and what it reported. */
    void collected(long nanos, DirtySet set) {
        collects.increment();
        collectNanos.add(nanos);
        pagesReported.add(set.writtenBytes() / pageSize);
        if (log != null) {
            falsePositivePages.add(countUnlogged(set.written()));
        }
    }

    private long countUnlogged(List<PageRange> written) {
        long unjustified = 0;
        for (PageRange r : written) {
            for (long p = r.start(); p < r.end(); p += pageSize) {
                long previous = lastReportStart.getOrDefault(p, trackingStart);
                if (!log.justifies(p, previous)) {
                    unjustified++;
                }
                lastReportStart.put(p, currentCollectStart);
            }
        }
        return unjustified;
    }

    TrackerCost snapshot() {
        long[] k = kernelTraps.get();
        return new TrackerCost(traps.sum() + k[0], trapNanos.sum() + k[1], collects.sum(), collectNanos.sum(),
                pageTablesPopulated.sum(), pagesReported.sum(), falsePositivePages.sum());
    }
}
