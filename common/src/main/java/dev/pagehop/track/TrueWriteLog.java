package dev.pagehop.track;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ground truth a tracker is judged against in tests and benchmarks: every page something
 * wrote, recorded by the writer itself <em>before</em> the store reaches memory (so any write
 * a tracker can observe is already in the log). A tracker given a log counts, per collect, the
 * pages it reported that the log does not hold: its false positives.
 *
 * <p>Feed it either by hand ({@link #record}) or by routing stores through
 * {@link WriteRecordingMemory}. Thread-safe; costs a hash-set insert per store, so production
 * runs pass no log.
 */
public final class TrueWriteLog {
    private final long pageSize;
    private volatile Set<Long> pages = ConcurrentHashMap.newKeySet();

    public TrueWriteLog(long pageSize) {
        if (pageSize <= 0 || Long.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("write log page size must be a power of two, got " + pageSize);
        }
        this.pageSize = pageSize;
    }

    public long pageSize() {
        return pageSize;
    }

    /** Records a write of {@code lengthBytes} at {@code addr}: every page it touches. */
    public void record(long addr, long lengthBytes) {
        if (lengthBytes <= 0) {
            return;
        }
        Set<Long> target = pages;
        long first = addr & -pageSize;
        long last = (addr + lengthBytes - 1) & -pageSize;
        for (long p = first; p <= last; p += pageSize) {
            target.add(p);
        }
    }

    /**
     * Takes every page recorded since the previous drain. A store racing with the drain lands in
     * this set or the next one, never neither.
     */
    public Set<Long> drain() {
        Set<Long> taken = pages;
        pages = ConcurrentHashMap.newKeySet();
        // A writer that read the old reference just before the swap may still add to it; those
        // additions are visible through 'taken', which the caller reads after this returns.
        return taken;
    }
}
