package dev.pagehop.bench.cpu;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.ProcessOptions;
import dev.pagehop.syscall.ElfWorkload;
import dev.pagehop.track.DirtyTracker;
import dev.pagehop.track.DirtyTrackers;
import dev.pagehop.track.SoftDirtyTracker;
import dev.pagehop.track.TrackerOptions;
import dev.pagehop.track.WriterFreeze;
import dev.pagehop.workload.WorkloadSpec;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;

/**
 * The interpreter as the process model runs it (workload kind {@code a64}): an
 * {@link EmulatedProcess} whose threads step a static AArch64 program, a step ending at every
 * store or system call, untracked and under each dirty tracker. Every round (a pre-copy round's
 * length, {@code roundMillis}) the process is frozen, the tracker collected (get-and-rearm),
 * the counters read and the process thawed, as a source agent does between rounds. Reports the
 * median round's instructions per CPU-second of the process's threads (what the program got
 * of the CPU, which on a shared machine the wall clock does not tell) and per wall-second.
 *
 * <p>Programs: {@code dirtier} (one thread, writes 4 MiB at a steady rate) and {@code threads}
 * (four pthreads updating a mutex-protected counter and an atomic sum, main in pthread_join).
 *
 * <p>Run from the repository root:
 * {@code java -cp bench/target/pagehop-bench.jar dev.pagehop.bench.cpu.A64ProcessRunner [rounds] [roundMillis]}
 */
public final class A64ProcessRunner {
    private static final int PID = 900;

    private A64ProcessRunner() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        long roundMillis = args.length > 1 ? Long.parseLong(args[1]) : 500;
        ElfWorkload.registerKind();
        String[][] programs = {
            {"dirtier", "dirtier+4+100000000"},
            {"threads", "threads+4+4000000"},
        };
        String[] trackers = {"untracked", "uffd-wp-async", "soft-dirty", "uffd-wp-sync"};
        System.out.printf("%-8s %-14s %14s %14s %12s%n", "program", "tracker", "Minstr/cpu-s", "Minstr/wall-s",
                "threads");
        for (String[] program : programs) {
            Path elf = program(program[0]);
            for (String tracker : trackers) {
                double[] r = measure(WorkloadSpec.parse("a64:elf=" + elf + ",argv=" + program[1] + "@1"), tracker, rounds,
                        roundMillis);
                System.out.printf("%-8s %-14s %14.1f %14.1f %12d%n", program[0], tracker, r[0], r[1], (int) r[2]);
            }
        }
    }

    private static double[] measure(WorkloadSpec spec, String trackerName, int rounds, long roundMillis)
            throws InterruptedException {
        MmConfig config = MmConfig.arm64(Granule.K4);
        if (SoftDirtyTracker.NAME.equals(trackerName)) {
            config = config.withSoftDirty(true);
        }
        MemoryManager mm = MemoryManager.create(config);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, mm, spec, 1, ProcessOptions.defaults())) {
            ElfWorkload w = (ElfWorkload) p.workload();
            DirtyTracker tracker = "untracked".equals(trackerName) ? null
                    : DirtyTrackers.create(trackerName, mm,
                            TrackerOptions.defaults().withWriterFreeze(WriterFreeze.callerGuaranteesQuiescence()));
            if (tracker != null) {
                tracker.start();
            }
            p.start();
            Thread.sleep(3000); // start-up, thread creation and JIT warm-up
            double[] perCpu = new double[rounds];
            double[] perWall = new double[rounds];
            p.freeze();
            long instr = w.instructionsRetired(mm);
            long cpu = processCpuNanos(mx);
            long wall = System.nanoTime();
            for (int i = 0; i < rounds; i++) {
                p.thaw();
                Thread.sleep(roundMillis);
                p.freeze();
                if (tracker != null) {
                    tracker.collect();
                }
                long instr2 = w.instructionsRetired(mm);
                long cpu2 = processCpuNanos(mx);
                long wall2 = System.nanoTime();
                perCpu[i] = (instr2 - instr) * 1e3 / Math.max(1, cpu2 - cpu);
                perWall[i] = (instr2 - instr) * 1e3 / (wall2 - wall);
                instr = instr2;
                cpu = cpu2;
                wall = wall2;
            }
            if (ElfWorkload.outcome(mm) != null) {
                throw new IllegalStateException("benchmark program ended early: " + ElfWorkload.outcome(mm) + " "
                        + ElfWorkload.console(mm));
            }
            int threads = p.threads().size();
            if (tracker != null) {
                tracker.stop();
            }
            Arrays.sort(perCpu);
            Arrays.sort(perWall);
            return new double[] {perCpu[rounds / 2], perWall[rounds / 2], threads};
        } finally {
            mm.close();
        }
    }

    /** CPU time of the process's threads (named pid{PID}-tid...), alive now. */
    private static long processCpuNanos(ThreadMXBean mx) {
        long total = 0;
        for (long id : mx.getAllThreadIds()) {
            ThreadInfo info = mx.getThreadInfo(id);
            if (info != null && info.getThreadName().startsWith("pid" + PID + "-tid")) {
                long t = mx.getThreadCpuTime(id);
                if (t > 0) {
                    total += t;
                }
            }
        }
        return total;
    }

    /** The test program, built on demand by the repository's script. */
    private static Path program(String name) throws Exception {
        Path script = Paths.get("common/src/test/a64/build.sh");
        Path out = Paths.get("common/target/a64-programs");
        if (!Files.exists(script)) {
            throw new IllegalStateException("run the benchmark from the repository root: " + script + " not found");
        }
        Process b = new ProcessBuilder(script.toString(), out.toString()).inheritIO().start();
        if (b.waitFor() != 0) {
            throw new IllegalStateException("building the A64 test programs failed (exit " + b.exitValue()
                    + "); install gcc-aarch64-linux-gnu (.ci/setup-test-host)");
        }
        return out.resolve(name).toAbsolutePath();
    }
}
