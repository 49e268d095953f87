package dev.pagehop.track;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters behind {@link TrackerCost}. Traps may be counted from a monitor thread while a
 * collect runs, hence adders. False positives are counted against a {@link TrueWriteLog}: a
 * reported page is a false positive when the log recorded no write to it since the collect
 * before the previous one. The one-collect slack is deliberate: a write logged just before a
 * collect drained the log may reach memory after that collect re-armed the page, and is then
 * (rightly) reported by the next collect. The count is therefore exact with quiescent writers and
 * a lower bound under concurrent writes.
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
    private final long pageSize;
    private Set<Long> previouslyLogged = Set.of();

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
            previouslyLogged = new HashSet<>(log.drain());
        }
    }

    void trap(long nanos) {
        traps.increment();
        trapNanos.add(nanos);
    }

    void traps(long count) {
        traps.add(count);
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
        Set<Long> logged = log.drain();
        long unlogged = 0;
        for (PageRange r : written) {
            for (long p = r.start(); p < r.end(); p += pageSize) {
                if (!logged.contains(p) && !previouslyLogged.contains(p)) {
                    unlogged++;
                }
            }
        }
        previouslyLogged = new HashSet<>(logged);
        return unlogged;
    }

    TrackerCost snapshot() {
        return new TrackerCost(traps.sum(), trapNanos.sum(), collects.sum(), collectNanos.sum(),
                pageTablesPopulated.sum(), pagesReported.sum(), falsePositivePages.sum());
    }
}
