package dev.pagehop.proc;

import dev.pagehop.workload.RateLimit;
import dev.pagehop.workload.Ticker;

/**
 * How a process runs: the {@link Ticker} its threads pace against (the system clock, or a
 * manual one in tests), the initial write-rate target (null: the workload's default), the
 * initial throttle percentage (0..99, the auto-converge lever), and whether threads yield at step
 * boundaries so a freeze can claim them off the CPU (AUTO: when there are at least as many
 * threads as cores).
 */
public record ProcessOptions(Ticker ticker, RateLimit rate, int throttlePercent, YieldPoints yieldPoints) {

    public enum YieldPoints {
        AUTO,
        ON,
        OFF
    }

    public ProcessOptions(Ticker ticker, RateLimit rate, int throttlePercent) {
        this(ticker, rate, throttlePercent, YieldPoints.AUTO);
    }

    public ProcessOptions {
        if (ticker == null) {
            throw new IllegalArgumentException("process options need a ticker");
        }
        if (yieldPoints == null) {
            throw new IllegalArgumentException("process options need a yield-point mode (AUTO, ON or OFF)");
        }
        if (throttlePercent < 0 || throttlePercent > 99) {
            throw new IllegalArgumentException("throttle " + throttlePercent + " % is outside 0..99");
        }
    }

    public static ProcessOptions defaults() {
        return new ProcessOptions(Ticker.system(), null, 0);
    }

    public ProcessOptions withTicker(Ticker t) {
        return new ProcessOptions(t, rate, throttlePercent, yieldPoints);
    }

    public ProcessOptions withRate(RateLimit r) {
        return new ProcessOptions(ticker, r, throttlePercent, yieldPoints);
    }

    public ProcessOptions withThrottle(int percent) {
        return new ProcessOptions(ticker, rate, percent, yieldPoints);
    }

    public ProcessOptions withYieldPoints(YieldPoints mode) {
        return new ProcessOptions(ticker, rate, throttlePercent, mode);
    }
}
