package dev.pagehop.uffd;

/** Constants of include/uapi/linux/userfaultfd.h and the PAGEMAP_SCAN UAPI (linux/fs.h). */
public final class Uffd {
    public static final long API = 0xAA;

    public static final int USER_MODE_ONLY = 1;
    /** userfaultfd(2) flags shared with fcntl: O_NONBLOCK and O_CLOEXEC of arm64. */
    public static final int NONBLOCK = 0x800;
    public static final int CLOEXEC = 0x80000;

    // features
    public static final long FEATURE_PAGEFAULT_FLAG_WP = 1L << 0;
    public static final long FEATURE_EVENT_FORK = 1L << 1;
    public static final long FEATURE_EVENT_REMAP = 1L << 2;
    public static final long FEATURE_EVENT_REMOVE = 1L << 3;
    public static final long FEATURE_MISSING_HUGETLBFS = 1L << 4;
    public static final long FEATURE_MISSING_SHMEM = 1L << 5;
    public static final long FEATURE_EVENT_UNMAP = 1L << 6;
    public static final long FEATURE_SIGBUS = 1L << 7;
    public static final long FEATURE_THREAD_ID = 1L << 8;
    public static final long FEATURE_MINOR_HUGETLBFS = 1L << 9;
    public static final long FEATURE_MINOR_SHMEM = 1L << 10;
    public static final long FEATURE_EXACT_ADDRESS = 1L << 11;
    public static final long FEATURE_WP_HUGETLBFS_SHMEM = 1L << 12;
    public static final long FEATURE_WP_UNPOPULATED = 1L << 13;
    public static final long FEATURE_POISON = 1L << 14;
    public static final long FEATURE_WP_ASYNC = 1L << 15;
    public static final long FEATURE_MOVE = 1L << 16;

    // ioctl numbers (bit positions in the ioctls masks)
    public static final int _UFFDIO_REGISTER = 0x00;
    public static final int _UFFDIO_UNREGISTER = 0x01;
    public static final int _UFFDIO_WAKE = 0x02;
    public static final int _UFFDIO_COPY = 0x03;
    public static final int _UFFDIO_ZEROPAGE = 0x04;
    public static final int _UFFDIO_MOVE = 0x05;
    public static final int _UFFDIO_WRITEPROTECT = 0x06;
    public static final int _UFFDIO_CONTINUE = 0x07;
    public static final int _UFFDIO_POISON = 0x08;
    public static final int _UFFDIO_API = 0x3F;

    // register modes
    public static final int REGISTER_MODE_MISSING = 1 << 0;
    public static final int REGISTER_MODE_WP = 1 << 1;
    public static final int REGISTER_MODE_MINOR = 1 << 2;

    // per-ioctl modes
    public static final int COPY_MODE_DONTWAKE = 1 << 0;
    public static final int COPY_MODE_WP = 1 << 1;
    public static final int ZEROPAGE_MODE_DONTWAKE = 1 << 0;
    public static final int WRITEPROTECT_MODE_WP = 1 << 0;
    public static final int WRITEPROTECT_MODE_DONTWAKE = 1 << 1;
    public static final int CONTINUE_MODE_DONTWAKE = 1 << 0;
    public static final int CONTINUE_MODE_WP = 1 << 1;

    // events and pagefault flags
    public static final int EVENT_PAGEFAULT = 0x12;
    public static final int EVENT_FORK = 0x13;
    public static final int EVENT_REMAP = 0x14;
    public static final int EVENT_REMOVE = 0x15;
    public static final int EVENT_UNMAP = 0x16;
    public static final long PAGEFAULT_FLAG_WRITE = 1L << 0;
    public static final long PAGEFAULT_FLAG_WP = 1L << 1;
    public static final long PAGEFAULT_FLAG_MINOR = 1L << 2;

    // PAGEMAP_SCAN categories and flags
    public static final long PAGE_IS_WPALLOWED = 1L << 0;
    public static final long PAGE_IS_WRITTEN = 1L << 1;
    public static final long PAGE_IS_FILE = 1L << 2;
    public static final long PAGE_IS_PRESENT = 1L << 3;
    public static final long PAGE_IS_SWAPPED = 1L << 4;
    public static final long PAGE_IS_PFNZERO = 1L << 5;
    public static final long PAGE_IS_HUGE = 1L << 6;
    public static final long PAGE_IS_SOFT_DIRTY = 1L << 7;
    public static final long PAGE_IS_GUARD = 1L << 8;
    public static final long PM_SCAN_WP_MATCHING = 1L << 0;
    public static final long PM_SCAN_CHECK_WPASYNC = 1L << 1;

    private Uffd() {
    }
}
