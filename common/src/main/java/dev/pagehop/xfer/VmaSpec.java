package dev.pagehop.xfer;

/**
 * One VMA as the migration protocol describes it: range, PROT_* bits, VM_* flags, and its
 * backing ({@code memfdId} 0 for anonymous memory, else a memfd of the same layout at
 * {@code fileOffset}).
 */
public record VmaSpec(long start, long end, int prot, long vmFlags, int memfdId, long fileOffset) {
    /** VM_SHARED of include/linux/mm.h. */
    public static final long VM_SHARED = 0x08;
    /** VM_GROWSDOWN of include/linux/mm.h. */
    public static final long VM_GROWSDOWN = 0x100;
    /** VM_HUGEPAGE of include/linux/mm.h (MADV_HUGEPAGE was applied). */
    public static final long VM_HUGEPAGE = 0x20000000L;

    public VmaSpec {
        if (end <= start) {
            throw new IllegalArgumentException(String.format("VMA [0x%x, 0x%x) is empty or inverted", start, end));
        }
    }

    public long length() {
        return end - start;
    }

    public boolean shared() {
        return (vmFlags & VM_SHARED) != 0;
    }

    /**
     * True if a page at the same address is the same storage under both: same memfd at the same
     * file position, or both private anonymous. Then contents already sent stay valid when only
     * the protection or the VMA boundaries changed.
     */
    public boolean sameBacking(VmaSpec other) {
        return memfdId == other.memfdId && shared() == other.shared()
                && (memfdId == 0 || fileOffset - start == other.fileOffset - other.start);
    }

    /** The part of this VMA in [from, to), with the file offset moved along. */
    public VmaSpec slice(long from, long to) {
        long s = Math.max(start, from);
        long e = Math.min(end, to);
        return new VmaSpec(s, e, prot, vmFlags, memfdId, memfdId == 0 ? 0 : fileOffset + (s - start));
    }
}
