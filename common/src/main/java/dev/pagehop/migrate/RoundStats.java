package dev.pagehop.migrate;

/**
 * What one round did. {@code pageBytes} counts every page the round covered (zero pages
 * included) and {@code transferredBytes} what went on the wire; {@code dirtyBytesAfter} is the
 * dirty set collected when the round ended, i.e. what the workload wrote while it ran.
 */
public record RoundStats(
        int round,
        boolean finalRound,
        long startNs,
        long durationNs,
        long normalPages,
        long zeroPages,
        long unmappedBytes,
        long pageBytes,
        long transferredBytes,
        long dirtyBytesAfter,
        long collectNs,
        int throttlePercent) {

    public RoundStats {
        if (round < 0 || durationNs < 0 || pageBytes < 0 || transferredBytes < 0 || dirtyBytesAfter < 0) {
            throw new IllegalArgumentException("round statistics with negative values: round " + round + ", duration "
                    + durationNs + " ns, page bytes " + pageBytes + ", transferred " + transferredBytes + ", dirty after "
                    + dirtyBytesAfter);
        }
    }

    /**
     * Page bytes carried per second. Counted in covered pages, not wire bytes, because the
     * prediction divides pending bytes (also covered pages) by it; a round full of zero pages
     * would otherwise make the link look slow. 0 when the round took no measurable time.
     */
    public long bandwidthBytesPerSec() {
        return durationNs == 0 ? 0 : (long) (pageBytes * 1e9 / durationNs);
    }

    /** Bytes the workload dirtied per second while the round ran (QEMU dirty-pages-rate × page size). */
    public long dirtyRateBytesPerSec() {
        return durationNs == 0 ? 0 : (long) (dirtyBytesAfter * 1e9 / durationNs);
    }

    public long wireBytesPerSec() {
        return durationNs == 0 ? 0 : (long) (transferredBytes * 1e9 / durationNs);
    }
}
