package dev.pagehop.bench.mm;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.Userfaultfd;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * 8-byte stores through the software TLB on hot pages (already faulted in), untracked and with
 * async uffd-wp armed on the range (pages written once since arming, so the fast path is what
 * is measured). Score: stores per microsecond per thread (x1e6 = stores/s).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class StoreBenchmark {
    private static final int STORES = 4096;
    private static final int HOT_PAGES = 16;

    @Param({"K4", "K64"})
    Granule granule;

    @Param({"untracked", "uffd-wp-async"})
    String tracking;

    MemoryManager mm;
    Userfaultfd uffd;
    long base;
    long pageSize;
    long mask;

    @Setup
    public void setup() {
        mm = MemoryManager.create(MmConfig.arm64(granule));
        pageSize = mm.pageSize();
        base = mm.mmap(0, HOT_PAGES * pageSize, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        if (tracking.equals("uffd-wp-async")) {
            uffd = mm.userfaultfd(Uffd.USER_MODE_ONLY);
            uffd.api(Uffd.FEATURE_WP_ASYNC | Uffd.FEATURE_WP_UNPOPULATED);
            uffd.register(base, HOT_PAGES * pageSize, Uffd.REGISTER_MODE_WP);
            uffd.writeprotect(base, HOT_PAGES * pageSize, Uffd.WRITEPROTECT_MODE_WP);
        }
        for (int i = 0; i < HOT_PAGES; i++) {
            mm.store64(base + i * pageSize, i);
        }
        mask = HOT_PAGES * pageSize - 1;
    }

    @TearDown
    public void tearDown() {
        if (uffd != null) {
            uffd.close();
        }
        mm.close();
    }

    /** Strided over the hot pages so every store changes page (worst case for the TLB tag check). */
    @Benchmark
    @OperationsPerInvocation(STORES)
    public void store64Strided() {
        MemoryManager m = mm;
        long b = base;
        long stride = pageSize + 8;
        long off = 0;
        for (int i = 0; i < STORES; i++) {
            m.store64(b + (off & mask & ~7L), i);
            off += stride;
        }
    }

    /**
     * Reference point measured in the same run: a bare direct-mapped software TLB (tag array +
     * native address array) over off-heap memory, no generation check, no fault path. On a
     * shared machine the ratio of the other scores to this one is what carries over.
     */
    @Benchmark
    @OperationsPerInvocation(STORES)
    public void bareTlbStrided(BareTlb t) {
        long b = t.base;
        long stride = pageSize + 8;
        long off = 0;
        long[] tags = t.tags;
        long[] adrs = t.adrs;
        for (int i = 0; i < STORES; i++) {
            long va = b + (off & mask & ~7L);
            long vpn = va >>> t.shift;
            int k = (int) vpn & 511;
            if (tags[k] == vpn) {
                BareTlb.RAW.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, adrs[k] + (va & (pageSize - 1)), i);
            } else {
                t.misses++;
            }
            off += stride;
        }
    }

    /** State of {@link #bareTlbStrided}: 16 frames of one off-heap block and their TLB entries. */
    @State(Scope.Thread)
    public static class BareTlb {
        static final java.lang.foreign.MemorySegment RAW = java.lang.foreign.MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
        final java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
        final long[] tags = new long[512];
        final long[] adrs = new long[512];
        long base;
        int shift;
        long misses;

        @Setup
        public void setup(StoreBenchmark b) {
            shift = Long.numberOfTrailingZeros(b.pageSize);
            base = b.base;
            java.lang.foreign.MemorySegment block = arena.allocate(HOT_PAGES * b.pageSize, b.pageSize);
            java.util.Arrays.fill(tags, -1);
            for (int i = 0; i < HOT_PAGES; i++) {
                long vpn = (base >>> shift) + i;
                tags[(int) vpn & 511] = vpn;
                adrs[(int) vpn & 511] = block.address() + i * b.pageSize;
            }
        }

        @TearDown
        public void tearDown() {
            if (misses != 0) {
                throw new IllegalStateException("bare TLB missed " + misses + " times");
            }
            arena.close();
        }
    }

    /** Sequential 8-byte stores, page after page. */
    @Benchmark
    @OperationsPerInvocation(STORES)
    public void store64Sequential() {
        MemoryManager m = mm;
        long b = base;
        for (int i = 0; i < STORES; i++) {
            m.store64(b + ((i * 8L) & mask), i);
        }
    }
}
