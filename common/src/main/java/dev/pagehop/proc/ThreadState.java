package dev.pagehop.proc;

import java.util.EnumSet;
import java.util.Set;

/**
 * One emulated thread, as the freezer sees it. A thread parked in a userfault counts as stopped
 * (the cgroup freezer treats a task sleeping in {@code handle_userfault} the same way); if its
 * fault is resolved while frozen, it completes that one access and then holds, still
 * PARKED_IN_FAULT, until thaw.
 *
 * <pre>
 *   NEW ──► RUNNING ◄──► FROZEN               (at a step boundary)
 *             │  ▲
 *             ▼  │ woken (held until thaw if frozen meanwhile)
 *          PARKED_IN_FAULT
 *   any ──► EXITED                             (kill, signal, workload failure)
 * </pre>
 */
public enum ThreadState {
    NEW,
    RUNNING,
    FROZEN,
    PARKED_IN_FAULT,
    EXITED;

    private Set<ThreadState> next() {
        return switch (this) {
            case NEW -> EnumSet.of(RUNNING, FROZEN, EXITED);
            case RUNNING -> EnumSet.of(FROZEN, PARKED_IN_FAULT, EXITED);
            case FROZEN -> EnumSet.of(RUNNING, EXITED);
            case PARKED_IN_FAULT -> EnumSet.of(RUNNING, EXITED);
            case EXITED -> EnumSet.noneOf(ThreadState.class);
        };
    }

    public ThreadState checkTransition(ThreadState target, int tid) {
        if (!next().contains(target)) {
            throw new IllegalStateException("thread " + tid + ": " + this + " -> " + target
                    + " is not a legal transition (from " + this + " only " + next() + ")");
        }
        return target;
    }

    /** Stopped as far as a freeze is concerned. */
    public boolean isStopped() {
        return this == FROZEN || this == PARKED_IN_FAULT || this == EXITED;
    }
}
