package dev.pagehop.workload;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.MemoryManager;
import java.util.Set;

/**
 * Hot-set writes: the page is drawn from the first {@code hotPages} pages of the partition with
 * a Zipf distribution of exponent {@code skew} (0 = uniform over the hot set; 0.99 is the YCSB
 * default). The shape that lets pre-copy converge: most writes land on a few pages.
 */
public final class HotSetWorkload extends HeapWorkload {
    public static final String KIND = "zipf";

    private final ZipfTable zipf;

    public HotSetWorkload(WorkloadSpec spec) {
        super(spec, KIND, Set.of("hotPages", "skew"), 256);
        int hot = (int) spec.longParam("hotPages", Math.max(1, pagesPerThread / 8), 1, pagesPerThread);
        double skew = spec.doubleParam("skew", 0.99, 0, 10);
        zipf = new ZipfTable(hot, skew);
    }

    public int hotPages() {
        return zipf.size();
    }

    @Override
    protected void setUpThread(MemoryManager mm, CpuState cpu, int index, int threadCount) {
        cpu.setX(25, zipf.size());
    }

    @Override
    public void step(StepContext ctx) {
        var cpu = ctx.cpu();
        long ps = ctx.pageSize();
        long page = zipf.sample(Mix.next(cpu));
        long r = Mix.next(cpu);
        long offset = Mix.below(r >>> 1, ps / writeBytes) * writeBytes;
        writeStamp(ctx, cpu.x(X_BASE) + page * ps + offset, r);
    }
}
