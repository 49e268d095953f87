package dev.pagehop.cli.progress;

import java.util.OptionalDouble;

/**
 * How long until the migration can switch over, from the live figures. Pre-copy switches over
 * once pending bytes fit into bandwidth × downtime limit (QEMU's rule, METRICS.md); pending
 * shrinks at bandwidth − dirty rate, so the wait is the excess over that threshold divided by the
 * net rate. When the workload dirties as fast as the link carries, there is no ETA: the policy's
 * auto-converge or its stop rules decide what happens, and the display says so.
 */
public final class Eta {
    private Eta() {
    }

    /** Seconds until switchover, or empty when pending does not shrink. */
    public static OptionalDouble seconds(long remainingBytes, long bandwidthBytesPerSec, long dirtyRateBytesPerSec,
            long downtimeLimitMs) {
        if (remainingBytes <= 0) {
            return OptionalDouble.of(0);
        }
        if (bandwidthBytesPerSec <= 0) {
            return OptionalDouble.empty();
        }
        double threshold = bandwidthBytesPerSec * (downtimeLimitMs / 1000.0);
        if (remainingBytes <= threshold) {
            return OptionalDouble.of(0);
        }
        long net = bandwidthBytesPerSec - dirtyRateBytesPerSec;
        if (net <= 0) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of((remainingBytes - threshold) / net);
    }
}
