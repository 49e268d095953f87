package dev.pagehop.uffd;

/**
 * struct uffd_msg. For {@code EVENT_PAGEFAULT}: {@code flags}, {@code address}, {@code ptid};
 * FORK: {@code child}; REMAP: {@code from}, {@code to}, {@code len}; REMOVE/UNMAP: {@code start},
 * {@code end}. Unused fields are zero (or null).
 */
public record UffdMsg(int event, long flags, long address, long ptid, Userfaultfd child,
        long from, long to, long len, long start, long end) {

    public static UffdMsg pagefault(long flags, long address, long ptid) {
        return new UffdMsg(Uffd.EVENT_PAGEFAULT, flags, address, ptid, null, 0, 0, 0, 0, 0);
    }

    public static UffdMsg fork(Userfaultfd child) {
        return new UffdMsg(Uffd.EVENT_FORK, 0, 0, 0, child, 0, 0, 0, 0, 0);
    }

    public static UffdMsg remap(long from, long to, long len) {
        return new UffdMsg(Uffd.EVENT_REMAP, 0, 0, 0, null, from, to, len, 0, 0);
    }

    public static UffdMsg remove(long start, long end) {
        return new UffdMsg(Uffd.EVENT_REMOVE, 0, 0, 0, null, 0, 0, 0, start, end);
    }

    public static UffdMsg unmap(long start, long end) {
        return new UffdMsg(Uffd.EVENT_UNMAP, 0, 0, 0, null, 0, 0, 0, start, end);
    }
}
