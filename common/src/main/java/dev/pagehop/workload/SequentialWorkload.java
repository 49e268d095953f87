package dev.pagehop.workload;

import java.util.Set;

/**
 * A sequential sweep: page after page through the partition, wrapping; each sweep writes the
 * next {@code writeBytes} slot of every page (X23 is the cursor). Every page is dirtied once per
 * sweep, so a sweep longer than a migration round defeats pre-copy in the simplest way.
 */
public final class SequentialWorkload extends HeapWorkload {
    public static final String KIND = "sequential";

    public SequentialWorkload(WorkloadSpec spec) {
        super(spec, KIND, Set.of(), 256);
    }

    @Override
    public void step(StepContext ctx) {
        var cpu = ctx.cpu();
        long ps = ctx.pageSize();
        long pages = cpu.x(X_SIZE);
        long cursor = cpu.x(X_CURSOR);
        long sweep = cpu.x(X_STEPS) / pages;
        long offset = Mix.below(sweep, ps / writeBytes) * writeBytes;
        cpu.setX(X_CURSOR, cursor + 1 == pages ? 0 : cursor + 1);
        writeStamp(ctx, cpu.x(X_BASE) + cursor * ps + offset, Mix.next(cpu));
    }
}
