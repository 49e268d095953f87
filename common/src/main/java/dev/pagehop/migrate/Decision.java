package dev.pagehop.migrate;

/**
 * What the convergence policy decided after a round, why, and the numbers it decided on.
 * {@code throttlePercent} is the throttle the workload should run with from now on.
 */
public record Decision(Action action, Reason reason, String detail, int throttlePercent,
        long expectedDowntimeMs, long bandwidthBytesPerSec) {

    public enum Action {
        CONTINUE,
        SWITCHOVER,
        POSTCOPY,
        ABORT
    }

    public enum Reason {
        /** Before round 0 of a pre-copy or hybrid migration. */
        FIRST_ROUND,
        /** Not converged yet and no rule stops it. */
        ITERATING,
        /** Nothing pending. */
        NOTHING_PENDING,
        /** pending ≤ bandwidth × downtime limit (QEMU). */
        CONVERGED,
        /** At most stopPages pages pending (P.Haul). */
        FEW_PAGES,
        /** Dirty rate high: throttle raised (QEMU auto-converge). */
        THROTTLING,
        /** Dirty rate at or above bandwidth and the policy says abort. */
        DIRTY_RATE_EXCEEDS_BANDWIDTH,
        /** Dirty rate at or above bandwidth in hybrid mode: go post-copy. */
        CANNOT_KEEP_UP,
        MAX_ROUNDS,
        /** The dirty set grew by more than growthStopPercent (P.Haul). */
        DIRTY_SET_GROWING,
        /** More than maxAmplification × memory sent (Xen). */
        AMPLIFICATION,
        POSTCOPY_MODE,
        POSTCOPY_AFTER_ROUNDS,
        PROGRESS_TIMEOUT,
        OVERALL_TIMEOUT
    }

    public boolean ends() {
        return action != Action.CONTINUE;
    }

    @Override
    public String toString() {
        return action + " (" + reason + "): " + detail;
    }
}
