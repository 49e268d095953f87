package dev.pagehop.bench.mm;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.uffd.PmScanArg;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.Userfaultfd;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.SplittableRandom;

/**
 * The mm numbers in CPU time of the measuring thread (ThreadMXBean), for a shared machine where
 * JMH wall-clock scores carry the load of other users: PAGEMAP_SCAN get-and-re-protect of 1 GiB
 * of 4K pages with 1 % written, the first-write trap, and hot 8-byte stores.
 */
public final class MmCpuTimeRunner {
    private MmCpuTimeRunner() {
    }

    public static void main(String[] args) {
        ThreadMXBean tb = ManagementFactory.getThreadMXBean();
        MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4));
        long size = 1L << 30, p = mm.pageSize(), pages = size / p;
        long base = mm.mmap(0, size, 3, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        Userfaultfd u = mm.userfaultfd(Uffd.USER_MODE_ONLY);
        u.api(Uffd.FEATURE_WP_ASYNC);
        u.register(base, size, Uffd.REGISTER_MODE_WP);
        long t0 = tb.getCurrentThreadCpuTime();
        u.writeprotect(base, size, Uffd.WRITEPROTECT_MODE_WP);
        System.out.printf("arm 1 GiB unpopulated: %.2f ms cpu, tables %d%n", (tb.getCurrentThreadCpuTime() - t0) / 1e6, mm.pageTablePages());
        SplittableRandom r = new SplittableRandom(1);
        long best = Long.MAX_VALUE, sum = 0; int n = 0;
        long trapBest = Long.MAX_VALUE;
        for (int it = 0; it < 40; it++) {
            long t1 = tb.getCurrentThreadCpuTime();
            for (long i = 0; i < pages / 100; i++) mm.store8(base + r.nextLong(pages) * p, 1);
            long trap = (tb.getCurrentThreadCpuTime() - t1) / (pages / 100);
            PmScanArg arg = new PmScanArg(base, base + size).withVec(4096).flags(3).masks(2, 0, 0, 2);
            long t = tb.getCurrentThreadCpuTime();
            int regions = mm.pagemapScan(arg);
            long dt = tb.getCurrentThreadCpuTime() - t;
            if (it >= 20) { best = Math.min(best, dt); sum += dt; n++; trapBest = Math.min(trapBest, trap); }
        }
        System.out.printf("PAGEMAP_SCAN get+rearm 1 GiB, 1%% written: best %.3f ms, mean %.3f ms cpu; first-write trap incl. random store ~%d ns cpu%n", best / 1e6, sum / n / 1e6, trapBest);
        // hot stores
        long hb = mm.mmap(0, 16 * p, 3, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        for (int i = 0; i < 16; i++) mm.store64(hb + i * p, 1);
        long bestRate = 0;
        for (int it = 0; it < 30; it++) {
            long t = tb.getCurrentThreadCpuTime();
            long mask = 16 * p - 1, off = 0;
            for (int i = 0; i < 10_000_000; i++) { mm.store64(hb + (off & mask & ~7L), i); off += p + 8; }
            long dt = tb.getCurrentThreadCpuTime() - t;
            bestRate = Math.max(bestRate, (long) (10_000_000 / (dt / 1e9)));
        }
        System.out.printf("store64 strided over 16 hot pages: best %.0f M stores/s per thread (cpu time)%n", bestRate / 1e6);
        mm.close();
    }
}
