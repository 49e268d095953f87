package dev.pagehop.proc;

import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.SegmentationFault;
import dev.pagehop.workload.WorkloadFailure;

/**
 * Why a process stopped for good: a fatal signal (as Linux, SIGSEGV or SIGBUS in one thread
 * ends the whole thread group), a workload that found its state corrupt, a system call of a step
 * that failed, an internal error, or a kill. {@code tid} is the thread it happened on (0 for a
 * kill), {@code address} the faulting address where there is one.
 */
public record StopReason(Kind kind, int tid, int signal, int code, long address, String message) {

    public enum Kind {
        SIGNAL,
        WORKLOAD_FAILURE,
        SYSCALL_FAILURE,
        INTERNAL_ERROR,
        KILLED
    }

    public static StopReason signal(int tid, SegmentationFault f) {
        return new StopReason(Kind.SIGNAL, tid, f.signal(), f.code(), f.address(), f.getMessage());
    }

    public static StopReason workloadFailure(int tid, WorkloadFailure f) {
        return new StopReason(Kind.WORKLOAD_FAILURE, tid, 0, 0, f.address(), f.getMessage());
    }

    public static StopReason syscallFailure(int tid, ErrnoException e) {
        return new StopReason(Kind.SYSCALL_FAILURE, tid, 0, e.errno(), 0, e.getMessage());
    }

    public static StopReason internalError(int tid, Throwable t) {
        return new StopReason(Kind.INTERNAL_ERROR, tid, 0, 0, 0, t.toString());
    }

    public static StopReason killed() {
        return new StopReason(Kind.KILLED, 0, 0, 0, 0, "killed");
    }

    @Override
    public String toString() {
        return switch (kind) {
            case SIGNAL -> String.format("thread %d killed by %s: %s", tid,
                    signal == SegmentationFault.SIGBUS ? "SIGBUS" : "SIGSEGV", message);
            case WORKLOAD_FAILURE -> "thread " + tid + ": workload failed: " + message;
            case SYSCALL_FAILURE -> "thread " + tid + ": system call failed: " + message;
            case INTERNAL_ERROR -> "thread " + tid + ": internal error: " + message;
            case KILLED -> "killed";
        };
    }
}
