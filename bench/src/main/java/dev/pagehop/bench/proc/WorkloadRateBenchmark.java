package dev.pagehop.bench.proc;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.ProcessOptions;
import dev.pagehop.workload.WorkloadSpec;
import dev.pagehop.workload.WorkloadStats;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * The write rate each workload achieves unthrottled on the emulated kernel, per thread count:
 * one operation runs every thread {@link #BATCH} more steps and freezes them there
 * ({@link EmulatedProcess#freezeAt}), so it includes a freeze/thaw per batch. The counters
 * report pages written and MiB written per second of wall time across all threads.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class WorkloadRateBenchmark {
    static final long BATCH = 20_000;

    /**
     * 1024 pages (4 MiB) per thread for the page writers: more pages than the software TLB
     * holds.
     */
    @Param({"uniform:pagesPerThread=1024", "zipf:pagesPerThread=1024", "sequential:pagesPerThread=1024",
        "phase:pagesPerThread=1024", "kv:pagesPerThread=1024", "churn"})
    public String workload;

    @Param({"1", "2", "4"})
    public int threads;

    private MemoryManager mm;
    private EmulatedProcess process;
    private long target;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Written {
        public long pages;
        public long mebibytes;
        long bytes;

        @Setup(Level.Iteration)
        public void reset() {
            pages = 0;
            bytes = 0;
            mebibytes = 0;
        }
    }

    @Setup(Level.Trial)
    public void spawn() {
        mm = MemoryManager.create(MmConfig.arm64(Granule.K4));
        process = EmulatedProcess.spawn(1000, mm, WorkloadSpec.parse(workload + "@1"), threads, ProcessOptions.defaults());
        target = BATCH;
        process.freezeAt(target);
    }

    @Benchmark
    public long batch(Written w) {
        WorkloadStats before = process.stats();
        target += BATCH;
        process.freezeAt(target);
        WorkloadStats d = process.stats().since(before);
        w.pages += d.pagesWritten();
        w.bytes += d.bytesWritten();
        w.mebibytes = w.bytes >> 20;
        return d.steps();
    }

    @TearDown(Level.Trial)
    public void kill() {
        process.close();
        mm.close();
    }
}
