package dev.pagehop.workload;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A hand-driven {@link Ticker} for tests and deterministic runs. Every {@link #nanoTime()} read
 * advances the clock by {@code nanosPerRead} (0 by default), which gives each step a fixed,
 * known duration; {@link #parkUntil} moves the clock forward to the deadline without waiting.
 * Thread-safe; the clock never goes backwards.
 */
public final class ManualTicker implements Ticker {
    private final AtomicLong now = new AtomicLong();
    private volatile long nanosPerRead;

    public ManualTicker(long startNanos) {
        now.set(startNanos);
    }

    /** Makes each clock read advance time by {@code nanos}: a step then "takes" a fixed time. */
    public ManualTicker advancingOnRead(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("a clock read cannot move time back by " + nanos + " ns");
        }
        this.nanosPerRead = nanos;
        return this;
    }

    @Override
    public long nanoTime() {
        return now.addAndGet(nanosPerRead);
    }

    /** The current time without advancing it. */
    public long peekNanos() {
        return now.get();
    }

    public void advance(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("cannot move the clock back by " + nanos + " ns");
        }
        now.addAndGet(nanos);
    }

    @Override
    public void parkUntil(long deadlineNanos) {
        now.accumulateAndGet(deadlineNanos, Math::max);
    }
}
