package dev.pagehop.mm;

/** /sys/kernel/mm/transparent_hugepage/enabled. */
public enum ThpMode {
    ALWAYS,
    MADVISE,
    NEVER
}
