package dev.pagehop.proc;

import java.util.List;

/**
 * What a freeze found: how long it took from the request until the last thread stopped
 * (measured with {@link System#nanoTime()}, the cgroup freezer's "freezing time"), and where
 * each thread stopped.
 */
public record FreezeResult(long freezeNanos, List<ThreadStop> threads) {

    /** Where one thread stopped: at a step boundary, or parked in a userfault at an address. */
    public record ThreadStop(int tid, long steps, boolean parkedInFault, long faultAddress) {
    }

    public FreezeResult {
        threads = List.copyOf(threads);
    }

    public long parkedInFaultCount() {
        return threads.stream().filter(ThreadStop::parkedInFault).count();
    }

    public long totalSteps() {
        return threads.stream().mapToLong(ThreadStop::steps).sum();
    }
}
