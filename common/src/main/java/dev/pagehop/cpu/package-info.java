/**
 * The arm64 CPU: {@link dev.pagehop.cpu.CpuState} (the user-visible registers, what a freeze
 * saves) and the A64 interpreter that runs it.
 *
 * <pre>
 *   Interpreter.run(state, budget)            Interpreter.step(state, max)  (process-model steps)
 *        │ load registers from CpuState            same loop, ends after the first instruction
 *        ▼                                         that writes memory or enters the kernel
 *   fetch(pc) ── CodeCache: 4 KiB block of Decoded[1024] per code page (r-x only; rwx pages are
 *        │        decoded at every execution); a miss reads the word through the MMU (load32)
 *        ▼
 *   Decoded.op ── fast operations (mov, add/sub, cmp, logical, shifts, ldr/str X/W/B, ldp/stp X,
 *        │        branches, csel, madd) ── or RAW: IntegerUnit / LoadStoreUnit / SimdUnit /
 *        │        FloatingPoint decode the encoding again and execute it
 *        ▼
 *   MemoryManager load/store (MMU, TLB, faults, trackers)    SVC → SupervisorCall (the kernel)
 *        │
 *        ▼ store registers back to CpuState (also when a fault or a signal ends the run)
 * </pre>
 *
 * A faulting instruction changes no register; an unknown or UNDEFINED encoding raises
 * {@link dev.pagehop.cpu.GuestSignal} SIGILL with the address and the encoding. vCPUs of one
 * process on different threads share one atomics {@link java.util.concurrent.locks.Lock} (LSE
 * atomics, CAS, store-exclusive compare by value under it) and one code-cache epoch; a vCPU that
 * must wait for the atomics lock tells its {@link dev.pagehop.cpu.Interpreter.LockWait}.
 */
package dev.pagehop.cpu;
