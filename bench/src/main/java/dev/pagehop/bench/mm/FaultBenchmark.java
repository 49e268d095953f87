package dev.pagehop.bench.mm;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.Userfaultfd;
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
 * Fault-path costs per page: the first touch of an anonymous page (write fault, page allocated
 * and zeroed), and the first write to an async uffd-wp armed page (the trap that clears uffd-wp
 * in place). {@code otherVmas} fills the address space with unrelated, populated, unmergeable
 * mappings to show the cost does not grow with it. Setup work (zap / re-arm) is outside timing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class FaultBenchmark {
    private static final int PAGES = 1024;

    @Param({"K4", "K64"})
    Granule granule;

    @Param({"0", "8192"})
    int otherVmas;

    MemoryManager mm;
    Userfaultfd uffd;
    long base;
    long wpBase;
    long pageSize;

    @Setup
    public void setup() {
        mm = MemoryManager.create(MmConfig.arm64(granule));
        pageSize = mm.pageSize();
        int rw = Prot.READ | Prot.WRITE;
        int anon = MapFlags.PRIVATE | MapFlags.ANONYMOUS;
        for (int i = 0; i < otherVmas; i++) {
            long a = mm.mmap(0, pageSize, (i & 1) == 0 ? rw : Prot.READ, anon);
            if ((i & 1) == 0) {
                mm.store8(a, 1);
            }
        }
        base = mm.mmap(0, PAGES * pageSize, rw, anon);
        wpBase = mm.mmap(0, PAGES * pageSize, rw, anon);
        uffd = mm.userfaultfd(Uffd.USER_MODE_ONLY);
        uffd.api(Uffd.FEATURE_WP_ASYNC | Uffd.FEATURE_WP_UNPOPULATED);
        uffd.register(wpBase, PAGES * pageSize, Uffd.REGISTER_MODE_WP);
        for (int i = 0; i < PAGES; i++) {
            mm.store8(wpBase + i * pageSize, 1);
        }
    }

    @Setup(Level.Invocation)
    public void reset() {
        mm.madvise(base, PAGES * pageSize, Madvise.DONTNEED);
        uffd.writeprotect(wpBase, PAGES * pageSize, Uffd.WRITEPROTECT_MODE_WP);
    }

    @TearDown
    public void tearDown() {
        uffd.close();
        mm.close();
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void firstTouchWrite() {
        for (int i = 0; i < PAGES; i++) {
            mm.store64(base + i * pageSize, i);
        }
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void firstWriteTrapAsyncWp() {
        for (int i = 0; i < PAGES; i++) {
            mm.store64(wpBase + i * pageSize, i);
        }
    }
}
