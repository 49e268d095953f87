package dev.pagehop.workload;

/**
 * What a workload has done: steps taken (the progress counter, carried across a migration),
 * bytes and pages written by its stores, and the time span they cover as read from the process
 * {@link Ticker}. Rates are over that span; take two snapshots and {@link #since} them for the
 * rate of an interval (the achieved rate during one migration round, for example).
 *
 * <p>{@code steps} is the progress counter: it includes {@code stepsBefore}, the steps a restored
 * process had already taken elsewhere, so it keeps counting across a migration; rates count only
 * what ran in this interval.
 *
 * <p>"Pages written" counts, per step, each change of target page in its store sequence: a
 * step that writes 64 bytes into one page counts one page. It is the rate at which the workload
 * dirties pages before any deduplication by the tracker, the figure QEMU reports as the dirty
 * page rate.
 */
public record WorkloadStats(long steps, long bytesWritten, long pagesWritten, long nanos, long stepsBefore) {

    public static final WorkloadStats ZERO = new WorkloadStats(0, 0, 0, 0, 0);

    /** Stats of an interval with nothing carried over. */
    public WorkloadStats(long steps, long bytesWritten, long pagesWritten, long nanos) {
        this(steps, bytesWritten, pagesWritten, nanos, 0);
    }

    public double bytesPerSecond() {
        return nanos <= 0 ? 0 : bytesWritten * 1e9 / nanos;
    }

    public double pagesPerSecond() {
        return nanos <= 0 ? 0 : pagesWritten * 1e9 / nanos;
    }

    public double stepsPerSecond() {
        return nanos <= 0 ? 0 : (steps - stepsBefore) * 1e9 / nanos;
    }

    public double mebibytesPerSecond() {
        return bytesPerSecond() / (1024 * 1024);
    }

    /** The interval from {@code earlier} to this snapshot. */
    public WorkloadStats since(WorkloadStats earlier) {
        return new WorkloadStats(steps - earlier.steps, bytesWritten - earlier.bytesWritten,
                pagesWritten - earlier.pagesWritten, nanos - earlier.nanos, 0);
    }

    public WorkloadStats plus(WorkloadStats other) {
        return new WorkloadStats(steps + other.steps, bytesWritten + other.bytesWritten,
                pagesWritten + other.pagesWritten, Math.max(nanos, other.nanos), stepsBefore + other.stepsBefore);
    }

    @Override
    public String toString() {
        return String.format("%d steps, %d bytes, %d pages in %.3f ms (%.1f pages/s, %.2f MiB/s)",
                steps, bytesWritten, pagesWritten, nanos / 1e6, pagesPerSecond(), mebibytesPerSecond());
    }
}
