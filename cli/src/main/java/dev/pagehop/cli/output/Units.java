package dev.pagehop.cli.output;

import java.util.Locale;

/** Human-readable bytes, rates and durations, binary prefixes as the kernel and QEMU print them. */
public final class Units {
    private static final String[] PREFIX = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

    private Units() {
    }

    public static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        double v = n;
        int i = 0;
        while (v >= 1024 && i < PREFIX.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format(Locale.ROOT, v >= 100 ? "%.0f %s" : "%.1f %s", v, PREFIX[i]);
    }

    public static String rate(long bytesPerSec) {
        return bytes(bytesPerSec) + "/s";
    }

    public static String millis(long ms) {
        if (ms < 10_000) {
            return ms + " ms";
        }
        return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    }

    public static String nanos(long ns) {
        if (ns < 1_000) {
            return ns + " ns";
        }
        if (ns < 1_000_000) {
            return String.format(Locale.ROOT, "%.1f µs", ns / 1e3);
        }
        if (ns < 10_000_000_000L) {
            return String.format(Locale.ROOT, "%.1f ms", ns / 1e6);
        }
        return String.format(Locale.ROOT, "%.1f s", ns / 1e9);
    }

    public static String seconds(double s) {
        if (Double.isNaN(s) || Double.isInfinite(s)) {
            return "∞";
        }
        if (s < 1) {
            return String.format(Locale.ROOT, "%.0f ms", s * 1000);
        }
        if (s < 120) {
            return String.format(Locale.ROOT, "%.1f s", s);
        }
        return String.format(Locale.ROOT, "%dm%02ds", (long) s / 60, (long) s % 60);
    }

    public static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.0f%%", fraction * 100);
    }
}
