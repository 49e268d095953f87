package dev.pagehop.mm;

/** MADV_* values of mman-common.h. */
public final class Madvise {
    public static final int NORMAL = 0;
    public static final int RANDOM = 1;
    public static final int SEQUENTIAL = 2;
    public static final int WILLNEED = 3;
    public static final int DONTNEED = 4;
    public static final int FREE = 8;
    public static final int REMOVE = 9;
    public static final int DONTFORK = 10;
    public static final int DOFORK = 11;
    public static final int HUGEPAGE = 14;
    public static final int NOHUGEPAGE = 15;
    public static final int COLD = 20;
    public static final int PAGEOUT = 21;

    private Madvise() {
    }
}
