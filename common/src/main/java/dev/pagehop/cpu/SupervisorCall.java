package dev.pagehop.cpu;

/**
 * What an SVC instruction enters: the emulated kernel. It sees the registers as they are after
 * the SVC (PC already points at the next instruction, as ELR_EL1 would), changes them as the
 * syscall does, and says whether the CPU keeps running this thread.
 */
@FunctionalInterface
public interface SupervisorCall {

    /** Whether the interpreter continues after the call or stops this run. */
    enum Outcome {
        /** Keep executing this thread. */
        CONTINUE,
        /** Stop the run: the thread exited, blocked (futex), yielded, or the process is gone. */
        STOP
    }

    Outcome call(CpuState state, int immediate);
}
