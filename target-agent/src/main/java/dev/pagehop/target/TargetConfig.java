package dev.pagehop.target;

/**
 * The target agent's limits.
 *
 * @param maxMemoryBytes      largest mapped size a single migration may bring
 * @param maxMigrations       incoming migrations at once
 * @param maxChunkBytes       largest chunk payload accepted
 * @param maxChunksInFlight   chunks a source may have unacknowledged
 */
record TargetConfig(long maxMemoryBytes, int maxMigrations, int maxChunkBytes, int maxChunksInFlight) {

    /** 16 MiB chunks bound a parsed message; 64 in flight bound the socket buffering per migration. */
    static TargetConfig defaults() {
        return new TargetConfig(8L << 30, 4, 16 << 20, 64);
    }

    TargetConfig {
        if (maxMemoryBytes <= 0 || maxMigrations < 1 || maxChunkBytes < 4096 || maxChunksInFlight < 1) {
            throw new IllegalArgumentException("target limits must be positive: memory " + maxMemoryBytes
                    + " bytes, migrations " + maxMigrations + ", chunk " + maxChunkBytes + " bytes, in flight "
                    + maxChunksInFlight);
        }
    }
}
