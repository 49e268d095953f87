package dev.pagehop.migrate;

/** What happens when iterating stops helping before the pending set fits the downtime limit. */
public enum NoConvergenceAction {
    /** Abort; the source keeps running. */
    ABORT,
    /** Stop and copy anyway, with a downtime above the limit (P.Haul does this). */
    SWITCHOVER,
    /** Switch to post-copy (hybrid). */
    POSTCOPY
}
