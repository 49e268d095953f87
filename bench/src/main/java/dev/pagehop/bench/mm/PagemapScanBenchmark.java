package dev.pagehop.bench.mm;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.uffd.PmScanArg;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.Userfaultfd;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CRIU-style "get dirty and re-protect" PAGEMAP_SCAN (WP_MATCHING|CHECK_WPASYNC,
 * mask = return = WRITTEN) over 1 GiB of 4K pages armed with async uffd-wp (markers), after 1 %
 * of the pages (random) were written. The writes happen in the per-invocation setup.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class PagemapScanBenchmark {
    private static final long SIZE = 1L << 30;

    MemoryManager mm;
    Userfaultfd uffd;
    long base;
    long pages;
    long pageSize;
    final SplittableRandom rnd = new SplittableRandom(1);
    PmScanArg arg;

    @Setup
    public void setup() {
        mm = MemoryManager.create(MmConfig.arm64(Granule.K4));
        pageSize = mm.pageSize();
        pages = SIZE / pageSize;
        base = mm.mmap(0, SIZE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        uffd = mm.userfaultfd(Uffd.USER_MODE_ONLY);
        uffd.api(Uffd.FEATURE_WP_ASYNC | Uffd.FEATURE_WP_UNPOPULATED);
        uffd.register(base, SIZE, Uffd.REGISTER_MODE_WP);
        uffd.writeprotect(base, SIZE, Uffd.WRITEPROTECT_MODE_WP);
    }

    @Setup(Level.Invocation)
    public void writeOnePercent() {
        for (long i = 0; i < pages / 100; i++) {
            mm.store8(base + rnd.nextLong(pages) * pageSize, 1);
        }
        arg = new PmScanArg(base, base + SIZE).withVec(4096)
                .flags(Uffd.PM_SCAN_WP_MATCHING | Uffd.PM_SCAN_CHECK_WPASYNC)
                .masks(Uffd.PAGE_IS_WRITTEN, 0, 0, Uffd.PAGE_IS_WRITTEN);
    }

    @TearDown
    public void tearDown() {
        uffd.close();
        mm.close();
    }

    @Benchmark
    public int getAndReprotect() {
        return mm.pagemapScan(arg);
    }
}
