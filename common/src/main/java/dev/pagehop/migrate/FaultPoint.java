package dev.pagehop.migrate;

/**
 * Named fault-injection points in the migration path (CRIU's fault-injection.h), inert unless a
 * {@link FaultInjector} arms them. Each one models a failure the field has seen, so a test can
 * cause it on purpose, expect a clean failure with the source still running, and rerun.
 */
public enum FaultPoint {
    /** Source: skip sending the chunk with the armed sequence (the target sees a gap). */
    DROP_CHUNK,
    /** Source: flip a payload byte of the chunk with the armed sequence after its checksum. */
    CORRUPT_CHUNK,
    /** Source: cut the bulk stream after sending the armed number of chunks, mid-round. */
    CUT_STREAM_AFTER_CHUNKS,
    /**
     * Source, post-copy: cut the page link after serving the armed number of pages, and keep it
     * down (as a network that stays cut) until RecoverMigration reconnects it.
     */
    CUT_PAGE_LINK_AFTER_PAGES,
    /** Target: die (stop serving at once) after applying the armed number of pages. */
    KILL_TARGET_AFTER_PAGES,
    /** Target: refuse Prepare. */
    REFUSE_PREPARE,
    /** Target: fail the switchover (final state) with an internal error. */
    FAIL_FINAL_STATE,
    /**
     * Target: acknowledge the final round's chunk with the armed index (0 = its first) without
     * applying it: pages lost between the wire and memory that no sequence or checksum check
     * sees and no later round re-sends; only the memory digest at switchover can catch it.
     */
    LOSE_CHUNK,
    /**
     * Source: after the final round's collect, change one page of the frozen process that the
     * final round does not send: a store no tracker reports (as one landing after the final
     * collect would be). Nothing on the wire is wrong, so only the frozen-memory digest sees it.
     */
    WRITE_AFTER_FINAL_COLLECT,
    /**
     * Source: after serving the armed number of post-copy pages, leave the page stream's further
     * demands unanswered, as a link that stops delivering without breaking would, until that
     * stream breaks; a reopened stream is served normally.
     */
    HOLD_POSTCOPY_AFTER_PAGES,
    /**
     * Source: the armed number of Commit calls fail as UNAVAILABLE without reaching the target,
     * as a link cut right after the switchover that heals again.
     */
    FAIL_COMMIT_CALLS,
    /**
     * Target: apply the armed number of Commit calls but answer each with UNAVAILABLE, as a reply
     * lost on the wire: the source cannot tell whether its Commit took effect.
     */
    LOSE_COMMIT_ANSWERS
}
