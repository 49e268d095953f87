package dev.pagehop.bench.scenario;

/**
 * One run of a matrix.
 *
 * @param index        1-based position in the expanded matrix
 * @param memoryBytes  the process's memory (its heap), bytes
 * @param workloadName the shape's name in the scenario file
 * @param workload     the shape
 * @param threads      emulated threads
 * @param granule      4K, 16K or 64K
 * @param tracker      dirty tracker the source runs
 * @param mode         precopy, postcopy or hybrid
 * @param bandwidth    network profile name ({@link NetworkProfile})
 * @param downtimeLimitMs QEMU's downtime-limit
 * @param repetition   0-based repetition of the same cell
 */
public record Scenario(int index, long memoryBytes, String workloadName, WorkloadShape workload, int threads,
        String granule, String tracker, String mode, String bandwidth, long downtimeLimitMs, int repetition) {

    public long pageSize() {
        return switch (granule) {
            case "4K" -> 4096;
            case "16K" -> 16384;
            case "64K" -> 65536;
            default -> throw new IllegalArgumentException("granule '" + granule + "' is not 4K, 16K or 64K");
        };
    }

    /** The cell without its position: two scenarios with the same cell measure the same thing. */
    String cell() {
        return String.format("%d-%s-t%d-%s-%s-%s-%s-%d-r%d", memoryBytes, workloadName, threads, granule, tracker, mode,
                bandwidth, downtimeLimitMs, repetition);
    }

    /** A stable id for file names and tables, e.g. {@code 003-512MiB-random-20-t1-4K-uffd-wp-async-precopy-loopback-300ms}. */
    public String id() {
        return String.format("%03d-%dMiB-%s-t%d-%s-%s-%s-%s-%dms%s", index, memoryBytes >> 20, workloadName, threads, granule,
                tracker, mode, bandwidth, downtimeLimitMs, repetition == 0 ? "" : "-r" + repetition);
    }
}
