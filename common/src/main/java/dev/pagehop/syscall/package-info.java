/**
 * The Linux system-call layer for guest programs, in two hosts:
 * <ul>
 *   <li>{@link dev.pagehop.syscall.LinuxGuest}: a whole program with its threads (clone, futex),
 *       scheduled round-robin on the caller's thread; output captured; snapshot and resume.</li>
 *   <li>{@link dev.pagehop.syscall.ElfWorkload}: workload kind {@code a64} for the process model
 *       (one thread), its kernel state kept in emulated memory so it migrates with the pages.</li>
 * </ul>
 * Both answer the common calls through one table; an unknown syscall returns -ENOSYS and is
 * counted.
 */
package dev.pagehop.syscall;
