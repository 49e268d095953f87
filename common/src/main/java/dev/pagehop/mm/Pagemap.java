package dev.pagehop.mm;

/** /proc/PID/pagemap entry bits (fs/proc/task_mmu.c). */
public final class Pagemap {
    public static final long PM_PFRAME_MASK = (1L << 55) - 1;
    public static final long PM_SOFT_DIRTY = 1L << 55;
    public static final long PM_MMAP_EXCLUSIVE = 1L << 56;
    public static final long PM_UFFD_WP = 1L << 57;
    public static final long PM_GUARD_REGION = 1L << 58;
    public static final long PM_FILE = 1L << 61;
    public static final long PM_SWAP = 1L << 62;
    public static final long PM_PRESENT = 1L << 63;

    private Pagemap() {
    }
}
