package dev.pagehop.bench.mm;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * mmap + touch one page + munmap of a 16-page anonymous mapping, with {@code otherVmas}
 * unmergeable mappings already in the address space (their count must not show in the cost).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class MmapBenchmark {
    @Param({"K4"})
    Granule granule;

    @Param({"16", "1024", "16384"})
    int otherVmas;

    MemoryManager mm;
    long pageSize;

    @Setup
    public void setup() {
        mm = MemoryManager.create(MmConfig.arm64(granule));
        pageSize = mm.pageSize();
        for (int i = 0; i < otherVmas; i++) {
            mm.mmap(0, pageSize, (i & 1) == 0 ? Prot.READ | Prot.WRITE : Prot.READ, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        }
    }

    @TearDown
    public void tearDown() {
        mm.close();
    }

    @Benchmark
    public long mmapTouchMunmap() {
        long a = mm.mmap(0, 16 * pageSize, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        mm.store64(a, 1);
        mm.munmap(a, 16 * pageSize);
        return a;
    }
}
