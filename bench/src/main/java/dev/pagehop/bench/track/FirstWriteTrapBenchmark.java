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
 * The first write to an armed page: each invocation stores once into every page of a populated
 * mapping that the tracker re-armed just before (the re-arm is setup, not measured). Untracked is
 * the same store loop on writable pages; trap cost = tracked minus untracked (target: a few
 * hundred ns, DESIGN §4).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
@State(Scope.Thread)
public class FirstWriteTrapBenchmark {
    private static final int PAGES = 1024;

    @Param({"untracked", "uffd-wp-async", "soft-dirty", "uffd-wp-sync"})
    public String tracker;

    @Param({"K4"})
    public Granule granule;

    private TrackedSpace space;

    @Setup(Level.Trial)
    public void setUp() {
        space = new TrackedSpace(tracker, granule, PAGES);
        for (int i = 0; i < PAGES; i++) {
            space.mm.store64(space.base + i * space.pageSize, i);
        }
        space.start();
    }

    @Setup(Level.Invocation)
    public void rearm() {
        space.rearm();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        space.close();
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void firstStoreToEachPage() {
        long p = space.pageSize;
        long a = space.base;
        for (int i = 0; i < PAGES; i++) {
            space.mm.store64(a + i * p, i);
        }
    }
}
