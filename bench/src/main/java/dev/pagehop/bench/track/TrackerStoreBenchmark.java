package dev.pagehop.bench.track;

import dev.pagehop.mm.Granule;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The store path with each tracker armed versus untracked, on hot pages: pages already written
 * since the last collect, so no store traps and what is measured is the tracker's tax on the
 * ordinary store (target: uffd-wp async within 10 % of untracked, DESIGN §4).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
@State(Scope.Thread)
public class TrackerStoreBenchmark {
    /** 64 hot pages: the hot set of a typical Zipf workload fits the software TLB. */
    private static final int HOT_PAGES = 64;
    private static final int STORES = 1024;

    @Param({"untracked", "uffd-wp-async", "soft-dirty", "uffd-wp-sync"})
    public String tracker;

    @Param({"K4"})
    public Granule granule;

    private TrackedSpace space;
    private long[] addrs;

    @Setup(Level.Trial)
    public void setUp() {
        space = new TrackedSpace(tracker, granule, HOT_PAGES);
        space.start();
        addrs = new long[STORES];
        for (int i = 0; i < STORES; i++) {
            addrs[i] = space.base + (i % HOT_PAGES) * space.pageSize + 8L * ((i * 7) % (space.pageSize / 8));
        }
        // First touch after arming: every hot page takes its one trap here, not in the measurement.
        for (long a : addrs) {
            space.mm.store64(a, 1);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        space.close();
    }

    @Benchmark
    @OperationsPerInvocation(STORES)
    public void hotStore64() {
        long v = 0;
        for (long a : addrs) {
            space.mm.store64(a, v++);
        }
    }
}
