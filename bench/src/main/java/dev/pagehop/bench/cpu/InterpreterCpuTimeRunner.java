package dev.pagehop.bench.cpu;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Interpreter throughput in instructions per CPU-second of the running thread, for a machine
 * shared with other work where JMH's wall-clock scores mostly measure the neighbours. Same
 * programs and trackers as {@link InterpreterBenchmark}; after a warm-up, each configuration runs
 * {@code rounds} blocks of 1 M instructions (collecting the tracker after each) and reports the
 * median block.
 *
 * <p>Run from the repository root:
 * {@code java -cp bench/target/pagehop-bench.jar dev.pagehop.bench.cpu.InterpreterCpuTimeRunner [rounds]}
 */
public final class InterpreterCpuTimeRunner {
    private InterpreterCpuTimeRunner() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        String[] programs = {"alu", "memory", "calls", "dirtier", "hashtable"};
        String[] trackers = {"untracked", "uffd-wp-async", "soft-dirty", "uffd-wp-sync"};
        System.out.printf("%-10s %-14s %14s %14s%n", "program", "tracker", "Minstr/cpu-s", "Minstr/wall-s");
        for (String program : programs) {
            for (String tracker : trackers) {
                InterpreterBenchmark b = new InterpreterBenchmark();
                b.program = program;
                b.tracker = tracker;
                b.granule = dev.pagehop.mm.Granule.K4;
                b.setUp();
                try {
                    for (int i = 0; i < 30; i++) { // warm-up: JIT compilation of the hot paths
                        b.run();
                        b.roundBoundary();
                    }
                    double[] cpu = new double[rounds];
                    double[] wall = new double[rounds];
                    for (int i = 0; i < rounds; i++) {
                        long c0 = threads.getCurrentThreadCpuTime();
                        long w0 = System.nanoTime();
                        b.run();
                        b.roundBoundary();
                        long c1 = threads.getCurrentThreadCpuTime();
                        long w1 = System.nanoTime();
                        cpu[i] = InterpreterBenchmark.INSTRUCTIONS * 1e3 / (c1 - c0);
                        wall[i] = InterpreterBenchmark.INSTRUCTIONS * 1e3 / (w1 - w0);
                    }
                    java.util.Arrays.sort(cpu);
                    java.util.Arrays.sort(wall);
                    System.out.printf("%-10s %-14s %14.1f %14.1f%n", program, tracker, cpu[rounds / 2], wall[rounds / 2]);
                } finally {
                    b.tearDown();
                }
            }
        }
    }
}
