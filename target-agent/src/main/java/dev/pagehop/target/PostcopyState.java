package dev.pagehop.target;

import java.util.EnumSet;
import java.util.Set;

/**
 * The lazy pager's state after a post-copy switchover. PAUSED keeps every faulting thread asleep
 * in its userfault: a page the source cannot supply is never zero-filled, so the only ways out of
 * PAUSED are a reconnect (back to RUNNING) or the source being gone for good (CANNOT_COMPLETE,
 * with the process left frozen).
 */
enum PostcopyState {
    RUNNING,
    PAUSED,
    COMPLETED,
    CANNOT_COMPLETE;

    private Set<PostcopyState> next;

    static {
        RUNNING.next = EnumSet.of(PAUSED, COMPLETED, CANNOT_COMPLETE);
        PAUSED.next = EnumSet.of(RUNNING, CANNOT_COMPLETE);
        COMPLETED.next = EnumSet.noneOf(PostcopyState.class);
        CANNOT_COMPLETE.next = EnumSet.noneOf(PostcopyState.class);
    }

    boolean terminal() {
        return next.isEmpty();
    }

    PostcopyState checkTransition(PostcopyState to, String migrationId) {
        if (!next.contains(to)) {
            throw new IllegalStateException("migration " + migrationId + ": post-copy state " + this
                    + " cannot move to " + to + " (allowed: " + next + ")");
        }
        return to;
    }
}
