package dev.pagehop.bench.track;

import dev.pagehop.mm.Granule;
import dev.pagehop.track.DirtySet;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One collect over 1 GiB of 4K pages of which 1 % were written since the previous collect
 * (target for uffd-wp async, whose collect is PAGEMAP_SCAN get-and-rearm: about 1 ms, DESIGN §4).
 * The mapping is armed but otherwise unpopulated (markers), like a large, sparse heap; the
 * written pages are spread at random, so most come back as single-page regions, the worst case
 * for region output. The writes happen in the invocation setup and are not measured.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Thread)
public class CollectBenchmark {
    private static final long SPAN_BYTES = 1L << 30;

    @Param({"uffd-wp-async", "soft-dirty", "uffd-wp-sync"})
    public String tracker;

    @Param({"K4"})
    public Granule granule;

    /** Written fraction in basis points of a percent: 100 = 1 %. */
    @Param({"100"})
    public int writtenPerTenThousand;

    private TrackedSpace space;
    private long[] targets;
    private long expectedBytes;

    @Setup(Level.Trial)
    public void setUp() {
        long pages = SPAN_BYTES / granule.pageSize();
        space = new TrackedSpace(tracker, granule, pages);
        space.start();
        int n = (int) (pages * writtenPerTenThousand / 10_000);
        SplittableRandom rnd = new SplittableRandom(42);
        targets = rnd.longs(0, pages).distinct().limit(n).map(i -> space.base + i * space.pageSize).sorted().toArray();
        expectedBytes = n * space.pageSize;
    }

    @Setup(Level.Invocation)
    public void write() {
        for (long a : targets) {
            space.mm.store8(a, 1);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        space.close();
    }

    @Benchmark
    public DirtySet collect() {
        DirtySet s = space.tracker.collect();
        if (s.writtenBytes() < expectedBytes) {
            throw new IllegalStateException("collect lost pages: " + s.writtenBytes() + " < " + expectedBytes + " bytes");
        }
        return s;
    }
}
