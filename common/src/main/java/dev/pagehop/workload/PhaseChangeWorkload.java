package dev.pagehop.workload;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.MemoryManager;
import java.util.Set;

/**
 * A hot set that moves: uniform writes over {@code hotPages} pages starting at
 * {@code phase * hotPages} (mod the partition), where the phase is the step count divided by
 * {@code phaseSteps}. A working set that shifts between rounds: the pages sent last round go
 * cold while new ones heat up, which trips "dirty set growing" stop rules.
 */
public final class PhaseChangeWorkload extends HeapWorkload {
    public static final String KIND = "phase";

    private final long hotPages;
    private final long phaseSteps;

    public PhaseChangeWorkload(WorkloadSpec spec) {
        super(spec, KIND, Set.of("hotPages", "phaseSteps"), 256);
        hotPages = spec.longParam("hotPages", Math.max(1, pagesPerThread / 8), 1, pagesPerThread);
        phaseSteps = spec.longParam("phaseSteps", 10_000, 1, Long.MAX_VALUE);
    }

    @Override
    protected void setUpThread(MemoryManager mm, CpuState cpu, int index, int threadCount) {
        cpu.setX(25, hotPages);
        cpu.setX(26, phaseSteps);
    }

    @Override
    public void step(StepContext ctx) {
        var cpu = ctx.cpu();
        long ps = ctx.pageSize();
        long pages = cpu.x(X_SIZE);
        long phase = cpu.x(X_STEPS) / phaseSteps;
        cpu.setX(X_CURSOR, phase);
        long first = Mix.below(phase * hotPages, pages);
        long page = Mix.below(first + Mix.below(Mix.next(cpu), hotPages), pages);
        long r = Mix.next(cpu);
        long offset = Mix.below(r >>> 1, ps / writeBytes) * writeBytes;
        writeStamp(ctx, cpu.x(X_BASE) + page * ps + offset, r);
    }
}
