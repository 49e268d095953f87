package dev.pagehop.target;

import java.util.HashMap;
import java.util.Map;

/**
 * QEMU's postcopy-blocktime for a process: the wall time during which every one of its threads
 * was blocked in a userfault at once (the process could make no progress at all), as opposed to
 * the blocked time summed over threads, which counts overlapping waits once per thread. QEMU
 * measures it per vCPU the same way (migration/postcopy-ram.c, mark_postcopy_blocktime_begin/end).
 *
 * <p>Not thread-safe: the lazy pager calls it under its lock, with times from its one clock, in
 * the order the events happened.
 */
final class Blocktime {
    /** Thread id → when its current wait began. A thread waits on one fault at a time. */
    private final Map<Long, Long> blockedSince = new HashMap<>();
    private int threads;
    private long allBlockedSince = -1;
    private long allBlockedNs;

    /** The process's thread count; 0 (unknown) never counts anything as all-blocked. */
    void threads(int count, long now) {
        threads = count;
        update(now);
    }

    void blocked(long tid, long now) {
        blockedSince.putIfAbsent(tid, now);
        update(now);
    }

    /** The thread's wait ended: its page was installed, or its range went away. */
    void woken(long tid, long now) {
        if (blockedSince.remove(tid) != null) {
            update(now);
        }
    }

    /** Every-thread-blocked time so far, including a stretch still going on at {@code now}. */
    long allBlockedNs(long now) {
        return allBlockedNs + (allBlockedSince >= 0 ? Math.max(0, now - allBlockedSince) : 0);
    }

    int blockedThreads() {
        return blockedSince.size();
    }

    private void update(long now) {
        boolean all = threads > 0 && blockedSince.size() >= threads;
        if (all && allBlockedSince < 0) {
            allBlockedSince = now;
        } else if (!all && allBlockedSince >= 0) {
            allBlockedNs += Math.max(0, now - allBlockedSince);
            allBlockedSince = -1;
        }
    }
}
