package dev.pagehop.mm;

/** VM_* flags of include/linux/mm.h (64-bit values), as {@link VmaInfo#vmFlags()} reports them. */
public final class VmFlags {
    public static final long VM_READ = 0x1L;
    public static final long VM_WRITE = 0x2L;
    public static final long VM_EXEC = 0x4L;
    public static final long VM_SHARED = 0x8L;
    public static final long VM_MAYREAD = 0x10L;
    public static final long VM_MAYWRITE = 0x20L;
    public static final long VM_MAYEXEC = 0x40L;
    public static final long VM_MAYSHARE = 0x80L;
    public static final long VM_GROWSDOWN = 0x100L;
    public static final long VM_UFFD_MISSING = 0x200L;
    public static final long VM_PFNMAP = 0x400L;
    public static final long VM_UFFD_WP = 0x1000L;
    public static final long VM_LOCKED = 0x2000L;
    public static final long VM_DONTCOPY = 0x20000L;
    public static final long VM_ACCOUNT = 0x100000L;
    public static final long VM_NORESERVE = 0x200000L;
    public static final long VM_HUGETLB = 0x400000L;
    public static final long VM_WIPEONFORK = 0x2000000L;
    /** Only ever set when the kernel has soft-dirty (on stock arm64 it is VM_NONE). */
    public static final long VM_SOFTDIRTY = 0x8000000L;
    public static final long VM_HUGEPAGE = 0x20000000L;
    public static final long VM_NOHUGEPAGE = 0x40000000L;
    public static final long VM_UFFD_MINOR = 1L << 41;

    public static final long VM_UFFD_ALL = VM_UFFD_MISSING | VM_UFFD_WP | VM_UFFD_MINOR;

    private VmFlags() {
    }

    /** The /proc/PID/smaps "VmFlags:" mnemonics. */
    public static String mnemonics(long f) {
        StringBuilder sb = new StringBuilder();
        String[][] names = {{"rd", "1"}, {"wr", "2"}, {"ex", "4"}, {"sh", "8"}, {"mr", "10"}, {"mw", "20"},
            {"me", "40"}, {"ms", "80"}, {"gd", "100"}, {"um", "200"}, {"pf", "400"}, {"uw", "1000"},
            {"lo", "2000"}, {"dc", "20000"}, {"ac", "100000"}, {"nr", "200000"}, {"ht", "400000"},
            {"wf", "2000000"}, {"sd", "8000000"}, {"hg", "20000000"}, {"nh", "40000000"},
            {"ui", "20000000000"}};
        for (String[] n : names) {
            if ((f & Long.parseLong(n[1], 16)) != 0) {
                if (!sb.isEmpty()) {
                    sb.append(' ');
                }
                sb.append(n[0]);
            }
        }
        return sb.toString();
    }
}
