/**
 * The emulated arm64 Linux memory manager: one {@link dev.pagehop.mm.MemoryManager} per
 * mm_struct, created by {@link dev.pagehop.mm.MemoryManager#create}.
 *
 * <h2>Structure</h2>
 * <pre>
 *   MemoryManager (facade) ── AddressSpace ── TreeMap&lt;start, Vma&gt;   (VMAs, split/merge, VM_* flags)
 *                                 │            root table ─► L0..L3 tables in frames (exact {@link dev.pagehop.mm.Pte} descriptors)
 *                                 │            UffdContext* (userfaultfd), PagemapScanner (PAGEMAP_SCAN)
 *                                 └── PhysMem (shared by fork children and memfds): off-heap frames,
 *                                     refcount / mapcount per frame, one zero page, PA from 1 GiB
 *   thread ──► Mmu (per thread, per mm): direct-mapped read/write TLB of native frame addresses
 * </pre>
 *
 * <h2>Concurrency</h2>
 * One lock per address space stands for mmap_lock and the page-table locks. A TLB hit takes no
 * lock: it checks the thread's cached generation against {@code AddressSpace.tlbGen} (one
 * volatile read) and stores to the frame. Every change that takes access away or replaces a
 * frame bumps the generation and waits for each other thread running in the mm to acknowledge
 * (the emulated TLB-shootdown IPI, see {@link dev.pagehop.mm.Mmu}); only then are dirty states
 * reported or frames freed. A thread asleep in a userfault, blocked, or inside any system call
 * has left user mode and is not waited for.
 *
 * <h2>Deliberate differences from Linux</h2>
 * <ul>
 *   <li>Swap: one in-memory swap device (type 0) fed only by MADV_PAGEOUT of exclusively
 *       mapped anonymous pages (no reclaim, no swap cache); swap-in maps the page read-only
 *       and a later write takes the ordinary reuse fault.</li>
 *   <li>No huge zero page: a read fault in a THP-eligible range maps a zeroed PMD block
 *       (as Linux with transparent_hugepage/use_zero_page = 0).</li>
 *   <li>PAGEMAP_SCAN walks in one pass: {@code walk_end} is {@code end} whenever the walk
 *       completed, even past 512 regions (spec §B.6.9).</li>
 *   <li>VM_SOFTDIRTY merges as a sticky flag (upstream 6707915e030a), and only exists when the
 *       hypothetical arm64 soft-dirty is configured ({@link dev.pagehop.mm.MmConfig#softDirty()}).</li>
 *   <li>No UFFDIO_MOVE or POISON (not advertised by UFFDIO_API; the register ioctls mask still
 *       lists them as Linux's UFFD_API_RANGE_IOCTLS does). MINOR mode and UFFDIO_CONTINUE exist
 *       for shmem (memfd, shared anonymous) only: there is no hugetlb.</li>
 *   <li>The emulated process is privileged: EVENT_FORK needs no CAP_SYS_PTRACE check.</li>
 *   <li>Once the address space exited, read and poll of its userfaultfds fail EBADF (Linux keeps
 *       the descriptor open and a read would block): monitors use it to notice the exit. The
 *       ioctls behave as on Linux (argument checks, then ESRCH, or ENOMEM for REGISTER and
 *       UNREGISTER; WAKE succeeds).</li>
 *   <li>No read-only descriptors or memfd seals: every VMA has VM_MAYWRITE, so UFFDIO_REGISTER's
 *       EPERM is coded but cannot be reached.</li>
 * </ul>
 */
package dev.pagehop.mm;
