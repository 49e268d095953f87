package dev.pagehop.proc;

import dev.pagehop.workload.RateLimit;
import dev.pagehop.workload.Ticker;

/**
 * How a process runs: the {@link Ticker} its threads pace against (the system clock, or a
 * manual one in tests), the initial write-rate target (null: the workload's default) and the
 * initial throttle percentage (0..99, the auto-converge lever).
 */
public record ProcessOptions(Ticker ticker, RateLimit rate, int throttlePercent) {

    public ProcessOptions {
        if (ticker == null) {
            throw new IllegalArgumentException("process options need a ticker");
        }
        if (throttlePercent < 0 || throttlePercent > 99) {
            throw new IllegalArgumentException("throttle " + throttlePercent + " % is outside 0..99");
        }
    }

    public static ProcessOptions defaults() {
        return new ProcessOptions(Ticker.system(), null, 0);
    }

    public ProcessOptions withTicker(Ticker t) {
        return new ProcessOptions(t, rate, throttlePercent);
    }

    public ProcessOptions withRate(RateLimit r) {
        return new ProcessOptions(ticker, r, throttlePercent);
    }

    public ProcessOptions withThrottle(int percent) {
        return new ProcessOptions(ticker, rate, percent);
    }
}
