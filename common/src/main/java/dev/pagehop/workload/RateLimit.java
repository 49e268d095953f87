package dev.pagehop.workload;

/**
 * A target rate for a workload's threads, in the unit migration policies speak: pages written
 * per second (QEMU's {@code dirty-pages-rate}), bytes written per second, or steps per second
 * (for workloads that write little, such as {@code idle}). Each thread is paced to this rate on
 * its own; a process of n threads aims at n times it.
 */
public record RateLimit(Unit unit, double perSecond) {

    public enum Unit {
        UNLIMITED,
        PAGES,
        BYTES,
        STEPS
    }

    private static final RateLimit UNLIMITED = new RateLimit(Unit.UNLIMITED, 0);

    public RateLimit {
        if (unit == null) {
            throw new IllegalArgumentException("rate limit needs a unit");
        }
        if (unit == Unit.UNLIMITED ? perSecond != 0 : !(perSecond > 0 && Double.isFinite(perSecond))) {
            throw new IllegalArgumentException("rate limit of " + perSecond + " " + unit
                    + "/s: a limited rate must be positive and finite, an unlimited one 0");
        }
    }

    public static RateLimit unlimited() {
        return UNLIMITED;
    }

    public static RateLimit pagesPerSecond(double pages) {
        return new RateLimit(Unit.PAGES, pages);
    }

    public static RateLimit bytesPerSecond(double bytes) {
        return new RateLimit(Unit.BYTES, bytes);
    }

    public static RateLimit mebibytesPerSecond(double mib) {
        return new RateLimit(Unit.BYTES, mib * 1024 * 1024);
    }

    public static RateLimit stepsPerSecond(double steps) {
        return new RateLimit(Unit.STEPS, steps);
    }

    public boolean isLimited() {
        return unit != Unit.UNLIMITED;
    }

    @Override
    public String toString() {
        return unit == Unit.UNLIMITED ? "unlimited" : perSecond + " " + unit.name().toLowerCase() + "/s";
    }
}
