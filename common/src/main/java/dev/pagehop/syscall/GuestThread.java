package dev.pagehop.syscall;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.cpu.Interpreter;

/**
 * One thread of a guest program: its registers, its interpreter and the kernel-side fields
 * Linux keeps per task (clear_child_tid, robust list head, what it waits on).
 */
public final class GuestThread {

    /** Scheduling state; transitions only through {@link #moveTo}. */
    public enum State {
        RUNNABLE, FUTEX_WAIT, EXITED;

        boolean canMoveTo(State next) {
            return switch (this) {
                case RUNNABLE -> next == FUTEX_WAIT || next == EXITED;
                case FUTEX_WAIT -> next == RUNNABLE || next == EXITED;
                case EXITED -> false;
            };
        }
    }

    private final int tid;
    final CpuState cpu;
    final Interpreter interpreter;
    private State state = State.RUNNABLE;
    long clearChildTid;
    long robustList;
    long futexAddress;

    GuestThread(int tid, CpuState cpu, Interpreter interpreter) {
        this.tid = tid;
        this.cpu = cpu;
        this.interpreter = interpreter;
    }

    public int tid() {
        return tid;
    }

    public State state() {
        return state;
    }

    /** The live registers; read them only while the program is not running. */
    public CpuState cpu() {
        return cpu;
    }

    public long instructionsRetired() {
        return interpreter.instructionsRetired();
    }

    void moveTo(State next) {
        if (!state.canMoveTo(next)) {
            throw new IllegalStateException("thread " + tid + " cannot go from " + state + " to " + next);
        }
        state = next;
    }
}
