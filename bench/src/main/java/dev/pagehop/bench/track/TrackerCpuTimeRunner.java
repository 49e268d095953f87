package dev.pagehop.bench.track;

import dev.pagehop.mm.Granule;
import dev.pagehop.track.DirtySet;
import dev.pagehop.track.TrackerCost;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The tracker figures in CPU time of the measuring thread, which other users' load on a shared
 * box does not inflate the way it inflates JMH's wall clock (it still pays for cache and TLB
 * pollution). Prints best and mean of repeated samples:
 * <ul>
 *   <li>store tax: 1024 stores over 64 hot pages, untracked vs each tracker;</li>
 *   <li>first write to an armed page, per tracker (minus untracked = trap cost);</li>
 *   <li>collect of 1 GiB of 4K pages with 1 % written, per tracker.</li>
 * </ul>
 * Run: {@code java -cp bench/target/pagehop-bench.jar dev.pagehop.bench.track.TrackerCpuTimeRunner [section tracker...]}.
 */
public final class TrackerCpuTimeRunner {
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    private static final String[] TRACKERS = {"untracked", "uffd-wp-async", "soft-dirty", "uffd-wp-sync"};

    private TrackerCpuTimeRunner() {
    }

    /** No arguments: everything. Otherwise {@code store|first|collect tracker...}, e.g. to run each tracker in a fresh JVM. */
    public static void main(String[] args) {
        if (args.length >= 2) {
            for (int i = 1; i < args.length; i++) {
                switch (args[0]) {
                    case "store" -> storeTax(args[i]);
                    case "first" -> firstWrite(args[i]);
                    case "collect" -> collect(args[i]);
                    default -> throw new IllegalArgumentException("section must be store, first or collect, got " + args[0]);
                }
            }
            return;
        }
        for (String t : TRACKERS) {
            storeTax(t);
        }
        for (String t : TRACKERS) {
            firstWrite(t);
        }
        for (String t : TRACKERS) {
            if (!t.equals(TrackedSpace.UNTRACKED)) {
                collect(t);
            }
        }
    }

    private static void print(String what, String tracker, double[] samples, String unit) {
        double best = Arrays.stream(samples).min().orElseThrow();
        double mean = Arrays.stream(samples).average().orElseThrow();
        System.out.printf("%-12s %-14s best %10.2f  mean %10.2f %s (%d samples)%n", what, tracker, best, mean, unit,
                samples.length);
    }

    private static void storeTax(String tracker) {
        try (TrackedSpace s = new TrackedSpace(tracker, Granule.K4, 64)) {
            s.start();
            long[] addrs = new long[1024];
            for (int i = 0; i < addrs.length; i++) {
                addrs[i] = s.base + (i % 64) * s.pageSize + 8L * ((i * 7) % (s.pageSize / 8));
                s.mm.store64(addrs[i], 1);
            }
            int reps = 2000;
            double[] samples = new double[30];
            for (int k = -10; k < samples.length; k++) {
                long c0 = CPU.getCurrentThreadCpuTime();
                long v = 0;
                for (int r = 0; r < reps; r++) {
                    for (long a : addrs) {
                        s.mm.store64(a, v++);
                    }
                }
                double ns = (CPU.getCurrentThreadCpuTime() - c0) / (double) (reps * addrs.length);
                if (k >= 0) {
                    samples[k] = ns;
                }
            }
            print("hot-store", tracker, samples, "ns/store");
        }
    }

    private static void firstWrite(String tracker) {
        int pages = 4096;
        try (TrackedSpace s = new TrackedSpace(tracker, Granule.K4, pages)) {
            for (int i = 0; i < pages; i++) {
                s.mm.store64(s.base + i * s.pageSize, i);
            }
            s.start();
            double[] samples = new double[20];
            for (int k = -5; k < samples.length; k++) {
                s.rearm();
                long c0 = CPU.getCurrentThreadCpuTime();
                for (int i = 0; i < pages; i++) {
                    s.mm.store64(s.base + i * s.pageSize, i);
                }
                double ns = (CPU.getCurrentThreadCpuTime() - c0) / (double) pages;
                if (k >= 0) {
                    samples[k] = ns;
                }
            }
            print("first-write", tracker, samples, "ns/page");
            if (s.tracker != null) {
                TrackerCost c = s.tracker.cost();
                System.out.printf("%-12s %-14s kernel-counted traps %d, %.1f ns each (fault entry to return)%n", "",
                        tracker, c.traps(), c.traps() == 0 ? 0.0 : c.trapNanos() / (double) c.traps());
            }
        }
    }

    private static void collect(String tracker) {
        long pages = (1L << 30) / Granule.K4.pageSize();
        try (TrackedSpace s = new TrackedSpace(tracker, Granule.K4, pages)) {
            s.start();
            SplittableRandom rnd = new SplittableRandom(42);
            long[] targets = rnd.longs(0, pages).distinct().limit(pages / 100).map(i -> s.base + i * s.pageSize).toArray();
            int n = tracker.equals("soft-dirty") ? 8 : 20;
            double[] samples = new double[n];
            for (int k = -3; k < samples.length; k++) {
                for (long a : targets) {
                    s.mm.store8(a, 1);
                }
                long c0 = CPU.getCurrentThreadCpuTime();
                DirtySet d = s.tracker.collect();
                double ms = (CPU.getCurrentThreadCpuTime() - c0) / 1e6;
                if (d.writtenBytes() < targets.length * s.pageSize) {
                    throw new IllegalStateException("collect lost pages: " + d.writtenBytes());
                }
                if (k >= 0) {
                    samples[k] = ms;
                }
            }
            print("collect-1GiB", tracker, samples, "ms");
            System.out.printf("%-12s %-14s page tables populated by arming 1 GiB: %d%n", "", tracker,
                    s.tracker.cost().pageTablesPopulated());
        }
    }
}
