package dev.pagehop.track;

/** A tracker's life: created, then tracking, then stopped for good. */
enum TrackerState {
    NEW,
    TRACKING,
    STOPPED;

    boolean canMoveTo(TrackerState next) {
        return switch (this) {
            case NEW -> next == TRACKING || next == STOPPED;
            case TRACKING -> next == STOPPED;
            case STOPPED -> false;
        };
    }
}
