package dev.pagehop.target;

/**
 * The target agent's limits.
 *
 * @param maxMemoryBytes      largest mapped size a single migration may bring
 * @param maxMigrations       incoming migrations at once
 * @param maxTotalMemoryBytes most process memory held at once: resident memory of the processes
 *                            that run here plus the mapped size of each migration arriving
 * @param maxChunkBytes       largest chunk payload accepted
 * @param maxChunksInFlight   chunks a source may have unacknowledged
 */
record TargetConfig(long maxMemoryBytes, int maxMigrations, long maxTotalMemoryBytes, int maxChunkBytes,
        int maxChunksInFlight) {

    /** 16 MiB chunks bound a parsed message; 64 in flight bound the socket buffering per migration. */
    static TargetConfig defaults() {
        return new TargetConfig(8L << 30, 4, defaultTotal(8L << 30, 4), 16 << 20, 64);
    }

    /** Room for {@code maxMigrations} migrations of the largest size, the budget's default. */
    static long defaultTotal(long maxMemoryBytes, int maxMigrations) {
        return maxMemoryBytes > Long.MAX_VALUE / Math.max(1, maxMigrations) ? Long.MAX_VALUE
                : maxMemoryBytes * maxMigrations;
    }

    TargetConfig {
        if (maxMemoryBytes <= 0 || maxMigrations < 1 || maxTotalMemoryBytes <= 0 || maxChunkBytes < 4096
                || maxChunksInFlight < 1) {
            throw new IllegalArgumentException("target limits must be positive: memory " + maxMemoryBytes
                    + " bytes, migrations " + maxMigrations + ", total memory " + maxTotalMemoryBytes + " bytes, chunk "
                    + maxChunkBytes + " bytes, in flight " + maxChunksInFlight);
        }
    }
}
