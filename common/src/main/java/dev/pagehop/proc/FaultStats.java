package dev.pagehop.proc;

/**
 * Time a process spent asleep in userfaults, as QEMU reports post-copy blocktime: {@code faults}
 * counted, {@code blockedNanos} summed over threads (each from the fault to its resolution), and
 * {@code allBlockedNanos}, the time during which every live thread was asleep in a fault at once
 * (QEMU's {@code postcopy-blocktime}: the process made no progress at all). Wall-clock time
 * ({@link System#nanoTime()}).
 */
public record FaultStats(long faults, long blockedNanos, long allBlockedNanos) {
}
