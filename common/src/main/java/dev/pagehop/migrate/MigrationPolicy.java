package dev.pagehop.migrate;

/**
 * The knobs of convergence, with the defaults the field uses:
 * <ul>
 *   <li>{@code downtimeLimitMs} 300 — QEMU's default downtime-limit;</li>
 *   <li>{@code maxRounds} 30 — guestperf's max_iters (Xen allows 29 + 1, P.Haul 8);</li>
 *   <li>{@code stopPages} 64 — P.Haul switches over when fewer than 64 pages were dumped;</li>
 *   <li>{@code growthStopPercent} 10 — P.Haul stops when a round grows by more than 10 %;</li>
 *   <li>throttle 20 % initial, +10 % per step, 99 % at most — QEMU's cpu-throttle-*;</li>
 *   <li>{@code throttleTriggerPercent} 50 — QEMU throttles when a period dirtied more than 50 %
 *       of what it transferred ({@code throttle-trigger-threshold}), in two periods running;</li>
 *   <li>{@code progressTimeoutMs} 150 s — KubeVirt's progressTimeout;</li>
 *   <li>{@code overallTimeoutMs} 300 s — guestperf's max_time;</li>
 *   <li>{@code maxAmplification} 3 — Xen stops iterating after sending 3 × RAM.</li>
 * </ul>
 * {@code maxBandwidthBytesPerSec} 0 means unlimited; otherwise it also caps the bandwidth the
 * convergence rule counts on. {@code postcopyAfterRounds} 0 means hybrid goes to post-copy only
 * when pre-copy does not converge; N goes post-copy after round N even if that round converged
 * (see {@link Convergence}).
 */
public record MigrationPolicy(
        MigrationMode mode,
        long downtimeLimitMs,
        long maxBandwidthBytesPerSec,
        int maxRounds,
        long stopPages,
        int growthStopPercent,
        boolean growthRule,
        AutoConverge autoConverge,
        int throttleInitialPercent,
        int throttleIncrementPercent,
        int throttleMaxPercent,
        int throttleTriggerPercent,
        NoConvergenceAction noConvergenceAction,
        long progressTimeoutMs,
        long overallTimeoutMs,
        double maxAmplification,
        int postcopyAfterRounds,
        int chunkBytes,
        int maxChunksInFlight,
        boolean verifyDigest) {

    public static final long DEFAULT_DOWNTIME_LIMIT_MS = 300;
    public static final int DEFAULT_MAX_ROUNDS = 30;
    public static final long DEFAULT_STOP_PAGES = 64;
    public static final int DEFAULT_GROWTH_STOP_PERCENT = 10;
    public static final int DEFAULT_THROTTLE_INITIAL = 20;
    public static final int DEFAULT_THROTTLE_INCREMENT = 10;
    public static final int DEFAULT_THROTTLE_MAX = 99;
    public static final int DEFAULT_THROTTLE_TRIGGER = 50;
    public static final long DEFAULT_PROGRESS_TIMEOUT_MS = 150_000;
    public static final long DEFAULT_OVERALL_TIMEOUT_MS = 300_000;
    public static final double DEFAULT_MAX_AMPLIFICATION = 3.0;
    /**
     * 256 KiB: large enough that per-message costs (headers, acks, a CRC call) vanish next to the
     * copy, small enough that 16 in flight stay within 4 MiB per migration.
     */
    public static final int DEFAULT_CHUNK_BYTES = 256 * 1024;
    public static final int DEFAULT_MAX_CHUNKS_IN_FLIGHT = 16;

    public MigrationPolicy {
        if (mode == null || autoConverge == null || noConvergenceAction == null) {
            throw new IllegalArgumentException("policy needs a mode, an auto-converge mode and a no-convergence action");
        }
        require(downtimeLimitMs > 0, "downtime limit " + downtimeLimitMs + " ms must be positive");
        require(maxBandwidthBytesPerSec >= 0, "bandwidth cap " + maxBandwidthBytesPerSec + " must not be negative");
        require(maxRounds >= 1, "max rounds " + maxRounds + " must be at least 1");
        require(stopPages >= 0, "stop pages " + stopPages + " must not be negative");
        require(growthStopPercent >= 0, "growth stop percent " + growthStopPercent + " must not be negative");
        require(throttleInitialPercent >= 1 && throttleInitialPercent <= 99,
                "throttle initial " + throttleInitialPercent + " % outside 1..99");
        require(throttleIncrementPercent >= 1 && throttleIncrementPercent <= 99,
                "throttle increment " + throttleIncrementPercent + " % outside 1..99");
        require(throttleMaxPercent >= throttleInitialPercent && throttleMaxPercent <= 99,
                "throttle max " + throttleMaxPercent + " % outside " + throttleInitialPercent + "..99");
        require(throttleTriggerPercent >= 1 && throttleTriggerPercent <= 100,
                "throttle trigger " + throttleTriggerPercent + " % outside 1..100");
        require(progressTimeoutMs > 0, "progress timeout " + progressTimeoutMs + " ms must be positive");
        require(overallTimeoutMs > 0, "overall timeout " + overallTimeoutMs + " ms must be positive");
        require(maxAmplification > 1.0, "max amplification " + maxAmplification + " must exceed 1");
        require(postcopyAfterRounds >= 0, "post-copy after rounds " + postcopyAfterRounds + " must not be negative");
        require(noConvergenceAction != NoConvergenceAction.POSTCOPY || mode == MigrationMode.HYBRID,
                "falling back to post-copy needs mode HYBRID, not " + mode);
        require(chunkBytes >= 4096 && chunkBytes <= 16 << 20,
                "chunk size " + chunkBytes + " bytes outside 4 KiB..16 MiB");
        require(maxChunksInFlight >= 1 && maxChunksInFlight <= 1024,
                "chunks in flight " + maxChunksInFlight + " outside 1..1024");
    }

    public static MigrationPolicy defaults() {
        return new MigrationPolicy(MigrationMode.PRECOPY, DEFAULT_DOWNTIME_LIMIT_MS, 0, DEFAULT_MAX_ROUNDS,
                DEFAULT_STOP_PAGES, DEFAULT_GROWTH_STOP_PERCENT, true, AutoConverge.THROTTLE,
                DEFAULT_THROTTLE_INITIAL, DEFAULT_THROTTLE_INCREMENT, DEFAULT_THROTTLE_MAX, DEFAULT_THROTTLE_TRIGGER,
                NoConvergenceAction.ABORT, DEFAULT_PROGRESS_TIMEOUT_MS, DEFAULT_OVERALL_TIMEOUT_MS,
                DEFAULT_MAX_AMPLIFICATION, 0, DEFAULT_CHUNK_BYTES, DEFAULT_MAX_CHUNKS_IN_FLIGHT, true);
    }

    public MigrationPolicy withMode(MigrationMode m) {
        NoConvergenceAction action = m == MigrationMode.HYBRID ? NoConvergenceAction.POSTCOPY : noConvergenceAction;
        return new MigrationPolicy(m, downtimeLimitMs, maxBandwidthBytesPerSec, maxRounds, stopPages, growthStopPercent,
                growthRule, autoConverge, throttleInitialPercent, throttleIncrementPercent, throttleMaxPercent,
                throttleTriggerPercent, action, progressTimeoutMs, overallTimeoutMs, maxAmplification,
                postcopyAfterRounds, chunkBytes, maxChunksInFlight, verifyDigest);
    }

    public MigrationPolicy withDowntimeLimitMs(long v) {
        return new MigrationPolicy(mode, v, maxBandwidthBytesPerSec, maxRounds, stopPages, growthStopPercent,
                growthRule, autoConverge, throttleInitialPercent, throttleIncrementPercent, throttleMaxPercent,
                throttleTriggerPercent, noConvergenceAction, progressTimeoutMs, overallTimeoutMs, maxAmplification,
                postcopyAfterRounds, chunkBytes, maxChunksInFlight, verifyDigest);
    }

    public MigrationPolicy withMaxRounds(int v) {
        return new MigrationPolicy(mode, downtimeLimitMs, maxBandwidthBytesPerSec, v, stopPages, growthStopPercent,
                growthRule, autoConverge, throttleInitialPercent, throttleIncrementPercent, throttleMaxPercent,
                throttleTriggerPercent, noConvergenceAction, progressTimeoutMs, overallTimeoutMs, maxAmplification,
                postcopyAfterRounds, chunkBytes, maxChunksInFlight, verifyDigest);
    }

    public MigrationPolicy withAutoConverge(AutoConverge v) {
        return new MigrationPolicy(mode, downtimeLimitMs, maxBandwidthBytesPerSec, maxRounds, stopPages,
                growthStopPercent, growthRule, v, throttleInitialPercent, throttleIncrementPercent, throttleMaxPercent,
                throttleTriggerPercent, noConvergenceAction, progressTimeoutMs, overallTimeoutMs, maxAmplification,
                postcopyAfterRounds, chunkBytes, maxChunksInFlight, verifyDigest);
    }

    public MigrationPolicy withNoConvergenceAction(NoConvergenceAction v) {
        return new MigrationPolicy(mode, downtimeLimitMs, maxBandwidthBytesPerSec, maxRounds, stopPages,
                growthStopPercent, growthRule, autoConverge, throttleInitialPercent, throttleIncrementPercent,
                throttleMaxPercent, throttleTriggerPercent, v, progressTimeoutMs, overallTimeoutMs, maxAmplification,
                postcopyAfterRounds, chunkBytes, maxChunksInFlight, verifyDigest);
    }

    public MigrationPolicy withGrowthRule(boolean on, int percent) {
        return new MigrationPolicy(mode, downtimeLimitMs, maxBandwidthBytesPerSec, maxRounds, stopPages, percent,
                on, autoConverge, throttleInitialPercent, throttleIncrementPercent, throttleMaxPercent,
                throttleTriggerPercent, noConvergenceAction, progressTimeoutMs, overallTimeoutMs, maxAmplification,
                postcopyAfterRounds, chunkBytes, maxChunksInFlight, verifyDigest);
    }

    public MigrationPolicy withStopPages(long v) {
        return new MigrationPolicy(mode, downtimeLimitMs, maxBandwidthBytesPerSec, maxRounds, v, growthStopPercent,
                growthRule, autoConverge, throttleInitialPercent, throttleIncrementPercent, throttleMaxPercent,
                throttleTriggerPercent, noConvergenceAction, progressTimeoutMs, overallTimeoutMs, maxAmplification,
                postcopyAfterRounds, chunkBytes, maxChunksInFlight, verifyDigest);
    }

    public MigrationPolicy withTimeouts(long progressMs, long overallMs) {
        return new MigrationPolicy(mode, downtimeLimitMs, maxBandwidthBytesPerSec, maxRounds, stopPages,
                growthStopPercent, growthRule, autoConverge, throttleInitialPercent, throttleIncrementPercent,
                throttleMaxPercent, throttleTriggerPercent, noConvergenceAction, progressMs, overallMs,
                maxAmplification, postcopyAfterRounds, chunkBytes, maxChunksInFlight, verifyDigest);
    }

    public MigrationPolicy withBandwidthCap(long bytesPerSec) {
        return new MigrationPolicy(mode, downtimeLimitMs, bytesPerSec, maxRounds, stopPages, growthStopPercent,
                growthRule, autoConverge, throttleInitialPercent, throttleIncrementPercent, throttleMaxPercent,
                throttleTriggerPercent, noConvergenceAction, progressTimeoutMs, overallTimeoutMs, maxAmplification,
                postcopyAfterRounds, chunkBytes, maxChunksInFlight, verifyDigest);
    }

    public MigrationPolicy withMaxAmplification(double v) {
        return new MigrationPolicy(mode, downtimeLimitMs, maxBandwidthBytesPerSec, maxRounds, stopPages,
                growthStopPercent, growthRule, autoConverge, throttleInitialPercent, throttleIncrementPercent,
                throttleMaxPercent, throttleTriggerPercent, noConvergenceAction, progressTimeoutMs, overallTimeoutMs, v,
                postcopyAfterRounds, chunkBytes, maxChunksInFlight, verifyDigest);
    }

    public MigrationPolicy withPostcopyAfterRounds(int v) {
        return new MigrationPolicy(mode, downtimeLimitMs, maxBandwidthBytesPerSec, maxRounds, stopPages,
                growthStopPercent, growthRule, autoConverge, throttleInitialPercent, throttleIncrementPercent,
                throttleMaxPercent, throttleTriggerPercent, noConvergenceAction, progressTimeoutMs, overallTimeoutMs,
                maxAmplification, v, chunkBytes, maxChunksInFlight, verifyDigest);
    }

    public MigrationPolicy withThrottle(int initial, int increment, int max, int trigger) {
        return new MigrationPolicy(mode, downtimeLimitMs, maxBandwidthBytesPerSec, maxRounds, stopPages,
                growthStopPercent, growthRule, autoConverge, initial, increment, max, trigger, noConvergenceAction,
                progressTimeoutMs, overallTimeoutMs, maxAmplification, postcopyAfterRounds, chunkBytes,
                maxChunksInFlight, verifyDigest);
    }

    public MigrationPolicy withChunking(int bytes, int inFlight) {
        return new MigrationPolicy(mode, downtimeLimitMs, maxBandwidthBytesPerSec, maxRounds, stopPages,
                growthStopPercent, growthRule, autoConverge, throttleInitialPercent, throttleIncrementPercent,
                throttleMaxPercent, throttleTriggerPercent, noConvergenceAction, progressTimeoutMs, overallTimeoutMs,
                maxAmplification, postcopyAfterRounds, bytes, inFlight, verifyDigest);
    }

    public MigrationPolicy withVerifyDigest(boolean v) {
        return new MigrationPolicy(mode, downtimeLimitMs, maxBandwidthBytesPerSec, maxRounds, stopPages,
                growthStopPercent, growthRule, autoConverge, throttleInitialPercent, throttleIncrementPercent,
                throttleMaxPercent, throttleTriggerPercent, noConvergenceAction, progressTimeoutMs, overallTimeoutMs,
                maxAmplification, postcopyAfterRounds, chunkBytes, maxChunksInFlight, v);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("migration policy: " + message);
        }
    }
}
