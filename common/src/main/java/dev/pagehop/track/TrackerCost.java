package dev.pagehop.track;

/**
 * A tracker's own cost: write traps taken and the time in them, collects and the time they took,
 * page-table pages populated to arm tracking, and (only when the tracker runs with a true write
 * log, in tests and benchmarks) pages reported that were not written.
 */
public record TrackerCost(long traps, long trapNanos, long collects, long collectNanos,
        long pageTablesPopulated, long pagesReported, long falsePositivePages) {
}
