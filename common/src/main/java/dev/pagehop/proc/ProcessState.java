package dev.pagehop.proc;

import java.util.EnumSet;
import java.util.Set;

/**
 * The life of an {@link EmulatedProcess}; every change goes through {@link #checkTransition}.
 *
 * <pre>
 *            start                freeze / freezeAt
 *   NEW ─────────────► RUNNING ───────────────────► FREEZING
 *    │ restore            ▲  │                         │ every thread at a step boundary
 *    │                    │  │                         │ or parked in a userfault
 *    │                    │  │ SIGSEGV, corrupt state  ▼
 *    └──────────────────► │  └──────► STOPPED ◄──── FROZEN ◄──┘
 *                 FROZEN ─┘ thaw          │  (FREEZING → STOPPED too; FROZEN → STOPPED when
 *                                         │   the access of a fault resolved while frozen is fatal)
 *   kill/close from any state but EXITED ─┴──────────► EXITED
 * </pre>
 */
public enum ProcessState {
    NEW,
    RUNNING,
    FREEZING,
    FROZEN,
    /** A thread took a fatal signal or the workload failed; the memory is kept for inspection. */
    STOPPED,
    /** Killed or closed; terminal. */
    EXITED;

    private Set<ProcessState> next() {
        return switch (this) {
            case NEW -> EnumSet.of(RUNNING, FROZEN, EXITED);
            case RUNNING -> EnumSet.of(FREEZING, STOPPED, EXITED);
            case FREEZING -> EnumSet.of(FROZEN, STOPPED, EXITED);
            // STOPPED: a fault resolved while frozen lets its access land then, and that access can be fatal.
            case FROZEN -> EnumSet.of(RUNNING, STOPPED, EXITED);
            case STOPPED -> EnumSet.of(EXITED);
            case EXITED -> EnumSet.noneOf(ProcessState.class);
        };
    }

    public boolean canMoveTo(ProcessState target) {
        return next().contains(target);
    }

    /** Fails with the pid, both states and the action when the move is not in the diagram. */
    public ProcessState checkTransition(ProcessState target, int pid, String action) {
        if (!canMoveTo(target)) {
            throw new IllegalStateException("process " + pid + ": cannot " + action + " while " + this
                    + " (" + this + " -> " + target + " is not a legal transition; from " + this
                    + " only " + next() + ")");
        }
        return target;
    }

    public boolean isTerminal() {
        return this == STOPPED || this == EXITED;
    }
}
