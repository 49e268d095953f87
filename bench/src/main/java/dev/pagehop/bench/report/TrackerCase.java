package dev.pagehop.bench.report;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.ThpMode;
import dev.pagehop.workload.WorkloadSpec;
import java.util.List;

/**
 * One workload shape of the tracker comparison. Every tracker runs the same case with the same
 * seed and the same number of steps per thread per round, and each round ends at an exact step
 * count with the process frozen, so all trackers see exactly the same stores and the ground truth
 * is exact.
 *
 * @param name           short name used in tables, CSV and chart labels
 * @param workload       kind and parameters; {@code pagesPerThread} is derived from
 *                       {@code workingSetBytes} per granule
 * @param workingSetBytes bytes of the workload's heap, split between the threads
 * @param threads        emulated threads
 * @param rounds         collects after the start
 * @param stepsPerRound  steps per thread between two collects
 * @param thp            transparent huge pages setting of the address space
 * @param question       what the case is there to show
 */
public record TrackerCase(String name, WorkloadSpec workload, long workingSetBytes, int threads, int rounds,
        long stepsPerRound, ThpMode thp, String question) {

    public TrackerCase {
        if (workingSetBytes <= 0 || threads < 1 || rounds < 1 || stepsPerRound < 1) {
            throw new IllegalArgumentException(String.format(
                    "tracker case '%s': working set %d bytes, %d threads, %d rounds, %d steps per round must all be positive",
                    name, workingSetBytes, threads, rounds, stepsPerRound));
        }
    }

    /** The workload spec for {@code granule}: the working set in pages of that granule, per thread. */
    public WorkloadSpec specFor(Granule granule) {
        long pages = workingSetBytes / granule.pageSize() / threads;
        if (pages < 1) {
            throw new IllegalArgumentException(String.format(
                    "tracker case '%s': %d bytes over %d threads is less than one %d-byte page per thread",
                    name, workingSetBytes, threads, granule.pageSize()));
        }
        return workload.with("pagesPerThread", pages);
    }

    private static final long MIB = 1024 * 1024;

    /**
     * The standard cases. {@code scale} shrinks the step counts (1 = the documented run; CI uses
     * a small fraction); working sets stay the same so page-table and THP effects keep their shape.
     */
    public static List<TrackerCase> standard(double scale) {
        if (!(scale > 0 && scale <= 1)) {
            throw new IllegalArgumentException("tracker comparison scale must be in (0, 1], got " + scale);
        }
        return List.of(
                new TrackerCase("uniform", WorkloadSpec.of("uniform", 42), 64 * MIB, 2, 6, steps(20_000, scale),
                        ThpMode.NEVER, "random 64-byte writes over 64 MiB: every written page is re-sent"),
                new TrackerCase("hot-set", WorkloadSpec.of("zipf", 42).with("skew", "0.99"), 64 * MIB, 2, 6,
                        steps(20_000, scale), ThpMode.NEVER, "Zipf(0.99) writes over 1/8 of 64 MiB"),
                new TrackerCase("vma-churn", WorkloadSpec.of("churn", 42).with("slots", 512).with("slotPages", 8),
                        2 * MIB, 2, 6, steps(2_000, scale), ThpMode.NEVER,
                        "maps007-like mmap/mprotect/mremap/munmap/MADV_DONTNEED: false positives from VMA changes"),
                new TrackerCase("sparse-thp", WorkloadSpec.of("uniform", 42), 64 * MIB, 2, 6, steps(400, scale),
                        ThpMode.ALWAYS, "few random writes over 64 MiB backed by THP: false positives from huge pages"),
                new TrackerCase("sparse-4k", WorkloadSpec.of("uniform", 42), 64 * MIB, 2, 6, steps(400, scale),
                        ThpMode.NEVER, "the same writes without THP: the control for sparse-thp"),
                new TrackerCase("sparse-1g", WorkloadSpec.of("uniform", 42), 1024 * MIB, 2, 3, steps(500, scale),
                        ThpMode.NEVER, "a 1 GiB mapping with few pages touched: page tables populated to arm, collect time"));
    }

    private static long steps(long full, double scale) {
        return Math.max(10, Math.round(full * scale));
    }
}
