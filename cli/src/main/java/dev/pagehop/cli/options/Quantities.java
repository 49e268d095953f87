package dev.pagehop.cli.options;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the sizes, rates and durations users type ({@code 64MiB}, {@code 100MB/s}, {@code 300ms}).
 * Binary prefixes (KiB, MiB, GiB, and the bare K, M, G kubectl and dd accept) are powers of 1024;
 * decimal ones (kB, MB, GB) powers of 1000. Durations need a unit: "300" alone is ambiguous.
 */
public final class Quantities {
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([a-zA-Z]*)");
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ns|us|µs|ms|s|m|h)");

    private Quantities() {
    }

    public static long bytes(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("size '" + text + "' is not a number with an optional unit, e.g. 64MiB");
        }
        double n = Double.parseDouble(m.group(1));
        long unit = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "", "b" -> 1L;
            case "k", "ki", "kib" -> 1L << 10;
            case "m", "mi", "mib" -> 1L << 20;
            case "g", "gi", "gib" -> 1L << 30;
            case "t", "ti", "tib" -> 1L << 40;
            case "kb" -> 1_000L;
            case "mb" -> 1_000_000L;
            case "gb" -> 1_000_000_000L;
            case "tb" -> 1_000_000_000_000L;
            default -> throw new IllegalArgumentException("size '" + text + "': unknown unit '" + m.group(2)
                    + "' (use B, KiB, MiB, GiB, TiB, kB, MB, GB)");
        };
        double v = n * unit;
        if (v > Long.MAX_VALUE) {
            throw new IllegalArgumentException("size '" + text + "' is too large");
        }
        if (v != Math.rint(v)) {
            throw new IllegalArgumentException("size '" + text + "' is not a whole number of bytes");
        }
        return (long) v;
    }

    /** A rate in bytes per second; the "/s" is optional ({@code 100MiB/s} = {@code 100MiB}). */
    public static long bytesPerSecond(String text) {
        String t = text.trim();
        if (t.endsWith("/s")) {
            t = t.substring(0, t.length() - 2);
        }
        try {
            return bytes(t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("rate '" + text + "' is not a size per second, e.g. 100MiB/s");
        }
    }

    public static long millis(String text) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("duration '" + text + "' needs a unit (ms, s, m, h), e.g. 300ms or 2m");
        }
        double n = Double.parseDouble(m.group(1));
        double ms = switch (m.group(2)) {
            case "ns" -> n / 1e6;
            case "us", "µs" -> n / 1e3;
            case "ms" -> n;
            case "s" -> n * 1e3;
            case "m" -> n * 60e3;
            case "h" -> n * 3600e3;
            default -> throw new IllegalStateException("pattern admits unit " + m.group(2));
        };
        if (ms < 1 && n > 0) {
            throw new IllegalArgumentException("duration '" + text + "' is below the 1 ms resolution of the policy");
        }
        return Math.round(ms);
    }
}
