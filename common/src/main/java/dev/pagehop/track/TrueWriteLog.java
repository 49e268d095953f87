package dev.pagehop.track;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The ground truth a tracker is judged against in tests and benchmarks: every write to every
 * page, bracketed by {@link #beforeWrite} and {@link #afterWrite} around the store itself. A
 * tracker given a log counts the pages it reported that no write justifies: its false positives.
 *
 * <p>One clock orders write ends and collect starts. A report of page P by a collect is justified
 * when a write to P is still in flight, or ended after the previous collect that reported P
 * began (such a write may have landed after that collect re-armed P). A write that ended before
 * that collect began was visible to it and was consumed. So a counted false positive is always
 * real; under concurrent writers the count can only miss some (a write ending just after a
 * collect began, but landing before its scan).
 *
 * <p>Feed it by hand or through {@link WriteRecordingMemory}. Thread-safe; a map update per
 * store, so production runs pass no log.
 */
public final class TrueWriteLog {
    private final long pageSize;
    private final AtomicLong clock = new AtomicLong(1);
    private final ConcurrentHashMap<Long, PageLog> pages = new ConcurrentHashMap<>();

    /** Updated only inside ConcurrentHashMap.compute (per-key atomic); read without locks. */
    private static final class PageLog {
        volatile int inFlight;
        volatile long lastEnd;
    }

    public TrueWriteLog(long pageSize) {
        if (pageSize <= 0 || Long.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("write log page size must be a power of two, got " + pageSize);
        }
        this.pageSize = pageSize;
    }

    public long pageSize() {
        return pageSize;
    }

    /** A write of {@code lengthBytes} at {@code addr} is about to happen. */
    public void beforeWrite(long addr, long lengthBytes) {
        forEachPage(addr, lengthBytes, p -> pages.compute(p, (k, v) -> {
            PageLog l = v == null ? new PageLog() : v;
            l.inFlight++;
            return l;
        }));
    }

    /** The write announced by {@link #beforeWrite} with the same arguments has finished (or failed). */
    public void afterWrite(long addr, long lengthBytes) {
        long end = clock.getAndIncrement();
        forEachPage(addr, lengthBytes, p -> pages.compute(p, (k, v) -> {
            if (v == null || v.inFlight == 0) {
                throw new IllegalStateException(String.format("write log: end of a write to page 0x%x that never began", p));
            }
            v.inFlight--;
            v.lastEnd = end;
            return v;
        }));
    }

    /** A write already complete (a zap or move the caller just made). */
    public void record(long addr, long lengthBytes) {
        beforeWrite(addr, lengthBytes);
        afterWrite(addr, lengthBytes);
    }

    /** A collect begins: the instant its justification window is measured from. */
    long collectStarting() {
        return clock.getAndIncrement();
    }

    /**
     * Whether a write justifies reporting {@code page} now, given that the collect that last
     * reported it started at {@code previousReportStart} (0 if never reported since start).
     */
    boolean justifies(long page, long previousReportStart) {
        PageLog l = pages.get(page);
        if (l == null) {
            return false;
        }
        return l.inFlight > 0 || l.lastEnd > previousReportStart;
    }

    private void forEachPage(long addr, long lengthBytes, java.util.function.LongConsumer action) {
        if (lengthBytes <= 0) {
            return;
        }
        long first = addr & -pageSize;
        long last = (addr + lengthBytes - 1) & -pageSize;
        for (long p = first; p <= last; p += pageSize) {
            action.accept(p);
        }
    }
}
