/**
 * Deterministic, seeded workloads for emulated processes, with rate control and the
 * auto-converge throttle.
 *
 * <p>A {@link dev.pagehop.workload.Workload} keeps all its state in registers and emulated
 * memory, so the same {@link dev.pagehop.workload.WorkloadSpec} (kind, parameters, seed), the
 * same step counts and the same starting memory give identical memory and registers, on any
 * machine and across a migration. Built-in kinds (see {@link dev.pagehop.workload.Workloads}):
 *
 * <table>
 *   <caption>Built-in workloads and their parameters</caption>
 *   <tr><th>kind</th><th>what a step does</th><th>parameters (defaults)</th></tr>
 *   <tr><td>uniform</td><td>writes writeBytes at a random page of the partition</td><td>pagesPerThread (256), writeBytes (64)</td></tr>
 *   <tr><td>zipf</td><td>same, page Zipf-distributed over a hot set</td><td>hotPages (pagesPerThread/8), skew (0.99)</td></tr>
 *   <tr><td>sequential</td><td>the next page of a sweep</td><td>pagesPerThread, writeBytes</td></tr>
 *   <tr><td>idle</td><td>one load, no store; 1000 steps/s unless a rate is set</td><td>-</td></tr>
 *   <tr><td>phase</td><td>uniform over a hot set that moves every phaseSteps</td><td>hotPages, phaseSteps (10000)</td></tr>
 *   <tr><td>churn</td><td>maps007-like: write, mprotect, MADV_DONTNEED, munmap, mmap, mremap slots</td><td>slots (16), slotPages (4), remap (1)</td></tr>
 *   <tr><td>kv</td><td>put into a self-checking hash table</td><td>pagesPerThread (64), keys (half the capacity)</td></tr>
 * </table>
 *
 * <p>Other kinds plug in with {@link dev.pagehop.workload.Workloads#register}. A step is either
 * buffered (loads, then effects applied by the process: the built-ins) or, for instruction-level
 * workloads such as the A64 interpreter, direct ({@link dev.pagehop.workload.Workload#directMemory()}:
 * registers updated in place at instruction boundaries, memory accessed through the MMU
 * directly). Either way a thread frozen in a userfault resumes elsewhere exactly where it stood.
 *
 * <p>Pacing: each thread owns a {@link dev.pagehop.workload.Pacer} (token bucket for the
 * {@link dev.pagehop.workload.RateLimit}, duty cycle for the throttle) and waits through an
 * injected {@link dev.pagehop.workload.Ticker}; tests use a {@link dev.pagehop.workload.ManualTicker}
 * and never sleep. The throttle (auto-converge) scales a rate target and imposes QEMU's duty
 * cycle on CPU-bound threads. Achieved rates are in {@link dev.pagehop.workload.WorkloadStats}.
 */
package dev.pagehop.workload;
