package dev.pagehop.track;

/**
 * Finds the pages a process wrote between two collects. {@link #start()} arms tracking over the
 * whole address space (VMAs created later are tracked too); each {@link #collect()} returns what
 * was written since the previous collect (or since start) and re-arms in the same step, so a
 * store that races with the collect is reported by this collect or the next, never lost.
 */
public interface DirtyTracker extends AutoCloseable {

    /** The tracker's name as the CLI and reports spell it: uffd-wp-async, soft-dirty, uffd-wp-sync. */
    String name();

    void start();

    DirtySet collect();

    void stop();

    /** The tracker's own cost counters so far. */
    TrackerCost cost();

    @Override
    default void close() {
        stop();
    }
}
