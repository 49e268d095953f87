package dev.pagehop.bench.proc;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.ProcessOptions;
import dev.pagehop.workload.RateLimit;
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
 * How closely the pacer holds a target write rate on the real clock, and what the auto-converge
 * throttle leaves of an unlimited one. The process runs on its own threads; each operation
 * watches it for {@link #WINDOW_MS} ms, and the {@code pages} counter, divided by JMH over the
 * iteration, is the achieved pages/s of the whole process (target × threads when limited).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class RateControlBenchmark {
    static final long WINDOW_MS = 50;

    /** Pages per second per thread, or "max". */
    @Param({"1000", "10000", "100000", "max"})
    public String rate;

    @Param({"0", "50"})
    public int throttle;

    @Param({"1", "4"})
    public int threads;

    private MemoryManager mm;
    private EmulatedProcess process;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Achieved {
        public long pages;

        @Setup(Level.Iteration)
        public void reset() {
            pages = 0;
        }
    }

    @Setup(Level.Trial)
    public void spawn() {
        mm = MemoryManager.create(MmConfig.arm64(Granule.K4));
        RateLimit limit = rate.equals("max") ? RateLimit.unlimited() : RateLimit.pagesPerSecond(Double.parseDouble(rate));
        process = EmulatedProcess.spawn(1000, mm, WorkloadSpec.parse("uniform:pagesPerThread=1024@1"), threads,
                ProcessOptions.defaults().withRate(limit).withThrottle(throttle));
        process.start();
    }

    @Benchmark
    public long watch(Achieved a) throws InterruptedException {
        WorkloadStats before = process.stats();
        Thread.sleep(WINDOW_MS);
        long pages = process.stats().since(before).pagesWritten();
        a.pages += pages;
        return pages;
    }

    @TearDown(Level.Trial)
    public void kill() {
        process.close();
        mm.close();
    }
}
