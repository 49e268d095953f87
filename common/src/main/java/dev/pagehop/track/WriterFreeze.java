package dev.pagehop.track;

/**
 * Stops every thread that can store into the tracked address space, at an instruction boundary,
 * until the returned {@link Thaw} is closed. Soft-dirty needs it: reading pagemap bit 55 and
 * clearing it with {@code clear_refs} are two steps, and a store between them would be lost
 * (CRIU freezes the task for the same reason). The uffd-wp trackers get-and-rearm atomically and
 * never call it.
 */
@FunctionalInterface
public interface WriterFreeze {

    Thaw freeze();

    /** Resumes the frozen writers. */
    interface Thaw extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * For callers that guarantee no thread stores while {@code collect()} runs (a frozen
     * process, a single-threaded test): freezing is then a no-op.
     */
    static WriterFreeze callerGuaranteesQuiescence() {
        return () -> () -> { };
    }
}
