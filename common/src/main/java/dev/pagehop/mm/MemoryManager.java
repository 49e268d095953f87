package dev.pagehop.mm;

import dev.pagehop.uffd.PmScanArg;
import dev.pagehop.uffd.Userfaultfd;
import java.util.List;

/**
 * One emulated arm64 Linux address space (an {@code mm_struct}): VMAs, arm64 page tables,
 * frames, a software TLB and the fault path. System calls check their arguments as Linux does
 * and fail with {@link ErrnoException}; a load or store that Linux would answer with SIGSEGV
 * throws {@link SegmentationFault}. Stores made by several threads at once are safe; the
 * address-space calls (mmap, munmap, ...) serialise as under {@code mmap_lock}.
 */
public interface MemoryManager extends AutoCloseable {

    static MemoryManager create(MmConfig config) {
        return AddressSpace.create(config);
    }

    MmConfig config();

    /** Base page size of the granule: 4096, 16384 or 65536. */
    long pageSize();

    // --- system calls -------------------------------------------------------------------------

    /** mmap(2) of anonymous memory ({@code MapFlags.ANONYMOUS} required). Returns the address. */
    long mmap(long addr, long len, int prot, int flags);

    /** mmap(2) of a memfd (shared file-backed memory, shmem-like) at {@code offset}. */
    long mmap(long addr, long len, int prot, int flags, Memfd fd, long offset);

    /** memfd_create(2): an anonymous shared file of {@code size} bytes (ftruncate'd). */
    Memfd memfdCreate(String name, long size);

    void munmap(long addr, long len);

    void mprotect(long addr, long len, int prot);

    long mremap(long oldAddr, long oldLen, long newLen, int flags, long newAddr);

    void madvise(long addr, long len, int advice);

    /** brk(2): returns the new break, or the current one if {@code addr} is refused (as Linux). */
    long brk(long addr);

    /** fork(2) of the address space: a new mm sharing frames copy-on-write. */
    MemoryManager fork();

    /** userfaultfd(2) bound to this address space. */
    Userfaultfd userfaultfd(int flags);

    // --- loads and stores (as user-mode accesses through the MMU) ----------------------------

    int load8(long addr);

    int load16(long addr);

    int load32(long addr);

    long load64(long addr);

    void store8(long addr, long value);

    void store16(long addr, long value);

    void store32(long addr, long value);

    void store64(long addr, long value);

    /** Reads {@code dst.length} bytes at {@code addr} with user-mode faults (like a CPU loop). */
    void read(long addr, byte[] dst);

    /** Writes {@code src} at {@code addr} with user-mode faults (like a CPU loop). */
    void write(long addr, byte[] src);

    /**
     * Writes the remaining bytes of {@code src} at {@code addr} with user-mode faults, straight
     * from the buffer (heap or direct) into the frames: a receiver holding pages in network
     * buffers needs no intermediate array. The buffer's position is not moved.
     */
    default void write(long addr, java.nio.ByteBuffer src) {
        byte[] copy = new byte[src.remaining()];
        src.duplicate().get(copy);
        write(addr, copy);
    }

    // --- /proc/PID views -------------------------------------------------------------------------

    /** The 64-bit /proc/PID/pagemap entry of the page holding {@code addr} (PFN shown, as for CAP_SYS_ADMIN). */
    long pagemapEntry(long addr);

    /** Writes {@code value} to /proc/PID/clear_refs (1..5; others fail EINVAL). */
    void clearRefs(int value);

    /** ioctl(PAGEMAP_SCAN) on /proc/PID/pagemap; returns the number of regions written to the vec. */
    int pagemapScan(PmScanArg arg);

    /** The leaf descriptor (page or block) mapping {@code addr}, swap entry or marker; 0 if none. */
    long rawPte(long addr);

    /**
     * The stage-1 table walk for {@code addr} as the MMU does it, from the root table down to
     * the leaf (or to the first empty or block descriptor).
     */
    List<WalkStep> walk(long addr);

    /** /proc/PID/maps: the VMAs in address order. */
    List<VmaInfo> vmas();

    /** mm->start_brk: where the heap begins. */
    long brkStart();

    /**
     * prctl(PR_SET_MM, PR_SET_MM_START_BRK / PR_SET_MM_BRK) as CRIU uses it on restore: sets the
     * heap's start and current break of a fresh address space so brk(2) continues where the
     * source left off. Fails EINVAL for unaligned or overlapping values.
     */
    void setBrk(long startBrk, long brk);

    // --- kernel-side access (not user-mode: no uffd traps, no SIGSEGV, never counted as a CPU store) --

    /**
     * Copies page contents as the kernel sees them (a zero page or an unpopulated page reads as
     * zeros) without faulting anything in; for migration readers. {@code addr} and the length
     * must lie inside VMAs.
     */
    void peek(long addr, byte[] dst, int offset, int length);

    // --- counters ------------------------------------------------------------------------------

    /**
     * VmRSS of /proc/PID/status: bytes mapped by present page-table entries in this address
     * space (a THP block counts whole; the shared zero page does not, as Linux leaves it out of
     * RSS). Counted with PAGEMAP_SCAN, so it walks only the populated tables.
     */
    default long residentBytes() {
        List<VmaInfo> vmas = vmas();
        if (vmas.isEmpty()) {
            return 0;
        }
        long end = vmas.getLast().end();
        long start = vmas.getFirst().start();
        long bytes = 0;
        while (start < end) {
            PmScanArg a = new PmScanArg(start, end).withVec(512).masks(
                    dev.pagehop.uffd.Uffd.PAGE_IS_PRESENT | dev.pagehop.uffd.Uffd.PAGE_IS_PFNZERO, 0,
                    dev.pagehop.uffd.Uffd.PAGE_IS_PFNZERO, dev.pagehop.uffd.Uffd.PAGE_IS_PRESENT);
            int n = pagemapScan(a);
            for (int i = 0; i < n; i++) {
                bytes += a.vec[i].end() - a.vec[i].start();
            }
            if (a.walkEnd >= end || a.walkEnd <= start) {
                break;
            }
            start = a.walkEnd;
        }
        return bytes;
    }

    /** Page-table pages in use now, every level (what VmPTE counts), in pages. */
    long pageTablePages();

    /** {@link #pageTablePages()} in bytes: VmPTE of /proc/PID/status. */
    long pageTableBytes();

    /** Monotonic fault and kernel-work counters of this address space (a /proc/PID/stat minflt-like view). */
    FaultCounters faultCounters();

    /** Page-table pages ever allocated by this address space (faults, uffd-wp markers, THP splits). */
    long pageTablesPopulated();

    /**
     * Writes {@code length} bytes as the kernel does for ptrace(POKEDATA) / a loader (FOLL_FORCE):
     * through the write-fault path, so it counts as dirtying (uffd-wp async cleared, soft-dirty
     * set) and breaks copy-on-write, but also into private read-only mappings (which stay
     * read-only). Shared read-only and PROT_NONE mappings fail EFAULT, as does a range outside
     * VMAs; a userfault on a USER_MODE_ONLY userfaultfd fails EFAULT.
     */
    void poke(long addr, byte[] src, int offset, int length);

    @Override
    void close();
}
