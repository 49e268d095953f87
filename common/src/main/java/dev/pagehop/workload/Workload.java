package dev.pagehop.workload;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.MemoryManager;
import java.util.List;

/**
 * A deterministic program for an emulated process. All of its state lives in the threads'
 * registers ({@link CpuState}) and in emulated memory, never in this object, so a process
 * rebuilt elsewhere from its image and memory continues the same computation: the same seed,
 * the same number of steps per thread and the same starting memory give the same memory and the
 * same registers, byte for byte.
 *
 * <p>Implementations are immutable and shared by all threads of a process. The A64 interpreter
 * plugs in here as a workload whose step executes instructions at PC.
 */
public interface Workload {

    WorkloadSpec spec();

    /**
     * Prepares a fresh address space for {@code threads.size()} threads: maps what the workload
     * needs (heap through brk, stacks, text) and sets every thread's registers. Runs once, on the
     * spawning thread, before any thread steps; it may use {@code mm} directly.
     */
    void setUp(MemoryManager mm, List<CpuState> threads);

    /**
     * One step of the thread owning {@code ctx}: loads, register updates, then buffered effects
     * (see {@link StepContext}). Deterministic in the registers and the memory it loads.
     * Throws {@link WorkloadFailure} when the workload detects corruption.
     */
    void step(StepContext ctx);

    /**
     * False (the default): a step loads, then buffers its effects (see {@link StepContext}), and
     * a thread frozen mid-step is saved with its effects pending. True, for instruction-level
     * workloads such as the A64 interpreter: a step works on the thread's registers in place and
     * on memory directly ({@link StepContext#memory()}), and must keep the registers at the
     * boundary of the instruction in progress whenever an access can fault, as a CPU does; a
     * thread frozen in a fault is then saved with those registers and re-executes that one
     * instruction where it resumes. Such a step calls {@link StepContext#checkpoint()} once the
     * instruction whose access can fault has completed, with the registers already past it: a
     * fault resolved while the process is frozen lets the access land and holds the thread
     * there, so an image taken meanwhile holds both the write and the registers after it, and
     * a read-modify-write takes effect once. It reports its writes with
     * {@link StepContext#countWrite}.
     */
    default boolean directMemory() {
        return false;
    }

    /** Checks the workload's invariants from memory alone; {@code notChecked} if it has none. */
    default IntegrityReport verify(MemoryManager mm) {
        return IntegrityReport.notChecked(spec().kind());
    }

    /** The pace the workload runs at when the process is given no rate ({@code idle} is slow). */
    default RateLimit defaultRate() {
        return RateLimit.unlimited();
    }
}
