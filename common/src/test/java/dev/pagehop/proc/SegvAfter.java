package dev.pagehop.proc;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.workload.StepContext;
import dev.pagehop.workload.Workload;
import dev.pagehop.workload.WorkloadSpec;
import java.util.List;

/** A workload that counts in X0 and, after {@code steps} steps, stores to an unmapped address. */
final class SegvAfter implements Workload {
    static final long BAD_ADDRESS = 0xdead_0000L;
    private final WorkloadSpec spec;
    private final long steps;

    SegvAfter(WorkloadSpec spec, long steps) {
        this.spec = spec;
        this.steps = steps;
    }

    @Override
    public WorkloadSpec spec() {
        return spec;
    }

    @Override
    public void setUp(MemoryManager mm, List<CpuState> threads) {
    }

    @Override
    public void step(StepContext ctx) {
        long n = ctx.cpu().x(0) + 1;
        ctx.cpu().setX(0, n);
        if (n > steps + ctx.threadIndex()) {
            ctx.store64(BAD_ADDRESS, n);
        }
    }
}
