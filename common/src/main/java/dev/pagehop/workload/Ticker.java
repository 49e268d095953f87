package dev.pagehop.workload;

import java.util.concurrent.locks.LockSupport;

/**
 * Time as the pacer sees it: a monotonic clock and a way to wait for a deadline. Injected so
 * tests drive time by hand (a manual ticker's wait simply moves its clock to the deadline) and
 * never sleep. A wait may return early (freeze unparks paced threads); callers re-check.
 */
public interface Ticker {

    long nanoTime();

    /** Waits until {@code deadlineNanos} or until the thread is unparked, whichever is first. */
    void parkUntil(long deadlineNanos);

    /** The real clock: {@link System#nanoTime()} and {@link LockSupport#parkNanos}. */
    static Ticker system() {
        return SystemTicker.INSTANCE;
    }

    /** A ticker that does not move unless told to; waiting moves it to the deadline at once. */
    static ManualTicker manual() {
        return new ManualTicker(0);
    }

    enum SystemTicker implements Ticker {
        INSTANCE;

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void parkUntil(long deadlineNanos) {
            long wait = deadlineNanos - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(this, wait);
            }
        }
    }
}
