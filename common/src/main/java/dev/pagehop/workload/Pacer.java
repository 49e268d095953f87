package dev.pagehop.workload;

/**
 * Paces one thread's steps: a token bucket for the {@link RateLimit} and a duty-cycle throttle
 * for auto-converge. Pure arithmetic over times the caller reads from its {@link Ticker}, so it
 * is tested with numbers, and single-writer (owned by the thread it paces).
 *
 * <p>Rate: the bucket fills at the target rate and holds at most {@link #BURST_NANOS} worth of
 * units (at least one step's worth), so a thread that was frozen or slow does not burst far past
 * the target afterwards. A step may start when the bucket is not in debt; its pages, bytes or
 * step are then debited, which may drive the bucket negative (a step that writes more than the
 * burst still runs, and the next one waits for the debt).
 *
 * <p>Throttle p % (the auto-converge lever) cuts what the thread writes to about (100 - p) %,
 * whatever paces it: a rate target is scaled by (100 - p) %, and, as QEMU's
 * {@code cpu-throttle-percentage}, the thread waits p / (100 - p) of the time it ran, so a
 * CPU-bound thread runs only (100 - p) % of wall time. The second alone would not bite on a
 * thread paced well below its CPU ceiling (it runs little and so owes little), which is why both
 * apply. The wait is taken once the owed time reaches {@link #MIN_THROTTLE_WAIT_NANOS}, so
 * sub-microsecond steps are not turned into sub-microsecond sleeps the OS cannot honour.
 */
public final class Pacer {
    /** Bucket depth: 10 ms of the target rate, small enough that bursts stay invisible at round scale. */
    public static final long BURST_NANOS = 10_000_000;
    /** QEMU throttles in 10 ms time slices; we pay owed time in slices of at least 100 µs. */
    public static final long MIN_THROTTLE_WAIT_NANOS = 100_000;
    public static final int MAX_THROTTLE_PERCENT = 99;

    private RateLimit rate = RateLimit.unlimited();
    private int rateThrottle;
    /** The target after the throttle, in the rate's unit per second. */
    private double perSecond;
    private double tokens;
    private long lastRefillNanos;
    private boolean started;
    private long throttleOwedNanos;
    private long throttleUntilNanos = Long.MIN_VALUE;

    /**
     * The earliest time the next step may start, given the current rate and throttle; {@code now}
     * when it may start at once.
     */
    public long earliestStart(long now, RateLimit current, int throttlePercent) {
        if (!current.equals(rate) || throttlePercent != rateThrottle) {
            checkThrottle(throttlePercent);
            rate = current;
            rateThrottle = throttlePercent;
            perSecond = current.perSecond() * (100 - throttlePercent) / 100.0;
            tokens = 0;
            started = false;
        }
        long start = now;
        if (rate.isLimited()) {
            refill(now);
            if (tokens < 0) {
                start = now + (long) Math.ceil(-tokens / perSecond * 1e9);
            }
        }
        return Math.max(start, throttleUntilNanos);
    }

    /** As {@link #earliestStart(long, RateLimit, int)} without throttle. */
    public long earliestStart(long now, RateLimit current) {
        return earliestStart(now, current, 0);
    }

    private static void checkThrottle(int throttlePercent) {
        if (throttlePercent < 0 || throttlePercent > MAX_THROTTLE_PERCENT) {
            throw new IllegalArgumentException("throttle " + throttlePercent + " % is outside 0.." + MAX_THROTTLE_PERCENT);
        }
    }

    /**
     * Accounts for a finished step that ran from {@code startNanos} to {@code endNanos} and wrote
     * {@code pages} pages and {@code bytes} bytes, under {@code throttlePercent} (0..99).
     */
    public void afterStep(long startNanos, long endNanos, long pages, long bytes, int throttlePercent) {
        checkThrottle(throttlePercent);
        switch (rate.unit()) {
            case UNLIMITED -> { }
            case PAGES -> tokens -= pages;
            case BYTES -> tokens -= bytes;
            case STEPS -> tokens -= 1;
        }
        if (throttlePercent == 0) {
            throttleOwedNanos = 0;
            return;
        }
        long ran = Math.max(0, endNanos - startNanos);
        throttleOwedNanos += ran * throttlePercent / (100 - throttlePercent);
        if (throttleOwedNanos >= MIN_THROTTLE_WAIT_NANOS) {
            throttleUntilNanos = endNanos + throttleOwedNanos;
            throttleOwedNanos = 0;
        }
    }

    private void refill(long now) {
        double burst = Math.max(1, perSecond * BURST_NANOS / 1e9);
        if (!started) {
            started = true;
            lastRefillNanos = now;
            tokens = burst;
            return;
        }
        long elapsed = now - lastRefillNanos;
        if (elapsed > 0) {
            tokens = Math.min(burst, tokens + elapsed * perSecond / 1e9);
            lastRefillNanos = now;
        }
    }
}
