package dev.pagehop.workload;

import java.util.Set;

/**
 * Uniform random writes over the thread's heap partition: each step writes {@code writeBytes}
 * at a random aligned offset of a page drawn uniformly. The worst case for pre-copy at a given
 * rate: every page is equally likely to be dirtied again.
 */
public final class UniformWorkload extends HeapWorkload {
    public static final String KIND = "uniform";

    public UniformWorkload(WorkloadSpec spec) {
        super(spec, KIND, Set.of(), 256);
    }

    @Override
    public void step(StepContext ctx) {
        var cpu = ctx.cpu();
        long ps = ctx.pageSize();
        long page = Mix.below(Mix.next(cpu), cpu.x(X_SIZE));
        long r = Mix.next(cpu);
        long offset = Mix.below(r >>> 1, ps / writeBytes) * writeBytes;
        writeStamp(ctx, cpu.x(X_BASE) + page * ps + offset, r);
    }
}
