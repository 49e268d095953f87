package dev.pagehop.bench.mm;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * What a migration target pays to fill memory it never had: a new memory manager, one private
 * anonymous mapping of {@code mib} MiB, every page written once with a 4 KiB (or granule-sized)
 * array, as {@code MemoryRebuilder} writes received pages. Every page is a first touch, so each
 * frame is carved from fresh host memory. The figure is the writing thread's CPU time (this
 * machine is shared; wall clock carries other users' load) per GiB, best and median of the runs.
 *
 * <pre>
 *   java --enable-native-access=ALL-UNNAMED -cp bench/target/pagehop-bench.jar \
 *     dev.pagehop.bench.mm.FreshFramesCpuRunner [mib=256] [runs=9] [granule=K4]
 * </pre>
 */
public final class FreshFramesCpuRunner {
    private FreshFramesCpuRunner() {
    }

    public static void main(String[] args) {
        long mib = args.length > 0 ? Long.parseLong(args[0]) : 256;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        Granule granule = args.length > 2 ? Granule.valueOf(args[2]) : Granule.K4;
        ThreadMXBean tb = ManagementFactory.getThreadMXBean();
        double[] perGib = new double[runs];
        for (int run = -2; run < runs; run++) {
            MemoryManager mm = MemoryManager.create(MmConfig.arm64(granule));
            long size = mib << 20;
            int page = (int) mm.pageSize();
            byte[] data = new byte[page];
            new SplittableRandom(run).nextBytes(data);
            long base = mm.mmap(0, size, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
            long t0 = tb.getCurrentThreadCpuTime();
            for (long a = base; a < base + size; a += page) {
                data[0] = (byte) a;
                mm.write(a, data);
            }
            long dt = tb.getCurrentThreadCpuTime() - t0;
            mm.close();
            if (run >= 0) {
                // The first two runs warm the JIT up and are not counted.
                perGib[run] = dt / 1e9 / (size / (double) (1L << 30));
            }
        }
        double[] sorted = perGib.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "fresh frames, %d MiB per run, %s: %.3f s CPU per GiB best, %.3f median of %d "
                + "(runs: %s)%n", mib, granule, sorted[0], sorted[runs / 2], runs, Arrays.toString(perGib));
    }
}
