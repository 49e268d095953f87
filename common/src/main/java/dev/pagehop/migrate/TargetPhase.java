package dev.pagehop.migrate;

import java.util.EnumSet;
import java.util.Set;

/** The phases of a migration on the target; see package-info for the diagram. */
public enum TargetPhase {
    PREPARED,
    RECEIVING,
    FINAL_ROUND_RECEIVED,
    READY,
    RUNNING,
    POSTCOPY,
    POSTCOPY_PAUSED,
    ABORTED,
    FAILED;

    private Set<TargetPhase> next;

    static {
        PREPARED.next = EnumSet.of(RECEIVING, ABORTED, FAILED);
        RECEIVING.next = EnumSet.of(FINAL_ROUND_RECEIVED, ABORTED, FAILED);
        FINAL_ROUND_RECEIVED.next = EnumSet.of(READY, POSTCOPY, ABORTED, FAILED);
        READY.next = EnumSet.of(RUNNING, ABORTED, FAILED);
        POSTCOPY.next = EnumSet.of(POSTCOPY_PAUSED, RUNNING, FAILED);
        POSTCOPY_PAUSED.next = EnumSet.of(POSTCOPY, FAILED);
        RUNNING.next = EnumSet.noneOf(TargetPhase.class);
        ABORTED.next = EnumSet.noneOf(TargetPhase.class);
        FAILED.next = EnumSet.noneOf(TargetPhase.class);
    }

    public boolean terminal() {
        return next.isEmpty();
    }

    public boolean canMoveTo(TargetPhase to) {
        return next.contains(to);
    }

    public TargetPhase checkTransition(TargetPhase to, String migrationId) {
        if (!canMoveTo(to)) {
            throw new IllegalStateException("migration " + migrationId + ": target phase " + this + " cannot move to "
                    + to + " (allowed: " + next + ")");
        }
        return to;
    }
}
