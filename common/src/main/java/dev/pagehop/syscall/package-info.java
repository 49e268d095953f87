/**
 * The Linux system-call layer for guest programs, in two hosts:
 * <ul>
 *   <li>{@link dev.pagehop.syscall.LinuxGuest}: a whole program with its threads (clone, futex),
 *       scheduled round-robin on the caller's thread; output captured; snapshot and resume.</li>
 *   <li>{@link dev.pagehop.syscall.ElfWorkload}: workload kind {@code a64} for the process model:
 *       each guest thread (clone) a process thread with its own vCPU, futex waiters idle at
 *       their step boundary; its kernel state (console, counters, thread table) kept in emulated
 *       memory so it migrates with the pages.</li>
 * </ul>
 * Both answer the common calls through one table; an unknown syscall returns -ENOSYS and is
 * counted.
 */
package dev.pagehop.syscall;
