package dev.pagehop.migrate;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * Which fault points are armed, each with a number (a sequence, a count of chunks or pages; 0
 * where none applies). Thread safe; disarmed points cost one map lookup. Armed from tests, or
 * from an agent flag such as {@code --fault kill-target-after-pages=1000}.
 */
public final class FaultInjector {
    private final Map<FaultPoint, Long> armed = new EnumMap<>(FaultPoint.class);

    public static FaultInjector none() {
        return new FaultInjector();
    }

    public synchronized FaultInjector arm(FaultPoint point, long value) {
        armed.put(point, value);
        return this;
    }

    public synchronized void disarm(FaultPoint point) {
        armed.remove(point);
    }

    public synchronized void disarmAll() {
        armed.clear();
    }

    public synchronized boolean armed(FaultPoint point) {
        return armed.containsKey(point);
    }

    /** The armed value, or -1 if the point is not armed. */
    public synchronized long value(FaultPoint point) {
        Long v = armed.get(point);
        return v == null ? -1 : v;
    }

    /** True once: if armed with {@code value}, disarms it and returns true. */
    public synchronized boolean fireIfEquals(FaultPoint point, long value) {
        Long v = armed.get(point);
        if (v != null && v == value) {
            armed.remove(point);
            return true;
        }
        return false;
    }

    /**
     * For points armed with a number of times to fire: true while that number is positive, taking
     * one from it each time (disarmed when it reaches zero).
     */
    public synchronized boolean fireCounted(FaultPoint point) {
        Long v = armed.get(point);
        if (v == null || v <= 0) {
            armed.remove(point);
            return false;
        }
        if (v == 1) {
            armed.remove(point);
        } else {
            armed.put(point, v - 1);
        }
        return true;
    }

    /** True once: if armed and {@code count} reached its value, disarms it and returns true. */
    public synchronized boolean fireIfReached(FaultPoint point, long count) {
        Long v = armed.get(point);
        if (v != null && count >= v) {
            armed.remove(point);
            return true;
        }
        return false;
    }

    /**
     * Parses {@code name[=value]} as the agents' {@code --fault} flag takes it, with the point's
     * name in lower case and dashes: {@code drop-chunk=3}, {@code fail-final-state}.
     */
    public static Map.Entry<FaultPoint, Long> parse(String spec) {
        String[] parts = spec.split("=", 2);
        String name = parts[0].trim().toUpperCase(Locale.ROOT).replace('-', '_');
        FaultPoint point;
        try {
            point = FaultPoint.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown fault point '" + parts[0] + "'; known: "
                    + java.util.Arrays.toString(FaultPoint.values()).toLowerCase(Locale.ROOT).replace('_', '-'), e);
        }
        long value = 0;
        if (parts.length == 2) {
            try {
                value = Long.parseLong(parts[1].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("fault point " + parts[0] + ": value '" + parts[1]
                        + "' is not a number", e);
            }
        }
        return Map.entry(point, value);
    }

    @Override
    public synchronized String toString() {
        return "FaultInjector" + armed;
    }
}
