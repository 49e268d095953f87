package dev.pagehop.workload;

import java.util.Set;

/**
 * A process that runs but writes nothing: each step loads its stack frame and advances its
 * registers. Paced at {@link #DEFAULT_STEPS_PER_SECOND} unless given a rate, so an idle process
 * does not burn a core. Pre-copy should converge in one round.
 */
public final class IdleWorkload extends HeapWorkload {
    public static final String KIND = "idle";
    /** Like a daemon waking up every millisecond: cheap, yet often enough to freeze mid-run. */
    public static final double DEFAULT_STEPS_PER_SECOND = 1000;

    public IdleWorkload(WorkloadSpec spec) {
        super(spec, KIND, Set.of(), 1);
    }

    @Override
    public void step(StepContext ctx) {
        var cpu = ctx.cpu();
        long v = ctx.load64(cpu.sp()) ^ Mix.next(cpu);
        advance(cpu, cpu.sp(), v);
    }

    @Override
    public RateLimit defaultRate() {
        return RateLimit.stepsPerSecond(DEFAULT_STEPS_PER_SECOND);
    }
}
