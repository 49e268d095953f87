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
     * Bytes put on the wire per second, as QEMU measures its bandwidth ({@code transferred / time}
     * per period). Not covered page bytes: a zero page travels as a 16-byte marker, so a round of
     * mostly zero pages (round 0 of a sparse heap) would claim a link many times faster than the
     * one the dirty pages of the final round must cross — the demo predicted 205 ms for a
     * switchover that took 1632 ms that way. Such a round errs the other way here, slower than
     * the link, which costs at most one more round; the next round of dirty pages measures it.
     * 0 when the round took no measurable time.
     */
    public long bandwidthBytesPerSec() {
        return wireBytesPerSec();
    }

    /** Covered page bytes (zero pages included) per second: how fast the round went over memory. */
    public long pageBytesPerSec() {
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
