package dev.pagehop.bench.proc;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.EmulatedThread;
import dev.pagehop.proc.FreezeResult;
import dev.pagehop.proc.ProcessOptions;
import dev.pagehop.workload.RateLimit;
import dev.pagehop.workload.WorkloadSpec;
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
 * Freezing time (the cgroup freezer's figure, part of every switchover's downtime): from
 * {@link EmulatedProcess#freeze()} to the moment every thread is stopped at a step boundary.
 * Before each freeze the process is thawed and every thread is seen to take a step, so each
 * freeze catches all threads running. {@code rate}: "max" runs the threads flat out (on a
 * machine with fewer cores than threads, some wait for a core, which the freeze then waits
 * for too); a pages/s figure paces them, so they spend most of the time parked in the pacer.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class FreezeLatencyBenchmark {

    @Param({"2", "4"})
    public int threads;

    @Param({"max", "20000"})
    public String rate;

    private MemoryManager mm;
    private EmulatedProcess process;

    @Setup(Level.Trial)
    public void spawn() {
        mm = MemoryManager.create(MmConfig.arm64(Granule.K4));
        RateLimit limit = rate.equals("max") ? RateLimit.unlimited() : RateLimit.pagesPerSecond(Double.parseDouble(rate));
        process = EmulatedProcess.spawn(1000, mm, WorkloadSpec.parse("uniform:pagesPerThread=256@1"), threads,
                ProcessOptions.defaults().withRate(limit));
        process.start();
        process.freeze();
    }

    @Setup(Level.Invocation)
    public void thawAndLetEveryThreadRun() {
        long[] at = new long[threads];
        for (int i = 0; i < threads; i++) {
            at[i] = process.thread(i).steps();
        }
        process.thaw();
        for (int i = 0; i < threads; i++) {
            EmulatedThread t = process.thread(i);
            while (t.steps() <= at[i]) {
                Thread.onSpinWait();
            }
        }
    }

    @Benchmark
    public FreezeResult freeze() {
        return process.freeze();
    }

    @TearDown(Level.Trial)
    public void kill() {
        process.close();
        mm.close();
    }
}
