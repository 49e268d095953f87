package dev.pagehop.source;

/**
 * The source agent's limits.
 *
 * @param maxProcessMemoryBytes largest workload memory a Spawn may ask for
 * @param maxThreadsPerProcess  threads per process
 */
record SourceConfig(long maxProcessMemoryBytes, int maxThreadsPerProcess) {
    static SourceConfig defaults() {
        return new SourceConfig(8L << 30, 64);
    }
}
