package dev.pagehop.migrate;

import java.util.EnumSet;
import java.util.Set;

/**
 * The phases of a migration on the source; see package-info for the diagram. Every change goes
 * through {@link #checkTransition}: a transition not in the table is a bug and fails loudly.
 */
public enum SourcePhase {
    NEW,
    PREPARING,
    ITERATING,
    STOP_AND_COPY,
    SWITCHING_OVER,
    COMMITTING,
    POSTCOPY,
    POSTCOPY_PAUSED,
    COMPLETED,
    FAILED,
    CANCELLED;

    private Set<SourcePhase> next;

    static {
        NEW.next = EnumSet.of(PREPARING, FAILED, CANCELLED);
        PREPARING.next = EnumSet.of(ITERATING, POSTCOPY, FAILED, CANCELLED);
        ITERATING.next = EnumSet.of(STOP_AND_COPY, FAILED, CANCELLED);
        STOP_AND_COPY.next = EnumSet.of(SWITCHING_OVER, POSTCOPY, FAILED, CANCELLED);
        SWITCHING_OVER.next = EnumSet.of(COMMITTING, FAILED, CANCELLED);
        // Once Commit is sent the target may be running the process: no cancel from here on.
        COMMITTING.next = EnumSet.of(COMPLETED, FAILED);
        POSTCOPY.next = EnumSet.of(POSTCOPY_PAUSED, COMPLETED, FAILED);
        POSTCOPY_PAUSED.next = EnumSet.of(POSTCOPY, FAILED);
        COMPLETED.next = EnumSet.noneOf(SourcePhase.class);
        FAILED.next = EnumSet.noneOf(SourcePhase.class);
        CANCELLED.next = EnumSet.noneOf(SourcePhase.class);
    }

    public boolean terminal() {
        return next.isEmpty();
    }

    public boolean canMoveTo(SourcePhase to) {
        return next.contains(to);
    }

    /** True while a cancel can still leave the source process running unchanged. */
    public boolean cancellable() {
        return canMoveTo(CANCELLED);
    }

    public SourcePhase checkTransition(SourcePhase to, String migrationId) {
        if (!canMoveTo(to)) {
            throw new IllegalStateException("migration " + migrationId + ": source phase " + this + " cannot move to "
                    + to + " (allowed: " + next + ")");
        }
        return to;
    }
}
