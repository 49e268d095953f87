package dev.pagehop.bench.scenario;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Map;
import java.util.TreeMap;

/**
 * A named workload of a scenario file, in the terms the field's benchmarks use (QEMU guestperf,
 * the standard shapes) rather than the emulator's parameters:
 *
 * <ul>
 *   <li>{@code kind}: {@code random} (uniform random pages over the working set), {@code hotset}
 *       (random pages, {@code hotFraction} of the writes in the first {@code hotSetMiB} of the
 *       working set), {@code idle}, or any workload name the source agent knows, passed through
 *       with {@code params};</li>
 *   <li>{@code workingSetFraction}: the part of the process memory written (384 of 512 MiB is 0.75);</li>
 *   <li>{@code rateMBps}: pages dirtied per second times the page size, in MB/s (10^6 bytes) for the
 *       whole process; 0 = unpaced, as fast as the emulator runs;</li>
 *   <li>{@code prefill}: write the whole heap once before the workload starts, as guestperf's
 *       stress program does, so the process begins with all its memory resident and non-zero
 *       (without it, memory becomes resident at the workload's pace and round 0 carries only
 *       what it wrote so far).</li>
 * </ul>
 *
 * Each step of the random and hot-set shapes writes one whole page, so the bytes the workload
 * writes per second equal the bytes it dirties per second: the rate means what QEMU's dirty rate means.
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record WorkloadShape(String kind, Double workingSetFraction, Double rateMBps, Double hotSetMiB,
        Double hotFraction, Boolean prefill, Map<String, String> params) {

    public static final String RANDOM = "random";
    public static final String HOTSET = "hotset";
    public static final String IDLE = "idle";

    public WorkloadShape {
        if (kind == null || kind.isBlank()) {
            throw new IllegalArgumentException("workload shape needs a kind (random, hotset, idle or an agent workload name)");
        }
        if (workingSetFraction != null && !(workingSetFraction > 0 && workingSetFraction <= 1)) {
            throw new IllegalArgumentException("workload '" + kind + "': workingSetFraction " + workingSetFraction
                    + " is outside (0, 1]");
        }
        if (rateMBps != null && !(rateMBps >= 0 && Double.isFinite(rateMBps))) {
            throw new IllegalArgumentException("workload '" + kind + "': rateMBps " + rateMBps + " is negative or not finite");
        }
        if (kind.equals(HOTSET) && (hotSetMiB == null || hotFraction == null || !(hotFraction > 0 && hotFraction < 1)
                || !(hotSetMiB > 0))) {
            throw new IllegalArgumentException("workload 'hotset' needs hotSetMiB > 0 and hotFraction in (0, 1), got "
                    + hotSetMiB + " and " + hotFraction);
        }
        if (Boolean.TRUE.equals(prefill) && kind.equals(IDLE)) {
            throw new IllegalArgumentException("workload 'idle' has no heap to prefill");
        }
        params = params == null ? Map.of() : Map.copyOf(params);
    }


    public double rate() {
        return rateMBps == null ? 0 : rateMBps;
    }

    public double workingSet() {
        return workingSetFraction == null ? 1.0 : workingSetFraction;
    }

    /** The agent workload name and parameters for a process of {@code memoryBytes} on {@code pageSize} pages. */
    public Spawn spawn(long memoryBytes, long pageSize, int threads) {
        Map<String, String> p = new TreeMap<>(params);
        long pagesPerThread = Math.max(1, memoryBytes / pageSize / threads);
        long wsPages = Math.max(1, Math.round(pagesPerThread * workingSet()));
        String agentKind;
        switch (kind) {
            case RANDOM -> {
                // Zipf with skew 0 is uniform over its first hotPages pages: the working set.
                agentKind = "zipf";
                p.put("hotPages", Long.toString(wsPages));
                p.put("skew", "0");
                p.put("writeBytes", Long.toString(pageSize));
            }
            case HOTSET -> {
                long hotPages = Math.max(1, Math.round(hotSetMiB * 1024 * 1024 / pageSize / threads));
                agentKind = "zipf";
                p.put("hotPages", Long.toString(wsPages));
                p.put("skew", String.format(java.util.Locale.ROOT, "%.4f", ZipfSkew.forHeadShare(wsPages, hotPages, hotFraction)));
                p.put("writeBytes", Long.toString(pageSize));
            }
            case IDLE -> agentKind = "idle";
            default -> agentKind = kind;
        }
        if (Boolean.TRUE.equals(prefill)) {
            p.put("prefill", "1");
        }
        long perThreadRate = rate() <= 0 ? 0 : Math.max(1, Math.round(rate() * 1e6 / threads));
        return new Spawn(agentKind, p, perThreadRate);
    }

    /**
     * What to ask the agent for.
     *
     * @param perThreadBytesPerSec the agent paces each thread to this rate (0 = unpaced)
     */
    public record Spawn(String workload, Map<String, String> parameters, long perThreadBytesPerSec) {
    }
}
