package dev.pagehop.migrate;

/** What the policy does when the workload dirties memory faster than the link carries it. */
public enum AutoConverge {
    /** Keep iterating; the stop rules still end the iteration. */
    OFF,
    /** Throttle the workload step by step (QEMU's auto-converge). */
    THROTTLE,
    /** Give up: abort, the source keeps running. */
    ABORT
}
