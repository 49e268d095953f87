package dev.pagehop.mm;

import dev.pagehop.uffd.FaultWait;
import dev.pagehop.uffd.PmScanArg;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.Userfaultfd;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The implementation of {@link MemoryManager}: one mm_struct.
 *
 * <p>Locking: one lock per address space stands for mmap_lock and every page-table lock; system
 * calls, faults, uffd ioctls and /proc readers take it. Loads and stores that hit the calling
 * thread's software TLB take no lock at all (see {@link Mmu} for the shootdown protocol that
 * keeps that safe while other threads change mappings).
 */
final class AddressSpace implements MemoryManager {
    static final long TASK_SIZE = 1L << Granule.VA_BITS;
    /** vm.mmap_min_addr as Debian and most distributions set it. */
    static final long MMAP_MIN_ADDR = 0x10000L;
    /** Top of the mmap area: TASK_SIZE less the 128 MiB minimum stack gap (mm/util.c mmap_base). */
    static final long MMAP_BASE = TASK_SIZE - (128L << 20);
    /** vm.max_map_count's default (DEFAULT_MAX_MAP_COUNT = 65530). */
    static final int MAX_MAP_COUNT = 65530;
    /** Where a fresh mm's heap starts until the loader (or setBrk) says otherwise. */
    static final long DEFAULT_START_BRK = 0x0000_AAAA_C000_0000L;

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfLong DESC = ValueLayout.JAVA_LONG;
    /**
     * All of native memory, for the TLB fast path: an entry holds a frame's native address, so
     * a hit is one bounds-free access with no segment or scope to load. Safe because a frame is
     * only freed (and the arena only closed) after a shootdown has retired every entry naming it.
     */
    static final MemorySegment RAW = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final int MMU_SLOTS = 64;
    /** How long a shootdown waits for a RUNNABLE thread that never comes back to acknowledge. */
    private static final long SHOOTDOWN_PATIENCE_NS = TimeUnit.SECONDS.toNanos(1);
    /** The mm a thread last ran user accesses in: entering another one leaves this one. */
    private static final ThreadLocal<Mmu> CURRENT = new ThreadLocal<>();

    private final MmConfig config;
    final PhysMem phys;
    final int pageShift;
    final long pageSize;
    private final long pageMask;
    private final int bitsPerLevel;
    private final int startLevel;
    private final boolean softDirty;

    final ReentrantLock lock = new ReentrantLock();
    /** Bumped (under {@link #lock}) by every change that takes access away or swaps a frame. */
    volatile long tlbGen;
    private final ThreadLocal<Mmu> mmus = ThreadLocal.withInitial(this::newMmu);
    /** Per-thread Mmu by thread id hash: a hit costs two loads instead of a ThreadLocal lookup. */
    private final Mmu[] mmuSlots = new Mmu[MMU_SLOTS];
    private final CopyOnWriteArrayList<Mmu> allMmus = new CopyOnWriteArrayList<>();

    private final TreeMap<Long, Vma> vmas = new TreeMap<>();
    private final int root;
    private long startBrk = DEFAULT_START_BRK;
    private long brk = DEFAULT_START_BRK;
    private long tablePages;
    private long tablesPopulated;
    private long shootdowns;
    final List<UffdContext> uffds = new ArrayList<>();
    private boolean closed;

    private AddressSpace(MmConfig config, PhysMem phys) {
        this.config = config;
        this.phys = phys;
        phys.retain();
        this.pageShift = config.granule().pageShift();
        this.pageSize = config.granule().pageSize();
        this.pageMask = pageSize - 1;
        this.bitsPerLevel = pageShift - 3;
        this.startLevel = 4 - config.granule().levels();
        this.softDirty = config.softDirty();
        this.root = phys.alloc(PhysMem.KIND_TABLE);
        this.tablePages = 1;
    }

    static MemoryManager create(MmConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("MemoryManager.create needs an MmConfig, got null");
        }
        PhysMem phys = new PhysMem(config.granule().pageShift());
        phys.retain();
        try {
            return new AddressSpace(config, phys);
        } finally {
            phys.release();
        }
    }

    private Mmu mmu() {
        Thread t = Thread.currentThread();
        Mmu m = mmuSlots[(int) t.threadId() & (MMU_SLOTS - 1)];
        if (m != null && m.owner == t) {
            return m;
        }
        return mmuSlow(t);
    }

    private Mmu mmuSlow(Thread t) {
        Mmu m = mmus.get();
        mmuSlots[(int) t.threadId() & (MMU_SLOTS - 1)] = m;
        return m;
    }

    private Mmu newMmu() {
        Mmu m = new Mmu(Thread.currentThread(), this);
        allMmus.add(m);
        return m;
    }

    @Override
    public MmConfig config() {
        return config;
    }

    @Override
    public long pageSize() {
        return pageSize;
    }

    // =========================================================================================
    // page tables
    // =========================================================================================

    int levelShift(int level) {
        return pageShift + (3 - level) * bitsPerLevel;
    }

    int levelIndex(long addr, int level) {
        return (int) ((addr >>> levelShift(level)) & ((1L << bitsPerLevel) - 1));
    }

    int startLevel() {
        return startLevel;
    }

    int rootTable() {
        return root;
    }

    long getDesc(int table, int index) {
        return phys.frame(table).getAtIndex(DESC, index);
    }

    void setDesc(int table, int index, long d) {
        phys.frame(table).setAtIndex(DESC, index, d);
    }

    private int allocTable() {
        tablePages++;
        tablesPopulated++;
        return phys.alloc(PhysMem.KIND_TABLE);
    }

    /**
     * The table at {@code level} that translates {@code addr}: its frame index, -1 if an upper
     * level is empty (and {@code alloc} is false), -2 if an upper level maps a block.
     */
    int tableAt(long addr, int level, boolean alloc) {
        int t = root;
        for (int l = startLevel; l < level; l++) {
            int i = levelIndex(addr, l);
            long d = getDesc(t, i);
            if (d == 0) {
                if (!alloc) {
                    return -1;
                }
                int nt = allocTable();
                setDesc(t, i, phys.pa(nt) | Pte.TYPE_TABLE | Pte.TABLE_PXN);
                t = nt;
            } else if (!Pte.isTable(d)) {
                return -2;
            } else {
                t = phys.indexOfPa(Pte.pa(d));
            }
        }
        return t;
    }

    private long pmdSize() {
        return 1L << levelShift(2);
    }

    private int frameOf(long d) {
        return phys.indexOfPa(Pte.pa(d));
    }

    // =========================================================================================
    // VMAs
    // =========================================================================================

    Vma findVma(long addr) {
        Map.Entry<Long, Vma> e = vmas.floorEntry(addr);
        if (e == null || e.getValue().end <= addr) {
            return null;
        }
        return e.getValue();
    }

    /** VMAs intersecting [start, end), in order. */
    List<Vma> vmasIn(long start, long end) {
        List<Vma> out = new ArrayList<>();
        Map.Entry<Long, Vma> e = vmas.floorEntry(start);
        Long from = (e != null && e.getValue().end > start) ? e.getKey() : Long.valueOf(start);
        for (Vma v : vmas.tailMap(from, true).values()) {
            if (v.start >= end) {
                break;
            }
            out.add(v);
        }
        return out;
    }

    /** Splits the VMA containing {@code addr} so that a VMA starts at {@code addr}. */
    void splitAt(long addr) {
        Vma v = findVma(addr);
        if (v == null || v.start == addr) {
            return;
        }
        if (vmas.size() >= MAX_MAP_COUNT) {
            throw new ErrnoException(Errno.ENOMEM, "splitting " + v + " at " + hex(addr) + " would exceed vm.max_map_count "
                    + MAX_MAP_COUNT);
        }
        splitHugeAround(v, addr);
        Vma hi = v.copy();
        hi.start = addr;
        hi.pgoff = v.pgoff + ((addr - v.start) >>> pageShift);
        v.end = addr;
        vmas.put(hi.start, hi);
    }

    private boolean mergeable(Vma a, Vma b) {
        return a.end == b.start
                && (a.flags & ~VmFlags.VM_SOFTDIRTY) == (b.flags & ~VmFlags.VM_SOFTDIRTY)
                && a.file == b.file
                && b.pgoff == a.pgoff + ((a.end - a.start) >>> pageShift)
                && a.uffd == b.uffd;
    }

    /** vma_merge over [start, end] and its neighbours; VM_SOFTDIRTY is sticky (Linux 6.19+). */
    void mergeAround(long start, long end) {
        Map.Entry<Long, Vma> e = vmas.lowerEntry(start);
        Long key = e != null ? e.getKey() : vmas.ceilingKey(start);
        while (key != null) {
            Vma a = vmas.get(key);
            Map.Entry<Long, Vma> ne = vmas.higherEntry(key);
            if (ne == null) {
                break;
            }
            Vma b = ne.getValue();
            if (a.start > end) {
                break;
            }
            if (mergeable(a, b)) {
                a.end = b.end;
                a.flags |= b.flags & VmFlags.VM_SOFTDIRTY;
                vmas.remove(b.start);
            } else {
                key = ne.getKey();
            }
        }
    }

    /** vm_page_prot: protection_map[] of arm64 without EPAN, plus write-notify for soft-dirty. */
    long pageProt(Vma v) {
        long f = v.flags;
        boolean r = (f & VmFlags.VM_READ) != 0;
        boolean w = (f & VmFlags.VM_WRITE) != 0;
        boolean x = (f & VmFlags.VM_EXEC) != 0;
        if (!r && !w && !x) {
            return Pte.PAGE_NONE;
        }
        boolean sharedWrite = v.isShared() && w && !wantsWriteNotify(v);
        if (sharedWrite) {
            return x ? Pte.PAGE_SHARED_EXEC : Pte.PAGE_SHARED;
        }
        return x ? Pte.PAGE_READONLY_EXEC : Pte.PAGE_READONLY;
    }

    /** vma_soft_dirty_enabled: tracking is on while VM_SOFTDIRTY is clear. */
    boolean softDirtyTracking(Vma v) {
        return softDirty && (v.flags & VmFlags.VM_SOFTDIRTY) == 0;
    }

    private boolean wantsWriteNotify(Vma v) {
        return softDirtyTracking(v);
    }

    // =========================================================================================
    // TLB shootdown
    // =========================================================================================

    /** Invalidates every thread's TLB and waits until no stale store can still be in flight. */
    void shootdown() {
        long g = tlbGen + 1;
        tlbGen = g;
        shootdowns++;
        Thread self = Thread.currentThread();
        for (Mmu m : allMmus) {
            if (m.owner == self) {
                continue;
            }
            if (!m.owner.isAlive()) {
                allMmus.remove(m);
                continue;
            }
            long deadline = 0;
            int spins = 0;
            while (m.running && m.ackGen < g) {
                if (m.owner.getState() != Thread.State.RUNNABLE) {
                    break;
                }
                if (++spins < 64) {
                    Thread.onSpinWait();
                    continue;
                }
                long now = System.nanoTime();
                if (deadline == 0) {
                    deadline = now + SHOOTDOWN_PATIENCE_NS;
                } else if (now > deadline) {
                    // The thread is busy elsewhere (or in native code) and has not touched this mm
                    // for a second: it holds no store in flight. Stop waiting for it until it
                    // comes back through the slow path.
                    m.running = false;
                    break;
                }
                Thread.yield();
            }
        }
    }

    private Mmu enter() {
        Mmu m = mmu();
        Mmu cur = CURRENT.get();
        if (cur != m) {
            if (cur != null) {
                cur.leave();
            }
            CURRENT.set(m);
        }
        m.running = true;
        long g = tlbGen;
        if (m.gen != g) {
            m.flush();
            m.gen = g;
        }
        m.ackGen = g;
        return m;
    }

    /** The calling thread enters the kernel: it stores nowhere, so no shootdown of any mm waits for it. */
    static void leaveUserMode() {
        Mmu cur = CURRENT.get();
        if (cur != null) {
            cur.leave();
            CURRENT.remove();
        }
    }

    private void sysEnter() {
        leaveUserMode();
        lock.lock();
        if (closed) {
            lock.unlock();
            throw new IllegalStateException("address space is closed");
        }
    }

    private void refreshUnderLock(Mmu m) {
        long g = tlbGen;
        if (m.gen != g) {
            m.flush();
            m.gen = g;
            m.ackGen = g;
        }
    }

    // =========================================================================================
    // loads and stores
    // =========================================================================================

    @Override
    public int load8(long addr) {
        Mmu m = mmu();
        long vpn = addr >>> pageShift;
        int i = (int) vpn & Mmu.TLB_MASK;
        if (m.rtag[i] == vpn && m.gen == tlbGen) {
            return RAW.get(ValueLayout.JAVA_BYTE, m.radr[i] + (addr & pageMask)) & 0xFF;
        }
        return (int) slowLoad(m, addr, 1);
    }

    @Override
    public int load16(long addr) {
        Mmu m = mmu();
        long vpn = addr >>> pageShift;
        int i = (int) vpn & Mmu.TLB_MASK;
        long off = addr & pageMask;
        if (m.rtag[i] == vpn && m.gen == tlbGen && off <= pageSize - 2) {
            return RAW.get(SHORT, m.radr[i] + off) & 0xFFFF;
        }
        return (int) slowLoad(m, addr, 2);
    }

    @Override
    public int load32(long addr) {
        Mmu m = mmu();
        long vpn = addr >>> pageShift;
        int i = (int) vpn & Mmu.TLB_MASK;
        long off = addr & pageMask;
        if (m.rtag[i] == vpn && m.gen == tlbGen && off <= pageSize - 4) {
            return RAW.get(INT, m.radr[i] + off);
        }
        return (int) slowLoad(m, addr, 4);
    }

    @Override
    public long load64(long addr) {
        Mmu m = mmu();
        long vpn = addr >>> pageShift;
        int i = (int) vpn & Mmu.TLB_MASK;
        long off = addr & pageMask;
        if (m.rtag[i] == vpn && m.gen == tlbGen && off <= pageSize - 8) {
            return RAW.get(LONG, m.radr[i] + off);
        }
        return slowLoad(m, addr, 8);
    }

    @Override
    public void store8(long addr, long value) {
        Mmu m = mmu();
        long vpn = addr >>> pageShift;
        int i = (int) vpn & Mmu.TLB_MASK;
        if (m.wtag[i] == vpn && m.gen == tlbGen) {
            RAW.set(ValueLayout.JAVA_BYTE, m.wadr[i] + (addr & pageMask), (byte) value);
            return;
        }
        slowStore(m, addr, 1, value);
    }

    @Override
    public void store16(long addr, long value) {
        Mmu m = mmu();
        long vpn = addr >>> pageShift;
        int i = (int) vpn & Mmu.TLB_MASK;
        long off = addr & pageMask;
        if (m.wtag[i] == vpn && m.gen == tlbGen && off <= pageSize - 2) {
            RAW.set(SHORT, m.wadr[i] + off, (short) value);
            return;
        }
        slowStore(m, addr, 2, value);
    }

    @Override
    public void store32(long addr, long value) {
        Mmu m = mmu();
        long vpn = addr >>> pageShift;
        int i = (int) vpn & Mmu.TLB_MASK;
        long off = addr & pageMask;
        if (m.wtag[i] == vpn && m.gen == tlbGen && off <= pageSize - 4) {
            RAW.set(INT, m.wadr[i] + off, (int) value);
            return;
        }
        slowStore(m, addr, 4, value);
    }

    @Override
    public void store64(long addr, long value) {
        Mmu m = mmu();
        long vpn = addr >>> pageShift;
        int i = (int) vpn & Mmu.TLB_MASK;
        long off = addr & pageMask;
        if (m.wtag[i] == vpn && m.gen == tlbGen && off <= pageSize - 8) {
            RAW.set(LONG, m.wadr[i] + off, value);
            return;
        }
        slowStore(m, addr, 8, value);
    }

    private long slowLoad(Mmu m, long addr, int size) {
        enter();
        long off = addr & pageMask;
        if (off + size <= pageSize) {
            MemorySegment s = translate(m, addr, false);
            return switch (size) {
                case 1 -> s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
                case 2 -> s.get(SHORT, off) & 0xFFFF;
                case 4 -> s.get(INT, off);
                default -> s.get(LONG, off);
            };
        }
        // Crosses a page: both pages must be readable before any byte is taken.
        MemorySegment a = translate(m, addr, false);
        MemorySegment b = translate(m, addr + size - 1, false);
        long v = 0;
        for (int k = 0; k < size; k++) {
            long o = off + k;
            int byteVal = o < pageSize ? a.get(ValueLayout.JAVA_BYTE, o) : b.get(ValueLayout.JAVA_BYTE, o - pageSize);
            v |= (long) (byteVal & 0xFF) << (8 * k);
        }
        return v;
    }

    private void slowStore(Mmu m, long addr, int size, long value) {
        enter();
        long off = addr & pageMask;
        if (off + size <= pageSize) {
            MemorySegment s = translate(m, addr, true);
            switch (size) {
                case 1 -> s.set(ValueLayout.JAVA_BYTE, off, (byte) value);
                case 2 -> s.set(SHORT, off, (short) value);
                case 4 -> s.set(INT, off, (int) value);
                default -> s.set(LONG, off, value);
            }
            return;
        }
        MemorySegment a = translate(m, addr, true);
        MemorySegment b = translate(m, addr + size - 1, true);
        // The first page may have been re-protected while the second faulted: take it again.
        a = translate(m, addr, true);
        for (int k = 0; k < size; k++) {
            long o = off + k;
            byte bv = (byte) (value >>> (8 * k));
            if (o < pageSize) {
                a.set(ValueLayout.JAVA_BYTE, o, bv);
            } else {
                b.set(ValueLayout.JAVA_BYTE, o - pageSize, bv);
            }
        }
    }

    @Override
    public void read(long addr, byte[] dst) {
        Mmu m = enter();
        try {
            int done = 0;
            while (done < dst.length) {
                long a = addr + done;
                long off = a & pageMask;
                int n = (int) Math.min(pageSize - off, dst.length - done);
                MemorySegment s = translate(m, a, false);
                MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off, dst, done, n);
                done += n;
            }
        } finally {
            m.leave();
        }
    }

    @Override
    public void write(long addr, byte[] src) {
        Mmu m = enter();
        try {
            int done = 0;
            while (done < src.length) {
                long a = addr + done;
                long off = a & pageMask;
                int n = (int) Math.min(pageSize - off, src.length - done);
                MemorySegment s = translate(m, a, true);
                MemorySegment.copy(src, done, s, ValueLayout.JAVA_BYTE, off, n);
                done += n;
            }
        } finally {
            m.leave();
        }
    }

    @Override
    public void write(long addr, java.nio.ByteBuffer src) {
        MemorySegment from = MemorySegment.ofBuffer(src);
        long length = from.byteSize();
        Mmu m = enter();
        try {
            long done = 0;
            while (done < length) {
                long a = addr + done;
                long off = a & pageMask;
                long n = Math.min(pageSize - off, length - done);
                MemorySegment s = translate(m, a, true);
                MemorySegment.copy(from, done, s, off, n);
                done += n;
            }
        } finally {
            m.leave();
        }
    }

    /** The frame behind {@code addr} for a user access, faulting as needed; fills the TLB. */
    private MemorySegment translate(Mmu m, long addr, boolean write) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("address space is closed");
            }
            faultKind = 0;
            long t0 = System.nanoTime();
            MemorySegment s = fault(m, addr, write, true);
            faults++;
            if (faultKind != 0) {
                long dt = System.nanoTime() - t0;
                if (faultKind == FAULT_WP_ASYNC) {
                    wpAsyncFaults++;
                    wpAsyncNanos += dt;
                } else {
                    softDirtyFaults++;
                    softDirtyNanos += dt;
                }
            }
            refreshUnderLock(m);
            long vpn = addr >>> pageShift;
            if (write) {
                m.fillWrite(vpn, s);
            } else {
                m.fillRead(vpn, s);
            }
            return s;
        } finally {
            lock.unlock();
        }
    }

    // =========================================================================================
    // the fault path (handle_mm_fault)
    // =========================================================================================

    private SegmentationFault segv(int code, long addr, boolean write, String why) {
        return new SegmentationFault(SegmentationFault.SIGSEGV, code, addr, write, why);
    }

    /**
     * Resolves one access under the lock until the PTE allows it; returns the frame. May sleep
     * in a userfault (releasing the lock). {@code user} = false for kernel accesses on behalf of
     * a system call (uffd USER_MODE_ONLY then fails them with EFAULT instead of trapping).
     */
    MemorySegment fault(Mmu m, long addr, boolean write, boolean user) {
        return fault(m, addr, write, user, false);
    }

    /** maybe_mkwrite: only VMAs with VM_WRITE get writable ptes (FOLL_FORCE writes stay read-only). */
    private static long maybeMkwrite(Vma v, long d) {
        return v.writable() ? Pte.mkwrite(d) : d;
    }

    /** {@code force}: FOLL_FORCE, a kernel write into a private read-only mapping (ptrace, loaders). */
    MemorySegment fault(Mmu m, long addr, boolean write, boolean user, boolean force) {
        for (;;) {
            if (addr < 0 || addr >= TASK_SIZE) {
                throw segv(SegmentationFault.SEGV_MAPERR, addr, write, "address outside the 48-bit user VA range");
            }
            Vma v = findVma(addr);
            if (v == null) {
                throw segv(SegmentationFault.SEGV_MAPERR, addr, write, "no mapping");
            }
            boolean forced = force && write && !v.writable() && v.readable() && !v.isShared()
                    && (v.flags & VmFlags.VM_MAYWRITE) != 0;
            if (write ? !v.writable() && !forced : !v.readable()) {
                throw segv(SegmentationFault.SEGV_ACCERR, addr, write,
                        "mapping " + v + " does not allow " + (write ? "writes" : "reads"));
            }
            // PMD level: THP blocks.
            int pmdTable = tableAt(addr, 2, true);
            int pmdIdx = levelIndex(addr, 2);
            long pmd = getDesc(pmdTable, pmdIdx);
            if (pmd == 0 && thpEligible(v, addr)) {
                if (v.uffdMissing()) {
                    // Missing faults are delivered and resolved at base-page granularity.
                } else if (allocHuge(v, addr, pmdTable, pmdIdx, write)) {
                    continue;
                }
            }
            if (Pte.isBlock(pmd)) {
                MemorySegment s = hugeFault(m, v, addr, write, pmdTable, pmdIdx, pmd);
                if (s != null) {
                    return s;
                }
                continue;
            }
            int pt = tableAt(addr, 3, true);
            int i = levelIndex(addr, 3);
            long d = getDesc(pt, i);
            boolean wpMarker = false;
            if (Pte.isMarker(d)) {
                if (Pte.isUffdWpMarker(d) && v.uffdWp()) {
                    wpMarker = true;
                } else {
                    setDesc(pt, i, 0);
                    d = 0;
                }
            }
            if (d == 0 || wpMarker) {
                // shmem faults into userspace only for a hole in the page cache (shmem_get_folio_gfp).
                if (v.uffdMissing() && (v.file == null || v.file.lookup(v.filePage(addr, pageShift)) < 0)) {
                    userfault(m, v, addr, write ? Uffd.PAGEFAULT_FLAG_WRITE : 0, user, write);
                    continue;
                }
                // shmem_get_folio_gfp: a page already in the cache under VM_UFFD_MINOR is a minor fault
                if (v.uffdMinor() && v.file != null && v.file.lookup(v.filePage(addr, pageShift)) >= 0) {
                    userfault(m, v, addr, Uffd.PAGEFAULT_FLAG_MINOR | (write ? Uffd.PAGEFAULT_FLAG_WRITE : 0), user, write);
                    continue;
                }
                if (v.file != null && !v.isShared()) {
                    MemorySegment s = privateFileFault(v, addr, write, pt, i, wpMarker);
                    if (s != null) {
                        return s;
                    }
                    continue;
                }
                if (v.file != null) {
                    MemorySegment s = sharedFault(v, addr, write, pt, i, wpMarker);
                    if (s != null) {
                        return s;
                    }
                    continue;
                }
                if (!write) {
                    long z = Pte.mkyoung(pageProt(v)) | Pte.SPECIAL | phys.pa(phys.zeroFrame);
                    if (wpMarker) {
                        z = Pte.mkuffdWp(z);
                    }
                    setDesc(pt, i, z);
                    return phys.frame(phys.zeroFrame);
                }
                int f = phys.alloc(PhysMem.KIND_ANON);
                phys.mapAdd(f, 1);
                long nd = Pte.mkyoung(pageProt(v)) | phys.pa(f);
                nd = maybeMkwrite(v, Pte.mkdirty(nd, softDirty));
                if (wpMarker) {
                    // do_anonymous_page keeps the marker's uffd-wp: the write faults again on it.
                    setDesc(pt, i, Pte.mkuffdWp(nd));
                    continue;
                }
                setDesc(pt, i, nd);
                return phys.frame(f);
            }
            if (!Pte.isPresent(d)) {
                swapIn(v, pt, i, d);
                continue;
            }
            if (!Pte.isValid(d)) {
                // A PROT_NONE pte inside an accessible VMA: bring it in line with the VMA.
                setDesc(pt, i, Pte.modify(d, pageProt(v), softDirty));
                continue;
            }
            if (!write) {
                if (!Pte.isYoung(d)) {
                    setDesc(pt, i, Pte.mkyoung(d));
                }
                return phys.frame(frameOf(d));
            }
            if (Pte.isWrite(d) && !Pte.isUffdWp(d)) {
                // FEAT_HAFDBS: the first write to a writable-clean page sets it dirty, no fault.
                long nd = Pte.mkyoung(d) & ~Pte.RDONLY;
                if (nd != d) {
                    setDesc(pt, i, nd);
                }
                return phys.frame(frameOf(d));
            }
            // do_wp_page
            if (Pte.isUffdWp(d) && v.uffdWp()) {
                if (!v.uffd.async()) {
                    userfault(m, v, addr, Uffd.PAGEFAULT_FLAG_WP | Uffd.PAGEFAULT_FLAG_WRITE, user, true);
                    continue;
                }
                d = Pte.clearUffdWp(d);
                setDesc(pt, i, d);
                faultKind = FAULT_WP_ASYNC;
            } else if (Pte.isUffdWp(d)) {
                d = Pte.clearUffdWp(d);
            }
            if (softDirty && faultKind == 0 && (d & Pte.SOFT_DIRTY) == 0 && softDirtyTracking(v)) {
                faultKind = FAULT_SOFT_DIRTY;
            }
            int f = frameOf(d);
            if (v.isShared()) {
                long nd = maybeMkwrite(v, Pte.mkdirty(Pte.mkyoung(d), softDirty));
                setDesc(pt, i, nd);
                return phys.frame(f);
            }
            if (f == phys.zeroFrame || phys.refcount(f) > 1) {
                int nf = phys.alloc(PhysMem.KIND_ANON);
                if (f != phys.zeroFrame) {
                    MemorySegment.copy(phys.frame(f), 0, phys.frame(nf), 0, pageSize);
                }
                phys.mapAdd(nf, 1);
                long nd = Pte.mkyoung(pageProt(v)) | phys.pa(nf);
                nd = maybeMkwrite(v, Pte.mkdirty(nd, softDirty));
                if ((d & Pte.SOFT_DIRTY) != 0) {
                    nd |= Pte.SOFT_DIRTY;
                }
                setDesc(pt, i, nd);
                shootdown();
                phys.mapAdd(f, -1);
                phys.put(f);
                return phys.frame(nf);
            }
            long nd = maybeMkwrite(v, Pte.mkdirty(Pte.mkyoung(d), softDirty));
            setDesc(pt, i, nd);
            return phys.frame(f);
        }
    }

    /**
     * do_swap_page: the page comes back into a new frame, read-only, with the soft-dirty and
     * uffd-wp state its swap entry carried; the fault loop then handles a write on it like any
     * other (reuse, uffd-wp trap, soft-dirty).
     */
    private void swapIn(Vma v, int pt, int i, long d) {
        long off = Pte.swapOffset(d, softDirty);
        int f = phys.alloc(PhysMem.KIND_ANON);
        MemorySegment.copy(phys.swapImage(off), 0, phys.frame(f), ValueLayout.JAVA_BYTE, 0, (int) pageSize);
        phys.swapFree(off);
        phys.mapAdd(f, 1);
        long nd = Pte.mkyoung(pageProt(v)) | phys.pa(f);
        if (softDirty && (d & Pte.SWP_SOFT_DIRTY) != 0) {
            nd |= Pte.SOFT_DIRTY;
        }
        if ((d & Pte.SWP_UFFD_WP) != 0) {
            nd = Pte.mkuffdWp(nd);
        }
        setDesc(pt, i, nd);
        swapIns++;
    }

    private long swapIns;
    private long swapOuts;

    /**
     * MADV_PAGEOUT: exclusively mapped anonymous pages go to the swap device; the pte becomes a
     * swap entry (type 0) carrying exclusive, uffd-wp (bit 3) and soft-dirty (bit 61) state.
     */
    private void pageout(List<Vma> in, long addr, long end) {
        IntList toPut = new IntList();
        long pmdSz = pmdSize();
        for (Vma v : in) {
            if (v.file != null) {
                continue;
            }
            long s = Math.max(addr, v.start);
            long e = Math.min(end, v.end);
            for (long a = s; a < e; ) {
                long next = Math.min(e, (a & ~(pmdSz - 1)) + pmdSz);
                int pmdTable = tableAt(a, 2, false);
                if (pmdTable < 0) {
                    a = next;
                    continue;
                }
                if (Pte.isBlock(getDesc(pmdTable, levelIndex(a, 2)))) {
                    splitHuge(a & ~(pmdSz - 1));
                }
                int pt = tableAt(a, 3, false);
                if (pt < 0) {
                    a = next;
                    continue;
                }
                for (long p = a; p < next; p += pageSize) {
                    int i = levelIndex(p, 3);
                    long d = getDesc(pt, i);
                    if (!Pte.isPresent(d)) {
                        continue;
                    }
                    int f = frameOf(d);
                    if (f == phys.zeroFrame || phys.mapcount(f) != 1 || phys.refcount(f) != 1) {
                        continue;
                    }
                    long off = phys.swapOut(f);
                    long entry = Pte.swapEntry(0, off) | Pte.SWP_EXCLUSIVE;
                    if (Pte.isUffdWp(d)) {
                        entry |= Pte.SWP_UFFD_WP;
                    }
                    if (softDirty && (d & Pte.SOFT_DIRTY) != 0) {
                        entry |= Pte.SWP_SOFT_DIRTY;
                    }
                    setDesc(pt, i, entry);
                    phys.mapAdd(f, -1);
                    toPut.add(f);
                    swapOuts++;
                }
                a = next;
            }
        }
        shootdown();
        toPut.forEach(phys::put);
    }

    /**
     * Fault on a none pte of a MAP_PRIVATE memfd mapping: reads map the page-cache page
     * read-only; writes copy it into a new anonymous page (do_cow_fault).
     */
    private MemorySegment privateFileFault(Vma v, long addr, boolean write, int pt, int i, boolean wpMarker) {
        long index = v.filePage(addr, pageShift);
        if (index >= v.file.pageCount()) {
            throw new SegmentationFault(SegmentationFault.SIGBUS, 2, addr, write,
                    "access beyond the end of " + v.file + " (page " + index + ")");
        }
        int cache = v.file.getOrCreate(index);
        if (!write) {
            phys.get(cache);
            phys.mapAdd(cache, 1);
            long nd = Pte.mkyoung(pageProt(v)) | phys.pa(cache);
            setDesc(pt, i, wpMarker ? Pte.mkuffdWp(nd) : nd);
            return phys.frame(cache);
        }
        int nf = phys.alloc(PhysMem.KIND_ANON);
        MemorySegment.copy(phys.frame(cache), 0, phys.frame(nf), 0, pageSize);
        phys.mapAdd(nf, 1);
        long nd = maybeMkwrite(v, Pte.mkdirty(Pte.mkyoung(pageProt(v)) | phys.pa(nf), softDirty));
        if (wpMarker) {
            setDesc(pt, i, Pte.mkuffdWp(nd));
            return null;
        }
        setDesc(pt, i, nd);
        return phys.frame(nf);
    }

    /** Fault on a none pte of a shmem-backed VMA (memfd or shared anonymous). */
    private MemorySegment sharedFault(Vma v, long addr, boolean write, int pt, int i, boolean wpMarker) {
        long index = v.filePage(addr, pageShift);
        if (index >= v.file.pageCount()) {
            throw new SegmentationFault(SegmentationFault.SIGBUS, 2, addr, write,
                    "access beyond the end of " + v.file + " (page " + index + ")");
        }
        int f = v.file.getOrCreate(index);
        phys.get(f);
        phys.mapAdd(f, 1);
        long nd = Pte.mkyoung(pageProt(v)) | phys.pa(f);
        if (write) {
            nd = maybeMkwrite(v, Pte.mkdirty(nd, softDirty));
        }
        if (wpMarker) {
            nd = Pte.mkuffdWp(nd);
            setDesc(pt, i, nd);
            return write ? null : phys.frame(f);
        }
        setDesc(pt, i, nd);
        return phys.frame(f);
    }

    // =========================================================================================
    // THP (PMD blocks)
    // =========================================================================================

    boolean thpEligible(Vma v, long addr) {
        if (!v.isAnonPrivate() || (v.flags & VmFlags.VM_NOHUGEPAGE) != 0) {
            return false;
        }
        boolean on = switch (config.thp()) {
            case ALWAYS -> true;
            case MADVISE -> (v.flags & VmFlags.VM_HUGEPAGE) != 0;
            case NEVER -> false;
        };
        if (!on) {
            return false;
        }
        long hs = addr & ~(pmdSize() - 1);
        return hs >= v.start && hs + pmdSize() <= v.end;
    }

    /** do_huge_pmd_anonymous_page: maps a fresh, zeroed, dirty block (no huge zero page here). */
    private boolean allocHuge(Vma v, long addr, int pmdTable, int pmdIdx, boolean write) {
        int n = (int) (pmdSize() >>> pageShift);
        int first;
        try {
            first = phys.allocContiguous(n, PhysMem.KIND_ANON);
        } catch (OutOfMemoryError e) {
            return false;
        }
        for (int k = 0; k < n; k++) {
            phys.mapAdd(first + k, 1);
        }
        long d = (Pte.mkyoung(pageProt(v)) & ~Pte.TABLE_BIT) | phys.pa(first);
        d = maybeMkwrite(v, Pte.mkdirty(d, softDirty));
        setDesc(pmdTable, pmdIdx, d);
        thpAllocated++;
        return true;
    }

    private long thpAllocated;

    /** A user access hits a PMD block; returns the sub-page frame, or null to retry the walk. */
    private MemorySegment hugeFault(Mmu m, Vma v, long addr, boolean write, int pmdTable, int pmdIdx, long pmd) {
        long hs = addr & ~(pmdSize() - 1);
        int sub = (int) ((addr - hs) >>> pageShift);
        int first = frameOf(pmd);
        if (!Pte.isValid(pmd)) {
            setDesc(pmdTable, pmdIdx, Pte.modify(pmd, pageProt(v) & ~Pte.TABLE_BIT, softDirty));
            return null;
        }
        if (!write) {
            if (!Pte.isYoung(pmd)) {
                setDesc(pmdTable, pmdIdx, Pte.mkyoung(pmd));
            }
            return phys.frame(first + sub);
        }
        if (Pte.isWrite(pmd) && !Pte.isUffdWp(pmd)) {
            long nd = Pte.mkyoung(pmd) & ~Pte.RDONLY;
            if (nd != pmd) {
                setDesc(pmdTable, pmdIdx, nd);
            }
            return phys.frame(first + sub);
        }
        if (Pte.isUffdWp(pmd) && v.uffdWp()) {
            if (!v.uffd.async()) {
                userfault(m, v, addr, Uffd.PAGEFAULT_FLAG_WP | Uffd.PAGEFAULT_FLAG_WRITE, true, true);
                return null;
            }
            // wp_huge_pmd with WP_ASYNC: split, then resolve only the written base page.
            splitHuge(hs);
            return null;
        }
        boolean exclusive = true;
        int n = (int) (pmdSize() >>> pageShift);
        for (int k = 0; k < n && exclusive; k++) {
            exclusive = phys.refcount(first + k) == 1;
        }
        if (!exclusive) {
            splitHuge(hs);
            return null;
        }
        long nd = maybeMkwrite(v, Pte.mkdirty(Pte.mkyoung(Pte.clearUffdWp(pmd)), softDirty));
        setDesc(pmdTable, pmdIdx, nd);
        return phys.frame(first + sub);
    }

    /** __split_huge_pmd of the block covering {@code hs} (PMD-aligned): one PTE per sub-page. */
    void splitHuge(long hs) {
        int pmdTable = tableAt(hs, 2, false);
        if (pmdTable < 0) {
            return;
        }
        int pmdIdx = levelIndex(hs, 2);
        long pmd = getDesc(pmdTable, pmdIdx);
        if (!Pte.isBlock(pmd)) {
            return;
        }
        int pt = allocTable();
        int n = (int) (pmdSize() >>> pageShift);
        long flags = pmd & ~Pte.OA_MASK_48;
        boolean dirty = Pte.isDirty(pmd);
        for (int k = 0; k < n; k++) {
            long d = (flags | Pte.TABLE_BIT) | (Pte.pa(pmd) + ((long) k << pageShift));
            if (dirty) {
                // "NOTE: this may set soft-dirty too on some archs": it does here, as on x86.
                d = Pte.mkdirty(d, softDirty);
            }
            setDesc(pt, k, d);
        }
        setDesc(pmdTable, pmdIdx, phys.pa(pt) | Pte.TYPE_TABLE | Pte.TABLE_PXN);
        thpSplits++;
        shootdown();
    }

    private long thpSplits;

    /** Splits blocks that straddle {@code addr} inside {@code v} (vma_adjust_trans_huge). */
    void splitHugeAround(Vma v, long addr) {
        if ((addr & (pmdSize() - 1)) != 0) {
            splitHuge(addr & ~(pmdSize() - 1));
        }
    }

    // =========================================================================================
    // userfaults
    // =========================================================================================

    /**
     * handle_userfault: queues the message and sleeps (lock released) until woken; the caller
     * retries the fault. SIGBUS mode and kernel accesses with USER_MODE_ONLY fail instead.
     */
    private void userfault(Mmu m, Vma v, long addr, long flags, boolean user, boolean write) {
        UffdContext ctx = v.uffd;
        if (ctx.sigbus()) {
            throw new SegmentationFault(SegmentationFault.SIGBUS, 0, addr, write,
                    "userfault with UFFD_FEATURE_SIGBUS (" + (flags == 0 ? "missing read" : "flags " + flags) + ")");
        }
        if (!user && ctx.userModeOnly()) {
            throw new ErrnoException(Errno.EFAULT, String.format(
                    "kernel access to 0x%x hit a userfault on a USER_MODE_ONLY userfaultfd", addr));
        }
        long pageAddr = ctx.exactAddress() ? addr : addr & ~pageMask;
        UffdContext.Waiter w = ctx.enqueueFault(flags, pageAddr, addr & ~pageMask);
        if (m != null) {
            m.leave();
        }
        FaultWait.enter(addr, write);
        try {
            while (!w.woken) {
                try {
                    w.cond.await();
                } catch (InterruptedException e) {
                    // A fatal signal ends handle_userfault: the access is abandoned, the thread dies.
                    ctx.dropWaiter(w);
                    Thread.currentThread().interrupt();
                    throw new SegmentationFault(SegmentationFault.SIGBUS, 0, addr, write,
                            "interrupted while waiting in a userfault");
                }
            }
        } finally {
            FaultWait.exit(addr);
            if (m != null) {
                m.running = true;
                refreshUnderLock(m);
            }
        }
    }

    Condition newCondition() {
        return lock.newCondition();
    }

    // =========================================================================================
    // mmap and friends
    // =========================================================================================

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    private long pageAlign(long len) {
        return (len + pageMask) & ~pageMask;
    }

    @Override
    public long mmap(long addr, long len, int prot, int flags) {
        return doMmap(addr, len, prot, flags, null, 0, "mmap");
    }

    @Override
    public long mmap(long addr, long len, int prot, int flags, Memfd fd, long offset) {
        if (fd == null) {
            if ((flags & MapFlags.ANONYMOUS) == 0) {
                throw new ErrnoException(Errno.EBADF, "mmap(" + hex(addr) + ", " + len
                        + "): no file given and MAP_ANONYMOUS not set (fd -1)");
            }
            return doMmap(addr, len, prot, flags, null, offset, "mmap");
        }
        if (!(fd instanceof MemfdFile mf) || mf.phys != phys) {
            throw new ErrnoException(Errno.EBADF, "mmap: " + fd + " does not belong to this machine");
        }
        return doMmap(addr, len, prot, flags & ~MapFlags.ANONYMOUS, mf, offset, "mmap");
    }

    private long doMmap(long addr, long len, int prot, int flags, MemfdFile file, long offset, String call) {
        String args = call + "(" + hex(addr) + ", " + len + ", prot=" + hex(prot) + ", flags=" + hex(flags)
                + (file != null ? ", " + file + ", offset=" + offset : "") + ")";
        sysEnter();
        try {
            // do_mmap does not validate prot: bits other than READ/WRITE/EXEC (PROT_SEM, and
            // PROT_BTI/PROT_MTE on a CPU without them) are ignored, as calc_vm_prot_bits does.
            if (len == 0) {
                throw new ErrnoException(Errno.EINVAL, args + ": length is 0");
            }
            if (offset < 0 || (offset & pageMask) != 0) {
                throw new ErrnoException(Errno.EINVAL, args + ": offset " + offset + " is not a multiple of the page size "
                        + pageSize);
            }
            long alen = pageAlign(len);
            if (len < 0 || alen <= 0 || alen > TASK_SIZE) {
                throw new ErrnoException(Errno.ENOMEM, args + ": length " + len + " does not fit the address space");
            }
            int type = flags & MapFlags.TYPE;
            boolean shared;
            if (type == MapFlags.SHARED_VALIDATE && file == null) {
                // do_mmap: anonymous memory knows only MAP_SHARED and MAP_PRIVATE
                throw new ErrnoException(Errno.EINVAL, args + ": MAP_SHARED_VALIDATE needs a file; anonymous memory takes"
                        + " MAP_SHARED or MAP_PRIVATE");
            }
            if (type == MapFlags.SHARED || type == MapFlags.SHARED_VALIDATE) {
                shared = true;
            } else if (type == MapFlags.PRIVATE) {
                shared = false;
            } else {
                throw new ErrnoException(Errno.EINVAL, args + ": map type " + hex(type)
                        + " is none of MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE");
            }
            int known = MapFlags.TYPE | MapFlags.FIXED | MapFlags.ANONYMOUS | MapFlags.GROWSDOWN | MapFlags.DENYWRITE
                    | MapFlags.EXECUTABLE | MapFlags.LOCKED | MapFlags.NORESERVE | MapFlags.POPULATE | MapFlags.NONBLOCK
                    | MapFlags.STACK | MapFlags.HUGETLB | MapFlags.FIXED_NOREPLACE | (0x3F << 26);
            if (type == MapFlags.SHARED_VALIDATE && (flags & ~known) != 0) {
                throw new ErrnoException(Errno.EOPNOTSUPP, args + ": unknown flags " + hex(flags & ~known)
                        + " with MAP_SHARED_VALIDATE");
            }
            if ((flags & MapFlags.HUGETLB) != 0) {
                throw new ErrnoException(Errno.ENOMEM, args + ": MAP_HUGETLB needs reserved hugetlb pages; this kernel has none");
            }
            if (file == null && (flags & MapFlags.ANONYMOUS) == 0) {
                throw new ErrnoException(Errno.EBADF, args + ": no file given and MAP_ANONYMOUS not set (fd -1)");
            }
            boolean fixed = (flags & (MapFlags.FIXED | MapFlags.FIXED_NOREPLACE)) != 0;
            long start;
            if (fixed) {
                // __get_unmapped_area's order: the range, then alignment, then mmap_min_addr
                if (addr + alen > TASK_SIZE || addr + alen < addr) {
                    throw new ErrnoException(Errno.ENOMEM, args + ": range ends beyond TASK_SIZE " + hex(TASK_SIZE));
                }
                if ((addr & pageMask) != 0) {
                    throw new ErrnoException(Errno.EINVAL, args + ": MAP_FIXED address is not page aligned");
                }
                if (addr < MMAP_MIN_ADDR) {
                    throw new ErrnoException(Errno.EPERM, args + ": below vm.mmap_min_addr " + hex(MMAP_MIN_ADDR));
                }
                // MAP_FIXED_NOREPLACE wins over MAP_FIXED when both are given (do_mmap)
                if ((flags & MapFlags.FIXED_NOREPLACE) != 0 && !vmasIn(addr, addr + alen).isEmpty()) {
                    throw new ErrnoException(Errno.EEXIST, args + ": MAP_FIXED_NOREPLACE range overlaps "
                            + vmasIn(addr, addr + alen).getFirst());
                }
                start = addr;
            } else {
                start = getUnmappedArea(addr, alen, file == null && !shared);
                if (start < 0) {
                    throw new ErrnoException(Errno.ENOMEM, args + ": no free range of " + alen + " bytes");
                }
            }
            long vmf = 0;
            if ((prot & Prot.READ) != 0) {
                vmf |= VmFlags.VM_READ;
            }
            if ((prot & Prot.WRITE) != 0) {
                vmf |= VmFlags.VM_WRITE;
            }
            if ((prot & Prot.EXEC) != 0) {
                vmf |= VmFlags.VM_EXEC;
            }
            vmf |= VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC;
            MemfdFile f = file;
            long pgoff;
            if (shared) {
                vmf |= VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE;
                if (f == null) {
                    f = new MemfdFile(phys, "dev/zero", alen, true);
                    // shared anonymous memory ignores the offset: its object starts with the mapping
                    pgoff = 0;
                } else {
                    pgoff = offset >>> pageShift;
                }
            } else if (f != null) {
                pgoff = offset >>> pageShift;
            } else {
                pgoff = start >>> pageShift;
            }
            if (!shared && (prot & Prot.WRITE) != 0) {
                vmf |= VmFlags.VM_ACCOUNT;
            }
            if ((flags & MapFlags.NORESERVE) != 0) {
                vmf |= VmFlags.VM_NORESERVE;
            }
            if ((flags & MapFlags.GROWSDOWN) != 0) {
                vmf |= VmFlags.VM_GROWSDOWN;
            }
            if ((flags & MapFlags.LOCKED) != 0) {
                vmf |= VmFlags.VM_LOCKED;
            }
            if (softDirty) {
                vmf |= VmFlags.VM_SOFTDIRTY;
            }
            if (vmas.size() >= MAX_MAP_COUNT) {
                throw new ErrnoException(Errno.ENOMEM, args + ": the mm already has vm.max_map_count " + MAX_MAP_COUNT
                        + " mappings");
            }
            if (fixed) {
                unmapLocked(start, alen, true);
            }
            Vma v = new Vma(start, start + alen, vmf, f, pgoff);
            if (f != null) {
                f.mappedBy(this);
            }
            vmas.put(start, v);
            mergeAround(start, start + alen);
            if ((flags & (MapFlags.POPULATE | MapFlags.LOCKED)) != 0) {
                populate(start, start + alen);
            }
            return start;
        } finally {
            lock.unlock();
        }
    }

    /** __mm_populate: write-faults private writable memory, read-faults the rest. */
    private void populate(long start, long end) {
        for (long a = start; a < end; a += pageSize) {
            Vma v = findVma(a);
            if (v == null || !v.readable()) {
                continue;
            }
            boolean w = (v.flags & (VmFlags.VM_WRITE | VmFlags.VM_SHARED)) == VmFlags.VM_WRITE;
            try {
                fault(null, a, w, false);
            } catch (SegmentationFault | ErrnoException e) {
                return;
            }
        }
    }

    /**
     * Top-down search below {@link #MMAP_BASE}, honouring a free hint; anonymous private
     * mappings whose length is a multiple of the PMD size are PMD aligned (THP-friendly, 6.10+).
     */
    private long getUnmappedArea(long hint, long len, boolean anonPrivate) {
        if (hint != 0) {
            // round_hint_to_min: a hint is rounded down to a page, and one below vm.mmap_min_addr
            // is raised to it rather than ignored.
            long h = hint & ~pageMask;
            if (h != 0 && Long.compareUnsigned(h, MMAP_MIN_ADDR) < 0) {
                h = MMAP_MIN_ADDR;
            }
            if (h >= MMAP_MIN_ADDR && h + len <= TASK_SIZE && h + len > h && vmasIn(h, h + len).isEmpty()) {
                return h;
            }
        }
        long align = anonPrivate && (len % pmdSize()) == 0 ? pmdSize() : pageSize;
        // free_area_cache + cached_hole_size (the pre-maple-tree top-down allocator): every gap
        // above the cache is either smaller than cachedHoleSize or was opened by an unmap that
        // pulled the cache up, so starting at the cache finds the same (highest fitting) gap as a
        // search from the top, in time independent of how many VMAs lie above.
        long top;
        if (len <= cachedHoleSize) {
            top = MMAP_BASE;
            cachedHoleSize = 0;
        } else {
            top = freeAreaCache;
        }
        while (top - len >= MMAP_MIN_ADDR) {
            long cand = (top - len) & ~(align - 1);
            if (cand < MMAP_MIN_ADDR) {
                return -1;
            }
            Map.Entry<Long, Vma> below = vmas.lowerEntry(cand + len);
            if (below == null || below.getValue().end <= cand) {
                freeAreaCache = cand;
                return cand;
            }
            long gap = top - below.getValue().end;
            if (gap > cachedHoleSize) {
                cachedHoleSize = gap;
            }
            top = below.getValue().start;
        }
        return -1;
    }

    private long freeAreaCache = MMAP_BASE;
    private long cachedHoleSize;

    /** An unmap opened [start, end): let the next search see it. */
    private void freedArea(long end) {
        if (end > freeAreaCache) {
            freeAreaCache = Math.min(MMAP_BASE, end);
        }
    }

    @Override
    public Memfd memfdCreate(String name, long size) {
        if (name == null || name.length() > 249) {
            throw new ErrnoException(Errno.EINVAL, "memfd_create: name " + (name == null ? "null" : "of "
                    + name.length() + " chars") + " is not accepted (at most 249)");
        }
        if (size < 0) {
            throw new ErrnoException(Errno.EINVAL, "ftruncate(memfd '" + name + "', " + size + "): negative size");
        }
        return new MemfdFile(phys, name, size, false);
    }

    @Override
    public void munmap(long addr, long len) {
        String args = "munmap(" + hex(addr) + ", " + len + ")";
        sysEnter();
        try {
            if ((addr & pageMask) != 0) {
                throw new ErrnoException(Errno.EINVAL, args + ": address not page aligned");
            }
            long alen = pageAlign(len);
            if (len <= 0 || alen <= 0 || addr + alen > TASK_SIZE || addr < 0) {
                throw new ErrnoException(Errno.EINVAL, args + ": length " + len + " is zero or leaves the address space");
            }
            unmapLocked(addr, alen, false);
        } finally {
            lock.unlock();
        }
    }

    /** do_vmi_munmap: split at the edges, zap, drop the VMAs, free empty page tables. */
    private void unmapLocked(long start, long len, boolean forMmapFixed) {
        long end = start + len;
        if (vmasIn(start, end).isEmpty()) {
            return;
        }
        splitAt(start);
        splitAt(end);
        List<Vma> gone = vmasIn(start, end);
        IntList toPut = new IntList();
        for (Vma v : gone) {
            zapRange(v, v.start, v.end, true, toPut);
        }
        for (Vma v : gone) {
            vmas.remove(v.start);
        }
        freedArea(end);
        shootdown();
        toPut.forEach(phys::put);
        freeTables(start, end);
        for (UffdContext c : new ArrayList<>(uffds)) {
            for (Vma v : gone) {
                if (v.uffd == c) {
                    c.unmapEvent(start, end);
                    break;
                }
            }
        }
    }

    /**
     * zap_pte_range over [s, e) of {@code v}: drops present entries (frames collected for after
     * the shootdown) and, for anonymous memory, markers too. On shmem a uffd-wp pte leaves a
     * marker unless the whole mapping is going away.
     */
    void zapRange(Vma v, long s, long e, boolean dropAll, IntList toPut) {
        long a = s;
        long pmdSz = pmdSize();
        while (a < e) {
            long next = Math.min(e, (a & ~(pmdSz - 1)) + pmdSz);
            int pmdTable = tableAt(a, 2, false);
            if (pmdTable == -1) {
                a = next;
                continue;
            }
            int pmdIdx = levelIndex(a, 2);
            long pmd = getDesc(pmdTable, pmdIdx);
            if (Pte.isBlock(pmd)) {
                long hs = a & ~(pmdSz - 1);
                if (a == hs && next == hs + pmdSz) {
                    int first = frameOf(pmd);
                    int n = (int) (pmdSz >>> pageShift);
                    for (int k = 0; k < n; k++) {
                        phys.mapAdd(first + k, -1);
                        toPut.add(first + k);
                    }
                    setDesc(pmdTable, pmdIdx, 0);
                    a = next;
                    continue;
                }
                splitHuge(hs);
            }
            int pt = tableAt(a, 3, false);
            if (pt < 0) {
                a = next;
                continue;
            }
            for (long p = a; p < next; p += pageSize) {
                int i = levelIndex(p, 3);
                long d = getDesc(pt, i);
                if (d == 0) {
                    continue;
                }
                boolean keepMarker = !dropAll && v.file != null && v.uffdWp()
                        && (Pte.isPresent(d) ? Pte.isUffdWp(d) : Pte.isUffdWpMarker(d));
                if (Pte.isPresent(d)) {
                    int f = frameOf(d);
                    if (f != phys.zeroFrame) {
                        phys.mapAdd(f, -1);
                        toPut.add(f);
                    }
                } else if (!Pte.isMarker(d)) {
                    phys.swapFree(Pte.swapOffset(d, softDirty));
                }
                setDesc(pt, i, keepMarker ? Pte.UFFD_WP_MARKER : 0);
            }
            a = next;
        }
    }

    /** free_pgtables: PTE tables whose whole span no longer has a VMA are returned. */
    private void freeTables(long start, long end) {
        long pmdSz = pmdSize();
        for (long a = start & ~(pmdSz - 1); a < end; a += pmdSz) {
            if (!vmasIn(a, a + pmdSz).isEmpty()) {
                continue;
            }
            int pmdTable = tableAt(a, 2, false);
            if (pmdTable < 0) {
                continue;
            }
            int pmdIdx = levelIndex(a, 2);
            long pmd = getDesc(pmdTable, pmdIdx);
            if (Pte.isTable(pmd)) {
                setDesc(pmdTable, pmdIdx, 0);
                phys.put(frameOf(pmd));
                tablePages--;
            }
        }
    }

    @Override
    public void mprotect(long addr, long len, int prot) {
        String args = "mprotect(" + hex(addr) + ", " + len + ", " + hex(prot) + ")";
        sysEnter();
        try {
            // do_mprotect_pkey's order: grows bits, alignment, empty range, wrap, then the
            // prot bits arm64 knows (arch_validate_prot: READ, WRITE, EXEC and Prot.SEM).
            int grows = prot & (Prot.GROWSDOWN | Prot.GROWSUP);
            prot &= ~grows;
            if (grows == (Prot.GROWSDOWN | Prot.GROWSUP)) {
                throw new ErrnoException(Errno.EINVAL, args + ": PROT_GROWSDOWN and PROT_GROWSUP together");
            }
            if ((addr & pageMask) != 0) {
                throw new ErrnoException(Errno.EINVAL, args + ": address not page aligned");
            }
            if (len == 0) {
                return;
            }
            long alen = pageAlign(len);
            if (len < 0 || alen <= 0 || addr + alen < addr || addr + alen > TASK_SIZE) {
                throw new ErrnoException(Errno.ENOMEM, args + ": range leaves the address space");
            }
            if ((prot & ~(Prot.READ | Prot.WRITE | Prot.EXEC | Prot.SEM)) != 0) {
                throw new ErrnoException(Errno.EINVAL, args + ": PROT bits " + hex(prot & ~(7 | Prot.SEM))
                        + " are not supported on this CPU");
            }
            prot &= ~Prot.SEM;
            long end = addr + alen;
            if (grows != 0) {
                Vma first = findVma(addr);
                // arm64 has no VM_GROWSUP; PROT_GROWSDOWN extends the change down to a stack VMA's start
                if (first == null || grows == Prot.GROWSUP || (first.flags & VmFlags.VM_GROWSDOWN) == 0) {
                    throw new ErrnoException(Errno.EINVAL, args + ": PROT_GROWS" + (grows == Prot.GROWSUP ? "UP" : "DOWN")
                            + " needs a mapping that grows that way at " + hex(addr));
                }
                addr = first.start;
            }
            // do_mprotect_pkey walks the VMAs in order and stops at the first hole (ENOMEM) or the
            // first VMA that may not get the protection (EACCES); the VMAs before it keep their
            // new protection. Only an unmapped start changes nothing.
            long done = addr;
            ErrnoException stop = null;
            for (Vma v : vmasIn(addr, end)) {
                if (v.start > done) {
                    stop = new ErrnoException(Errno.ENOMEM, args + ": " + hex(done) + ".." + hex(v.start)
                            + " is not mapped" + (done > addr ? " (the mapped part before it was changed)" : ""));
                    break;
                }
                if ((prot & Prot.WRITE) != 0 && (v.flags & VmFlags.VM_MAYWRITE) == 0) {
                    stop = new ErrnoException(Errno.EACCES, args + ": " + v + " cannot be made writable"
                            + (done > addr ? " (the part before it was changed)" : ""));
                    break;
                }
                done = Math.min(v.end, end);
            }
            if (stop == null && done < end) {
                stop = new ErrnoException(Errno.ENOMEM, args + ": " + hex(done) + ".." + hex(end) + " is not mapped"
                        + (done > addr ? " (the mapped part before it was changed)" : ""));
            }
            if (done > addr) {
                splitAt(addr);
                splitAt(done);
                long newBits = ((prot & Prot.READ) != 0 ? VmFlags.VM_READ : 0)
                        | ((prot & Prot.WRITE) != 0 ? VmFlags.VM_WRITE : 0)
                        | ((prot & Prot.EXEC) != 0 ? VmFlags.VM_EXEC : 0);
                for (Vma v : vmasIn(addr, done)) {
                    long old = v.flags;
                    v.flags = (v.flags & ~(VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_EXEC)) | newBits;
                    if (!v.isShared()) {
                        v.flags = (v.flags & VmFlags.VM_WRITE) != 0 ? v.flags | VmFlags.VM_ACCOUNT : v.flags;
                    }
                    if (old != v.flags) {
                        changeProtection(v, v.start, v.end);
                    }
                }
                shootdown();
                mergeAround(addr, done);
            }
            if (stop != null) {
                throw stop;
            }
        } finally {
            lock.unlock();
        }
    }

    /** change_pte_range for a protection change: pte_modify, uffd-wp kept, write upgrade if allowed. */
    private void changeProtection(Vma v, long s, long e) {
        long prot = pageProt(v);
        boolean tryWritable = v.writable() && (!v.isShared() || !wantsWriteNotify(v));
        long pmdSz = pmdSize();
        for (long a = s; a < e; ) {
            long next = Math.min(e, (a & ~(pmdSz - 1)) + pmdSz);
            int pmdTable = tableAt(a, 2, false);
            if (pmdTable < 0) {
                a = next;
                continue;
            }
            int pmdIdx = levelIndex(a, 2);
            long pmd = getDesc(pmdTable, pmdIdx);
            if (Pte.isBlock(pmd)) {
                long hs = a & ~(pmdSz - 1);
                if (a == hs && next == hs + pmdSz) {
                    long nd = Pte.modify(pmd, prot & ~Pte.TABLE_BIT, softDirty);
                    if (Pte.isUffdWp(pmd)) {
                        nd = Pte.mkuffdWp(nd);
                    } else if (tryWritable && canChangeWritable(v, nd, frameOf(pmd))) {
                        nd = Pte.mkwrite(nd);
                    }
                    setDesc(pmdTable, pmdIdx, nd);
                    a = next;
                    continue;
                }
                splitHuge(hs);
            }
            int pt = tableAt(a, 3, false);
            if (pt < 0) {
                a = next;
                continue;
            }
            for (long p = a; p < next; p += pageSize) {
                int i = levelIndex(p, 3);
                long d = getDesc(pt, i);
                if (!Pte.isPresent(d)) {
                    continue;
                }
                long nd = Pte.modify(d, prot, softDirty);
                if (Pte.isUffdWp(d)) {
                    nd = Pte.mkuffdWp(nd);
                } else if (tryWritable && Pte.isValid(nd) && canChangeWritable(v, nd, frameOf(d))) {
                    nd = Pte.mkwrite(nd);
                }
                setDesc(pt, i, nd);
            }
            a = next;
        }
    }

    /** can_change_pte_writable: exclusive anon pages, and never a page soft-dirty still has to see. */
    private boolean canChangeWritable(Vma v, long d, int frame) {
        if (softDirtyTracking(v) && (d & Pte.SOFT_DIRTY) == 0) {
            return false;
        }
        if (Pte.isSpecial(d) || frame == phys.zeroFrame) {
            return false;
        }
        if (v.isShared()) {
            return Pte.isDirty(d);
        }
        return phys.refcount(frame) == 1;
    }

    @Override
    public void madvise(long addr, long len, int advice) {
        String args = "madvise(" + hex(addr) + ", " + len + ", " + advice + ")";
        List<Punched> punched = new ArrayList<>();
        sysEnter();
        try {
            if ((addr & pageMask) != 0) {
                throw new ErrnoException(Errno.EINVAL, args + ": address not page aligned");
            }
            switch (advice) {
                case Madvise.NORMAL, Madvise.RANDOM, Madvise.SEQUENTIAL, Madvise.WILLNEED, Madvise.DONTNEED,
                        Madvise.FREE, Madvise.REMOVE, Madvise.DONTFORK, Madvise.DOFORK, Madvise.HUGEPAGE,
                        Madvise.NOHUGEPAGE, Madvise.COLD, Madvise.PAGEOUT -> {
                }
                default -> throw new ErrnoException(Errno.EINVAL, args + ": unknown advice " + advice);
            }
            long alen = pageAlign(len);
            if (len < 0 || addr + alen < addr) {
                throw new ErrnoException(Errno.EINVAL, args + ": length wraps the address space");
            }
            if (alen == 0) {
                return;
            }
            long end = addr + alen;
            List<Vma> in = vmasIn(addr, end);
            boolean hole = false;
            long a = addr;
            for (Vma v : in) {
                hole |= v.start > a;
                a = v.end;
            }
            hole |= a < end || in.isEmpty();
            switch (advice) {
                case Madvise.DONTNEED, Madvise.FREE -> {
                    for (Vma v : in) {
                        if ((v.flags & (VmFlags.VM_LOCKED | VmFlags.VM_PFNMAP | VmFlags.VM_HUGETLB)) != 0) {
                            throw new ErrnoException(Errno.EINVAL, args + ": " + v + " is locked");
                        }
                    }
                    if (advice == Madvise.DONTNEED) {
                        dontneed(addr, end, in, false);
                    }
                }
                case Madvise.PAGEOUT, Madvise.COLD -> {
                    for (Vma v : in) {
                        if ((v.flags & (VmFlags.VM_LOCKED | VmFlags.VM_PFNMAP | VmFlags.VM_HUGETLB)) != 0) {
                            throw new ErrnoException(Errno.EINVAL, args + ": " + v + " is locked");
                        }
                    }
                    if (advice == Madvise.PAGEOUT) {
                        pageout(in, addr, end);
                    }
                }
                case Madvise.REMOVE -> {
                    // madvise_remove: locked or fileless -> EINVAL; not shared-maywrite -> EACCES
                    // (vma_is_shared_maywrite, 6.7+: a read-only shared mapping that could be
                    // made writable may punch holes, a private file mapping may not)
                    for (Vma v : in) {
                        if ((v.flags & VmFlags.VM_LOCKED) != 0 || v.file == null) {
                            throw new ErrnoException(Errno.EINVAL, args + ": MADV_REMOVE needs an unlocked file mapping, "
                                    + v + (v.file == null ? " is anonymous" : " is locked"));
                        }
                        if (!v.isShared() || (v.flags & VmFlags.VM_MAYWRITE) == 0) {
                            throw new ErrnoException(Errno.EACCES, args + ": " + v + " is not a shared mapping that may be written");
                        }
                    }
                    // hole punch: the zap drops uffd-wp markers too (ZAP_FLAG_DROP_MARKER)
                    dontneed(addr, end, in, true);
                    for (Vma v : vmasIn(addr, end)) {
                        long s = Math.max(addr, v.start);
                        long e = Math.min(end, v.end);
                        long from = v.filePage(s, pageShift);
                        long to = v.filePage(e, pageShift);
                        unmapFileRange(v.file, from, to);
                        v.file.punch(from, to);
                        punched.add(new Punched(v.file, from, to));
                    }
                }
                case Madvise.HUGEPAGE, Madvise.NOHUGEPAGE, Madvise.DONTFORK, Madvise.DOFORK -> {
                    long set;
                    long clear;
                    if (advice == Madvise.HUGEPAGE) {
                        set = VmFlags.VM_HUGEPAGE;
                        clear = VmFlags.VM_NOHUGEPAGE;
                    } else if (advice == Madvise.NOHUGEPAGE) {
                        set = VmFlags.VM_NOHUGEPAGE;
                        clear = VmFlags.VM_HUGEPAGE;
                    } else if (advice == Madvise.DONTFORK) {
                        set = VmFlags.VM_DONTCOPY;
                        clear = 0;
                    } else {
                        set = 0;
                        clear = VmFlags.VM_DONTCOPY;
                    }
                    splitAt(addr);
                    splitAt(end);
                    for (Vma v : vmasIn(addr, end)) {
                        v.flags = (v.flags & ~clear) | set;
                    }
                    mergeAround(addr, end);
                }
                default -> {
                }
            }
            if (hole) {
                throw new ErrnoException(Errno.ENOMEM, args + ": part of the range is not mapped (the mapped part was advised)");
            }
        } finally {
            lock.unlock();
            // Other address spaces mapping a punched file let go of its pages too, a forked
            // child's included; each under its own lock, taken after ours is released, so two
            // address spaces punching the same file at once cannot wait on each other.
            for (Punched h : punched) {
                for (AddressSpace other : h.file().mappers()) {
                    if (other != this) {
                        other.dropPunchedPages(h.file(), h.from(), h.to());
                    }
                }
            }
        }
    }

    /** File pages [from, to) of a hole punched through this mm. */
    private record Punched(MemfdFile file, long from, long to) {
    }

    /** A hole was punched in {@code file} through another address space: its pages go here too. */
    private void dropPunchedPages(MemfdFile file, long fromIdx, long toIdx) {
        lock.lock();
        try {
            if (!closed) {
                unmapFileRange(file, fromIdx, toIdx);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * unmap_mapping_range(even_cows = false) before a hole punch: every mapping of
     * {@code file}'s pages [fromIdx, toIdx) in this mm lets go of them, so no other mapping
     * keeps reading a page the file no longer has. Private mappings keep their own CoW copies.
     * Other address spaces mapping the file do the same through {@link #dropPunchedPages}.
     */
    private void unmapFileRange(MemfdFile file, long fromIdx, long toIdx) {
        IntList toPut = new IntList();
        for (Vma v : new ArrayList<>(vmas.values())) {
            if (v.file != file) {
                continue;
            }
            long vFirst = v.pgoff;
            long vEnd = v.pgoff + ((v.end - v.start) >>> pageShift);
            long lo = Math.max(fromIdx, vFirst);
            long hi = Math.min(toIdx, vEnd);
            if (lo >= hi) {
                continue;
            }
            long s = v.start + ((lo - vFirst) << pageShift);
            long e = v.start + ((hi - vFirst) << pageShift);
            if (v.isShared()) {
                zapRange(v, s, e, true, toPut);
                continue;
            }
            for (long a = s; a < e; a += pageSize) {
                int pt = tableAt(a, 3, false);
                if (pt < 0) {
                    continue;
                }
                int i = levelIndex(a, 3);
                long d = getDesc(pt, i);
                if (Pte.isPresent(d) && phys.kind(frameOf(d)) == PhysMem.KIND_SHMEM) {
                    phys.mapAdd(frameOf(d), -1);
                    toPut.add(frameOf(d));
                    setDesc(pt, i, 0);
                }
            }
        }
        shootdown();
        toPut.forEach(phys::put);
    }

    private void dontneed(long addr, long end, List<Vma> in, boolean dropMarkers) {
        IntList toPut = new IntList();
        for (Vma v : in) {
            long s = Math.max(addr, v.start);
            long e = Math.min(end, v.end);
            zapRange(v, s, e, dropMarkers, toPut);
        }
        shootdown();
        toPut.forEach(phys::put);
        for (Vma v : in) {
            if (v.uffd != null) {
                v.uffd.removeEvent(Math.max(addr, v.start), Math.min(end, v.end));
            }
        }
    }

    @Override
    public long brk(long addr) {
        sysEnter();
        try {
            if (addr < startBrk) {
                return brk;
            }
            long newbrk = pageAlign(addr);
            long oldbrk = pageAlign(brk);
            if (newbrk == oldbrk) {
                brk = addr;
                return brk;
            }
            if (newbrk < oldbrk) {
                if (vmasIn(newbrk, oldbrk).isEmpty()) {
                    // do_brk: nothing of the heap left to shrink (unmapped behind brk's back)
                    return brk;
                }
                unmapLocked(newbrk, oldbrk - newbrk, false);
                brk = addr;
                return brk;
            }
            if (newbrk > TASK_SIZE || !vmasIn(oldbrk, newbrk + pageSize).isEmpty()) {
                return brk;
            }
            long vmf = VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE
                    | VmFlags.VM_MAYEXEC | VmFlags.VM_ACCOUNT | (softDirty ? VmFlags.VM_SOFTDIRTY : 0);
            Vma v = new Vma(oldbrk, newbrk, vmf, null, oldbrk >>> pageShift);
            vmas.put(oldbrk, v);
            mergeAround(oldbrk, newbrk);
            brk = addr;
            return brk;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long brkStart() {
        lock.lock();
        try {
            return startBrk;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void setBrk(long newStart, long newBrk) {
        String args = "prctl(PR_SET_MM, START_BRK=" + hex(newStart) + ", BRK=" + hex(newBrk) + ")";
        sysEnter();
        try {
            if ((newStart & pageMask) != 0) {
                throw new ErrnoException(Errno.EINVAL, args + ": start_brk is not page aligned");
            }
            if (newStart < MMAP_MIN_ADDR || newBrk < newStart || newBrk > TASK_SIZE) {
                throw new ErrnoException(Errno.EINVAL, args + ": needs mmap_min_addr <= start_brk <= brk <= TASK_SIZE");
            }
            // validate_prctl_map: the heap may only overlap a writable private anonymous mapping.
            for (Vma v : vmasIn(newStart, Math.max(pageAlign(newBrk), newStart + 1))) {
                if (v.file != null || !v.writable()) {
                    throw new ErrnoException(Errno.EINVAL, args + ": heap range overlaps " + v);
                }
            }
            startBrk = newStart;
            brk = newBrk;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long mremap(long oldAddr, long oldLen, long newLen, int flags, long newAddr) {
        String args = "mremap(" + hex(oldAddr) + ", " + oldLen + ", " + newLen + ", flags=" + hex(flags) + ", "
                + hex(newAddr) + ")";
        sysEnter();
        try {
            int known = MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED | MapFlags.MREMAP_DONTUNMAP;
            boolean mayMove = (flags & MapFlags.MREMAP_MAYMOVE) != 0;
            boolean fixed = (flags & MapFlags.MREMAP_FIXED) != 0;
            boolean dontUnmap = (flags & MapFlags.MREMAP_DONTUNMAP) != 0;
            if ((flags & ~known) != 0) {
                throw new ErrnoException(Errno.EINVAL, args + ": unknown flags " + hex(flags & ~known));
            }
            if (fixed && !mayMove) {
                throw new ErrnoException(Errno.EINVAL, args + ": MREMAP_FIXED needs MREMAP_MAYMOVE");
            }
            if (dontUnmap && (!mayMove || oldLen != newLen)) {
                throw new ErrnoException(Errno.EINVAL, args + ": MREMAP_DONTUNMAP needs MAYMOVE and equal lengths");
            }
            if ((oldAddr & pageMask) != 0) {
                throw new ErrnoException(Errno.EINVAL, args + ": old address is not page aligned");
            }
            long olen = pageAlign(oldLen);
            long nlen = pageAlign(newLen);
            if (oldLen < 0 || newLen <= 0 || nlen <= 0 || nlen > TASK_SIZE) {
                throw new ErrnoException(Errno.EINVAL, args + ": new length " + newLen + " is zero or too large");
            }
            // check_mremap_params: MREMAP_DONTUNMAP names a new address too (a hint without FIXED)
            if (fixed || dontUnmap) {
                if ((newAddr & pageMask) != 0) {
                    throw new ErrnoException(Errno.EINVAL, args + ": new address is not page aligned");
                }
                if (newAddr < 0 || newAddr + nlen > TASK_SIZE) {
                    throw new ErrnoException(Errno.EINVAL, args + ": new range leaves the address space");
                }
                if (newAddr < oldAddr + olen && oldAddr < newAddr + nlen) {
                    throw new ErrnoException(Errno.EINVAL, args + ": old and new ranges overlap");
                }
            }
            Vma v = findVma(oldAddr);
            if (v == null) {
                throw new ErrnoException(Errno.EFAULT, args + ": no mapping at the old address");
            }
            if (olen == 0) {
                if (!v.isShared() || !mayMove) {
                    throw new ErrnoException(Errno.EINVAL, args
                            + ": old_len 0 duplicates only shared mappings, and needs MREMAP_MAYMOVE");
                }
                long to = fixed ? newAddr : getUnmappedArea(0, nlen, false);
                if (to < 0) {
                    throw new ErrnoException(Errno.ENOMEM, args + ": no free range of " + nlen + " bytes");
                }
                if (fixed) {
                    unmapLocked(to, nlen, true);
                }
                Vma dup = new Vma(to, to + nlen, v.flags & ~VmFlags.VM_UFFD_ALL, v.file, v.filePage(oldAddr, pageShift));
                vmas.put(to, dup);
                mergeAround(to, to + nlen);
                return to;
            }
            boolean movesOrGrows = fixed || dontUnmap || nlen > olen;
            // remap_is_valid: what is unmapped by a shrink may cross VMAs; what stays must not.
            if (movesOrGrows && oldAddr + Math.min(olen, nlen) > v.end) {
                throw new ErrnoException(Errno.EFAULT, args + ": old range runs past " + v);
            }
            if (fixed) {
                unmapLocked(newAddr, nlen, true);
                if (nlen < olen) {
                    // mremap_to shrinks first, then moves what is left: the tail must not stay
                    // behind in the page tables of an address range that no VMA covers.
                    unmapLocked(oldAddr + nlen, olen - nlen, false);
                    olen = nlen;
                }
                return moveVma(oldAddr, olen, newAddr, nlen, dontUnmap);
            }
            if (nlen <= olen && !dontUnmap) {
                if (nlen < olen) {
                    unmapLocked(oldAddr + nlen, olen - nlen, false);
                }
                return oldAddr;
            }
            if (!dontUnmap && oldAddr + olen == v.end && oldAddr + nlen <= TASK_SIZE
                    && vmasIn(v.end, oldAddr + nlen).isEmpty()) {
                // vma_expand in place; expanded memory is soft-dirty like new memory
                v.end = oldAddr + nlen;
                if (softDirty) {
                    v.flags |= VmFlags.VM_SOFTDIRTY;
                }
                mergeAround(v.start, v.end);
                return oldAddr;
            }
            if (!mayMove) {
                throw new ErrnoException(Errno.ENOMEM, args + ": cannot grow in place and MREMAP_MAYMOVE not given");
            }
            long to = getUnmappedArea(dontUnmap ? newAddr : 0, nlen, false);
            if (to < 0) {
                throw new ErrnoException(Errno.ENOMEM, args + ": no free range of " + nlen + " bytes");
            }
            return moveVma(oldAddr, olen, to, nlen, dontUnmap);
        } finally {
            lock.unlock();
        }
    }

    /**
     * move_vma: the VMA [from, from+olen) moves to [to, to+nlen) with its page-table entries.
     * Moved entries become soft-dirty ("so we can notice in userspace the ptes were moved");
     * without UFFD_FEATURE_EVENT_REMAP the uffd context is dropped and every uffd-wp bit and
     * marker of the moved range cleared (mm: Clear uffd-wp PTE/PMD state on mremap, 2025).
     */
    private long moveVma(long from, long olen, long to, long nlen, boolean dontUnmap) {
        splitAt(from);
        splitAt(from + olen);
        Vma src = findVma(from);
        UffdContext ctx = src.uffd;
        boolean keepUffd = ctx != null && ctx.wants(Uffd.FEATURE_EVENT_REMAP);
        Vma dst = src.copy();
        dst.start = to;
        dst.end = to + nlen;
        if (!keepUffd) {
            dst.uffd = null;
            dst.flags &= ~VmFlags.VM_UFFD_ALL;
        }
        long pmdSz = pmdSize();
        long moveLen = Math.min(olen, nlen);
        for (long off = 0; off < moveLen; ) {
            long a = from + off;
            long b = to + off;
            int pmdTable = tableAt(a, 2, false);
            long span = Math.min(moveLen - off, pmdSz - (a & (pmdSz - 1)));
            if (pmdTable < 0) {
                off += span;
                continue;
            }
            int pmdIdx = levelIndex(a, 2);
            long pmd = getDesc(pmdTable, pmdIdx);
            if (Pte.isBlock(pmd)) {
                if ((a & (pmdSz - 1)) == 0 && (b & (pmdSz - 1)) == 0 && span == pmdSz) {
                    int dt = tableAt(b, 2, true);
                    long nd = softDirty ? pmd | Pte.SOFT_DIRTY : pmd;
                    if (!keepUffd) {
                        nd = Pte.clearUffdWp(nd);
                    }
                    setDesc(dt, levelIndex(b, 2), nd);
                    setDesc(pmdTable, pmdIdx, 0);
                    off += span;
                    continue;
                }
                splitHuge(a & ~(pmdSz - 1));
            }
            int pt = tableAt(a, 3, false);
            if (pt < 0) {
                off += span;
                continue;
            }
            for (long k = 0; k < span; k += pageSize) {
                int i = levelIndex(a + k, 3);
                long d = getDesc(pt, i);
                if (d == 0) {
                    continue;
                }
                setDesc(pt, i, 0);
                long nd = d;
                if (Pte.isPresent(d)) {
                    if (softDirty) {
                        nd |= Pte.SOFT_DIRTY;
                    }
                    if (!keepUffd) {
                        nd = Pte.clearUffdWp(nd);
                    }
                } else if (Pte.isMarker(d)) {
                    if (!keepUffd && Pte.isUffdWpMarker(d)) {
                        nd = 0;
                    }
                } else {
                    if (softDirty) {
                        nd |= Pte.SWP_SOFT_DIRTY;
                    }
                    if (!keepUffd) {
                        nd &= ~Pte.SWP_UFFD_WP;
                    }
                }
                if (nd != 0) {
                    int dt = tableAt(b + k, 3, true);
                    setDesc(dt, levelIndex(b + k, 3), nd);
                }
            }
            off += span;
        }
        if (!dontUnmap) {
            vmas.remove(src.start);
            freedArea(from + olen);
        } else {
            src.flags &= ~VmFlags.VM_ACCOUNT;
        }
        vmas.put(dst.start, dst);
        shootdown();
        if (!dontUnmap) {
            freeTables(from, from + olen);
        }
        mergeAround(dst.start, dst.end);
        if (keepUffd) {
            ctx.remapEvent(from, to, olen);
        }
        return to;
    }

    @Override
    public MemoryManager fork() {
        sysEnter();
        try {
            AddressSpace child = new AddressSpace(config, phys);
            child.startBrk = startBrk;
            child.brk = brk;
            Map<UffdContext, UffdContext> forkedCtx = new java.util.LinkedHashMap<>();
            for (Vma v : vmas.values()) {
                if ((v.flags & VmFlags.VM_DONTCOPY) != 0) {
                    continue;
                }
                Vma c = v.copy();
                c.flags &= ~VmFlags.VM_LOCKED;
                if (c.file != null) {
                    c.file.mappedBy(child);
                }
                UffdContext cctx = null;
                if (v.uffd != null && v.uffd.wants(Uffd.FEATURE_EVENT_FORK)) {
                    cctx = forkedCtx.computeIfAbsent(v.uffd, p -> p.forkInto(child));
                }
                c.uffd = cctx;
                if (cctx == null) {
                    c.flags &= ~VmFlags.VM_UFFD_ALL;
                }
                child.vmas.put(c.start, c);
                if ((v.flags & VmFlags.VM_WIPEONFORK) != 0) {
                    continue;
                }
                boolean childWp = c.uffdWp();
                if (v.isShared() && !childWp) {
                    // vma_needs_copy: shared mappings fault their pages in again in the child.
                    continue;
                }
                copyPageRange(v, c, child, childWp);
            }
            shootdown();
            for (Map.Entry<UffdContext, UffdContext> e : forkedCtx.entrySet()) {
                e.getKey().forkEvent(e.getValue());
            }
            return child;
        } finally {
            lock.unlock();
        }
    }

    /** copy_page_range: frames shared, private writable entries write-protected on both sides (CoW). */
    private void copyPageRange(Vma v, Vma c, AddressSpace child, boolean childWp) {
        boolean cow = !v.isShared() && (v.flags & VmFlags.VM_MAYWRITE) != 0;
        long pmdSz = pmdSize();
        for (long a = v.start; a < v.end; ) {
            long next = Math.min(v.end, (a & ~(pmdSz - 1)) + pmdSz);
            int pmdTable = tableAt(a, 2, false);
            if (pmdTable < 0) {
                a = next;
                continue;
            }
            int pmdIdx = levelIndex(a, 2);
            long pmd = getDesc(pmdTable, pmdIdx);
            if (Pte.isBlock(pmd)) {
                int first = frameOf(pmd);
                int n = (int) (pmdSz >>> pageShift);
                for (int k = 0; k < n; k++) {
                    phys.get(first + k);
                    phys.mapAdd(first + k, 1);
                }
                long pd = pmd;
                if (cow && Pte.isWrite(pmd)) {
                    pd = Pte.wrprotect(pmd);
                    setDesc(pmdTable, pmdIdx, pd);
                }
                long cd = Pte.mkold(pd);
                if (!childWp) {
                    cd = Pte.clearUffdWp(cd);
                }
                int ct = child.tableAt(a, 2, true);
                child.setDesc(ct, child.levelIndex(a, 2), cd);
                a = next;
                continue;
            }
            int pt = tableAt(a, 3, false);
            if (pt < 0) {
                a = next;
                continue;
            }
            int ct = -1;
            for (long p = a; p < next; p += pageSize) {
                int i = levelIndex(p, 3);
                long d = getDesc(pt, i);
                if (d == 0) {
                    continue;
                }
                long cd;
                if (Pte.isPresent(d)) {
                    int f = frameOf(d);
                    if (f != phys.zeroFrame) {
                        phys.get(f);
                        phys.mapAdd(f, 1);
                    }
                    if (cow && Pte.isWrite(d)) {
                        d = Pte.wrprotect(d);
                        setDesc(pt, i, d);
                    }
                    cd = Pte.mkold(v.isShared() ? Pte.mkclean(d) : d);
                    if (!childWp) {
                        cd = Pte.clearUffdWp(cd);
                    }
                } else if (Pte.isMarker(d)) {
                    if (!childWp) {
                        continue;
                    }
                    cd = d;
                } else {
                    // copy_nonpresent_pte: the slot is shared now, so neither side is exclusive
                    phys.swapDup(Pte.swapOffset(d, softDirty));
                    d &= ~Pte.SWP_EXCLUSIVE;
                    setDesc(pt, i, d);
                    cd = childWp ? d : d & ~Pte.SWP_UFFD_WP;
                }
                if (ct < 0) {
                    ct = child.tableAt(p, 3, true);
                }
                child.setDesc(ct, child.levelIndex(p, 3), cd);
            }
            a = next;
        }
    }

    @Override
    public Userfaultfd userfaultfd(int flags) {
        int allowed = Uffd.USER_MODE_ONLY | Uffd.NONBLOCK | Uffd.CLOEXEC;
        if ((flags & ~allowed) != 0) {
            throw new ErrnoException(Errno.EINVAL, "userfaultfd(0x" + Integer.toHexString(flags)
                    + "): unknown flags 0x" + Integer.toHexString(flags & ~allowed));
        }
        sysEnter();
        try {
            UffdContext c = new UffdContext(this, flags);
            uffds.add(c);
            return c;
        } finally {
            lock.unlock();
        }
    }

    /**
     * uffd_wp_range / change_protection with MM_CP_UFFD_WP(_RESOLVE) over [s, e) of {@code v}:
     * arming sets the bit on present entries (whole THP blocks keep their PMD, partial ones are
     * split) and, where markers are used, fills none ptes with markers, allocating the page
     * tables that takes; resolving clears bits and markers and gives write back where Linux
     * would. The caller shoots down TLBs after arming.
     */
    void uffdWpRange(Vma v, long s, long e, boolean enable) {
        boolean markers = enable && v.uffd != null && v.uffd.useMarkers(v);
        boolean tryWritable = !enable && v.writable() && (!v.isShared() || !wantsWriteNotify(v));
        long pmdSz = pmdSize();
        for (long a = s; a < e; ) {
            long next = Math.min(e, (a & ~(pmdSz - 1)) + pmdSz);
            int pmdTable = tableAt(a, 2, markers);
            if (pmdTable < 0) {
                a = next;
                continue;
            }
            int pmdIdx = levelIndex(a, 2);
            long pmd = getDesc(pmdTable, pmdIdx);
            if (Pte.isBlock(pmd)) {
                long hs = a & ~(pmdSz - 1);
                if (a == hs && next == hs + pmdSz) {
                    long nd;
                    if (enable) {
                        nd = Pte.mkuffdWp(pmd);
                    } else {
                        nd = Pte.clearUffdWp(pmd);
                        if (tryWritable && !Pte.isWrite(nd) && canChangeWritable(v, nd, frameOf(nd))) {
                            nd = Pte.mkwrite(nd);
                        }
                    }
                    setDesc(pmdTable, pmdIdx, nd);
                    a = next;
                    continue;
                }
                splitHuge(hs);
            }
            int pt = tableAt(a, 3, markers);
            if (pt < 0) {
                a = next;
                continue;
            }
            for (long p = a; p < next; p += pageSize) {
                int i = levelIndex(p, 3);
                long d = getDesc(pt, i);
                long nd = d;
                if (d == 0) {
                    if (markers) {
                        nd = Pte.UFFD_WP_MARKER;
                        markersInstalled++;
                    }
                } else if (Pte.isMarker(d)) {
                    if (!enable && Pte.isUffdWpMarker(d)) {
                        nd = 0;
                    }
                } else if (Pte.isPresent(d)) {
                    if (enable) {
                        nd = Pte.mkuffdWp(d);
                    } else {
                        nd = Pte.clearUffdWp(d);
                        if (tryWritable && Pte.isValid(nd) && !Pte.isWrite(nd) && canChangeWritable(v, nd, frameOf(nd))) {
                            nd = Pte.mkwrite(nd);
                        }
                    }
                } else {
                    nd = enable ? d | Pte.SWP_UFFD_WP : d & ~Pte.SWP_UFFD_WP;
                }
                if (nd != d) {
                    setDesc(pt, i, nd);
                }
            }
            a = next;
        }
    }

    private long markersInstalled;

    /** mfill_atomic_pte_copy / shmem_mfill_atomic_pte for one page: 0 or the errno. */
    int mfillCopy(Vma v, long addr, byte[] src, int srcOff, boolean wp) {
        int pmdTable = tableAt(addr, 2, true);
        if (Pte.isBlock(getDesc(pmdTable, levelIndex(addr, 2)))) {
            return Errno.EEXIST;
        }
        int pt = tableAt(addr, 3, true);
        int i = levelIndex(addr, 3);
        if (privateFileOverSize(v, addr)) {
            return Errno.EFAULT;
        }
        long d = getDesc(pt, i);
        if (d != 0 && !Pte.isMarker(d)) {
            return Errno.EEXIST;
        }
        int f;
        if (v.file != null && v.isShared()) {
            long idx = v.filePage(addr, pageShift);
            if (idx >= v.file.pageCount()) {
                return Errno.EFAULT;
            }
            if (v.file.lookup(idx) >= 0) {
                return Errno.EEXIST;
            }
            f = phys.alloc(PhysMem.KIND_SHMEM);
            v.file.install(idx, f);
            phys.get(f);
        } else {
            f = phys.alloc(PhysMem.KIND_ANON);
        }
        MemorySegment.copy(src, srcOff, phys.frame(f), ValueLayout.JAVA_BYTE, 0, (int) pageSize);
        phys.mapAdd(f, 1);
        long nd = pageProt(v) | phys.pa(f);
        nd = Pte.mkdirty(nd, softDirty);
        if (v.writable()) {
            nd = Pte.mkwrite(nd);
        }
        if (wp) {
            nd = Pte.mkuffdWp(nd);
        }
        setDesc(pt, i, nd);
        uffdCopies++;
        return 0;
    }

    /** mfill_atomic_pte_continue: maps the page-cache page (read-only in a private mapping). */
    int mfillContinue(Vma v, long addr, boolean wp) {
        int pmdTable = tableAt(addr, 2, true);
        if (Pte.isBlock(getDesc(pmdTable, levelIndex(addr, 2)))) {
            return Errno.EEXIST;
        }
        int pt = tableAt(addr, 3, true);
        int i = levelIndex(addr, 3);
        long d = getDesc(pt, i);
        if (d != 0 && !Pte.isMarker(d)) {
            return Errno.EEXIST;
        }
        int f = v.file.lookup(v.filePage(addr, pageShift));
        if (f < 0) {
            return Errno.EFAULT;
        }
        phys.get(f);
        phys.mapAdd(f, 1);
        long nd = Pte.mkdirty(pageProt(v) | phys.pa(f), softDirty);
        if (v.isShared()) {
            nd = maybeMkwrite(v, nd);
        }
        if (wp) {
            nd = Pte.mkuffdWp(nd);
        }
        setDesc(pt, i, nd);
        return 0;
    }

    /** mfill_atomic_pte_zeropage: the shared zero page (anon) or a zeroed cache page (shmem). */
    int mfillZeropage(Vma v, long addr) {
        int pmdTable = tableAt(addr, 2, true);
        if (Pte.isBlock(getDesc(pmdTable, levelIndex(addr, 2)))) {
            return Errno.EEXIST;
        }
        int pt = tableAt(addr, 3, true);
        int i = levelIndex(addr, 3);
        long d = getDesc(pt, i);
        if (v.file != null && v.isShared()) {
            // shmem_mfill_atomic_pte: a zeroed page-cache page installed like a COPY
            // (mfill_atomic_install_pte), so a uffd-wp marker may be overwritten here.
            long idx = v.filePage(addr, pageShift);
            if (idx >= v.file.pageCount()) {
                return Errno.EFAULT;
            }
            if (v.file.lookup(idx) >= 0 || (d != 0 && !Pte.isMarker(d))) {
                return Errno.EEXIST;
            }
            int f = phys.alloc(PhysMem.KIND_SHMEM);
            v.file.install(idx, f);
            phys.get(f);
            phys.mapAdd(f, 1);
            long nd = Pte.mkdirty(pageProt(v) | phys.pa(f), softDirty);
            if (v.writable()) {
                nd = Pte.mkwrite(nd);
            }
            setDesc(pt, i, nd);
            return 0;
        }
        // mfill_atomic_pte_zeropage: the shared zero page needs a strictly none pte (a marker is EEXIST).
        if (privateFileOverSize(v, addr)) {
            return Errno.EFAULT;
        }
        if (d != 0) {
            return Errno.EEXIST;
        }
        setDesc(pt, i, pageProt(v) | Pte.SPECIAL | phys.pa(phys.zeroFrame));
        return 0;
    }

    /** mfill_file_over_size for a private file mapping: the page lies past the file's end. */
    private boolean privateFileOverSize(Vma v, long addr) {
        return v.file != null && !v.isShared() && v.filePage(addr, pageShift) >= v.file.pageCount();
    }

    private long uffdCopies;

    // =========================================================================================
    // /proc views
    // =========================================================================================

    /** The leaf for {@code addr}: {desc, level} in a two-slot array, or null when no table reaches it. */
    private long leaf(long addr) {
        int pmdTable = tableAt(addr, 2, false);
        if (pmdTable < 0) {
            return 0;
        }
        long pmd = getDesc(pmdTable, levelIndex(addr, 2));
        if (Pte.isBlock(pmd)) {
            return pmd;
        }
        int pt = tableAt(addr, 3, false);
        if (pt < 0) {
            return 0;
        }
        return getDesc(pt, levelIndex(addr, 3));
    }

    @Override
    public List<WalkStep> walk(long addr) {
        lock.lock();
        try {
            List<WalkStep> out = new ArrayList<>();
            if (addr < 0 || addr >= TASK_SIZE) {
                return out;
            }
            int t = root;
            for (int l = startLevel; l <= 3; l++) {
                int i = levelIndex(addr, l);
                long d = getDesc(t, i);
                out.add(new WalkStep(l, phys.pa(t), i, d));
                if (l == 3 || !Pte.isTable(d)) {
                    break;
                }
                t = frameOf(d);
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long rawPte(long addr) {
        lock.lock();
        try {
            if (addr < 0 || addr >= TASK_SIZE) {
                return 0;
            }
            return leaf(addr);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long pagemapEntry(long addr) {
        lock.lock();
        try {
            return pagemapLocked(addr);
        } finally {
            lock.unlock();
        }
    }

    long pagemapLocked(long addr) {
        if (addr < 0 || addr >= TASK_SIZE) {
            return 0;
        }
        Vma v = findVma(addr);
        if (v == null) {
            return 0;
        }
        long flags = 0;
        if (softDirty && (v.flags & VmFlags.VM_SOFTDIRTY) != 0) {
            flags |= Pagemap.PM_SOFT_DIRTY;
        }
        int pmdTable = tableAt(addr, 2, false);
        if (pmdTable < 0) {
            return flags;
        }
        long pmd = getDesc(pmdTable, levelIndex(addr, 2));
        long d;
        long pfnAdjust = 0;
        if (Pte.isBlock(pmd)) {
            d = pmd;
            pfnAdjust = (addr & (pmdSize() - 1)) >>> pageShift;
        } else {
            int pt = tableAt(addr, 3, false);
            if (pt < 0) {
                return flags;
            }
            d = getDesc(pt, levelIndex(addr, 3));
        }
        if (d == 0) {
            return flags;
        }
        if (Pte.isPresent(d)) {
            int f = frameOf(d) + (int) pfnAdjust;
            long e = flags | Pagemap.PM_PRESENT | (phys.pfn(f) & Pagemap.PM_PFRAME_MASK);
            if (softDirty && (d & Pte.SOFT_DIRTY) != 0) {
                e |= Pagemap.PM_SOFT_DIRTY;
            }
            if (Pte.isUffdWp(d)) {
                e |= Pagemap.PM_UFFD_WP;
            }
            if (f != phys.zeroFrame) {
                if (phys.kind(f) == PhysMem.KIND_SHMEM) {
                    e |= Pagemap.PM_FILE;
                }
                if (phys.mapcount(f) == 1) {
                    e |= Pagemap.PM_MMAP_EXCLUSIVE;
                }
            }
            return e;
        }
        long e = flags | Pagemap.PM_SWAP;
        long off = Pte.swapOffset(d, softDirty);
        e |= (Pte.swapType(d) | (off << 5)) & Pagemap.PM_PFRAME_MASK;
        if (softDirty && (d & Pte.SWP_SOFT_DIRTY) != 0) {
            e |= Pagemap.PM_SOFT_DIRTY;
        }
        if ((d & Pte.SWP_UFFD_WP) != 0 || Pte.isUffdWpMarker(d)) {
            e |= Pagemap.PM_UFFD_WP;
        }
        if (Pte.isMarker(d) && (off & Pte.MARKER_GUARD) != 0) {
            e |= Pagemap.PM_GUARD_REGION;
        }
        return e;
    }

    @Override
    public void clearRefs(int value) {
        if (value < 1 || value > 5) {
            throw new ErrnoException(Errno.EINVAL, "write of \"" + value + "\" to /proc/PID/clear_refs: only 1..5 exist");
        }
        sysEnter();
        try {
            switch (value) {
                case 1, 2, 3 -> {
                    for (Vma v : vmas.values()) {
                        boolean anon = v.file == null;
                        if ((value == 2 && !anon) || (value == 3 && anon)) {
                            continue;
                        }
                        forEachLeaf(v.start, v.end, (t, i, d, level) -> Pte.isPresent(d) ? Pte.mkold(d) : d);
                    }
                    shootdown();
                }
                case 4 -> {
                    if (!softDirty) {
                        return;
                    }
                    for (Vma v : vmas.values()) {
                        v.flags &= ~VmFlags.VM_SOFTDIRTY;
                        forEachLeaf(v.start, v.end, (t, i, d, level) -> {
                            if (Pte.isPresent(d)) {
                                return Pte.wrprotect(d) & ~Pte.SOFT_DIRTY;
                            }
                            if (Pte.isSwap(d) && !Pte.isMarker(d)) {
                                return d & ~Pte.SWP_SOFT_DIRTY;
                            }
                            return d;
                        });
                    }
                    shootdown();
                }
                default -> {
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Rewrites every non-none leaf (pte or PMD block) in [s, e); blocks are visited once. */
    interface LeafFn {
        long apply(int table, int index, long desc, int level);
    }

    void forEachLeaf(long s, long e, LeafFn fn) {
        long pmdSz = pmdSize();
        for (long a = s; a < e; ) {
            long next = Math.min(e, (a & ~(pmdSz - 1)) + pmdSz);
            int pmdTable = tableAt(a, 2, false);
            if (pmdTable < 0) {
                a = next;
                continue;
            }
            int pmdIdx = levelIndex(a, 2);
            long pmd = getDesc(pmdTable, pmdIdx);
            if (Pte.isBlock(pmd)) {
                long nd = fn.apply(pmdTable, pmdIdx, pmd, 2);
                if (nd != pmd) {
                    setDesc(pmdTable, pmdIdx, nd);
                }
                a = next;
                continue;
            }
            int pt = tableAt(a, 3, false);
            if (pt >= 0) {
                for (long p = a; p < next; p += pageSize) {
                    int i = levelIndex(p, 3);
                    long d = getDesc(pt, i);
                    if (d != 0) {
                        long nd = fn.apply(pt, i, d, 3);
                        if (nd != d) {
                            setDesc(pt, i, nd);
                        }
                    }
                }
            }
            a = next;
        }
    }

    @Override
    public int pagemapScan(PmScanArg arg) {
        if (arg == null) {
            throw new ErrnoException(Errno.EFAULT, "PAGEMAP_SCAN: argument is NULL");
        }
        sysEnter();
        try {
            return PagemapScanner.scan(this, arg);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<VmaInfo> vmas() {
        lock.lock();
        try {
            List<VmaInfo> out = new ArrayList<>(vmas.size());
            for (Vma v : vmas.values()) {
                out.add(v.info(pageShift));
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void peek(long addr, byte[] dst, int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > dst.length) {
            throw new IndexOutOfBoundsException("peek: offset " + offset + " length " + length
                    + " outside a buffer of " + dst.length);
        }
        lock.lock();
        try {
            requireInVmas(addr, addr + length, "peek(" + hex(addr) + ", " + length + ")");
            int done = 0;
            while (done < length) {
                long a = addr + done;
                long off = a & pageMask;
                int n = (int) Math.min(pageSize - off, length - done);
                MemorySegment s = kernelFrame(a);
                if (s == null) {
                    Arrays.fill(dst, offset + done, offset + done + n, (byte) 0);
                } else {
                    MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off, dst, offset + done, n);
                }
                done += n;
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void poke(long addr, byte[] src, int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > src.length) {
            throw new IndexOutOfBoundsException("poke: offset " + offset + " length " + length
                    + " outside a buffer of " + src.length);
        }
        String what = "poke(" + hex(addr) + ", " + length + ")";
        sysEnter();
        try {
            requireInVmas(addr, addr + length, what);
            int done = 0;
            while (done < length) {
                long a = addr + done;
                long off = a & pageMask;
                int n = (int) Math.min(pageSize - off, length - done);
                MemorySegment s;
                try {
                    s = fault(null, a, true, false, true);
                } catch (SegmentationFault e) {
                    throw new ErrnoException(Errno.EFAULT, what + ": " + e.getMessage());
                }
                MemorySegment.copy(src, offset + done, s, ValueLayout.JAVA_BYTE, off, n);
                done += n;
            }
        } finally {
            lock.unlock();
        }
    }

    private void requireInVmas(long start, long end, String what) {
        if (start < 0 || end > TASK_SIZE || end < start) {
            throw new ErrnoException(Errno.EFAULT, what + ": outside the user address space");
        }
        if (start == end) {
            return;
        }
        long a = start;
        for (Vma v : vmasIn(start, end)) {
            if (v.start > a) {
                throw new ErrnoException(Errno.EFAULT, what + ": " + hex(a) + ".." + hex(v.start) + " is not mapped");
            }
            a = v.end;
        }
        if (a < end) {
            throw new ErrnoException(Errno.EFAULT, what + ": " + hex(a) + ".." + hex(end) + " is not mapped");
        }
    }

    /** The frame the kernel sees at {@code addr} without faulting: mapped page or shmem page, else null. */
    private MemorySegment kernelFrame(long addr) {
        long d = leaf(addr);
        if (Pte.isSwap(d) && !Pte.isMarker(d)) {
            return MemorySegment.ofArray(phys.swapImage(Pte.swapOffset(d, softDirty)));
        }
        if (Pte.isPresent(d)) {
            int f = frameOf(d);
            if (Pte.isBlock(d)) {
                f += (int) ((addr & (pmdSize() - 1)) >>> pageShift);
            }
            return phys.frame(f);
        }
        Vma v = findVma(addr);
        if (v != null && v.file != null) {
            long idx = v.filePage(addr, pageShift);
            int f = v.file.lookup(idx);
            if (f >= 0) {
                return phys.frame(f);
            }
        }
        return null;
    }

    // =========================================================================================
    // counters and lifecycle
    // =========================================================================================

    /** Page-table pages in use now, all levels (VmPTE-like, in pages). */
    @Override
    public long pageTablePages() {
        lock.lock();
        try {
            return tablePages;
        } finally {
            lock.unlock();
        }
    }

    /** Page-table pages ever allocated by this mm (faults, markers, splits). */
    @Override
    public long pageTablesPopulated() {
        lock.lock();
        try {
            return tablesPopulated;
        } finally {
            lock.unlock();
        }
    }

    private static final int FAULT_WP_ASYNC = 1;
    private static final int FAULT_SOFT_DIRTY = 2;
    /** What the fault being handled turned out to be (for the counters); under the lock. */
    private int faultKind;
    private long faults;
    private long wpAsyncFaults;
    private long wpAsyncNanos;
    private long softDirtyFaults;
    private long softDirtyNanos;

    @Override
    public long pageTableBytes() {
        return pageTablePages() * pageSize;
    }

    @Override
    public FaultCounters faultCounters() {
        lock.lock();
        try {
            return new FaultCounters(faults, wpAsyncFaults, wpAsyncNanos, softDirtyFaults, softDirtyNanos,
                    markersInstalled, uffdCopies, thpAllocated, thpSplits, shootdowns, swapOuts, swapIns);
        } finally {
            lock.unlock();
        }
    }

    long shootdownCount() {
        return shootdowns;
    }

    long thpAllocated() {
        return thpAllocated;
    }

    long thpSplits() {
        return thpSplits;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            for (UffdContext c : new ArrayList<>(uffds)) {
                c.close();
            }
            IntList toPut = new IntList();
            for (Vma v : vmas.values()) {
                zapRange(v, v.start, v.end, true, toPut);
            }
            vmas.clear();
            shootdown();
            toPut.forEach(phys::put);
            closed = true;
            tlbGen = tlbGen + 1;
        } finally {
            lock.unlock();
        }
        phys.release();
    }

    boolean isClosed() {
        return closed;
    }

    /** A growable int list (frame indices to release after a shootdown). */
    static final class IntList {
        private int[] a = new int[16];
        private int n;

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        void forEach(java.util.function.IntConsumer c) {
            for (int i = 0; i < n; i++) {
                c.accept(a[i]);
            }
        }

        int size() {
            return n;
        }
    }

    @Override
    public String toString() {
        return "AddressSpace[" + config.granule() + ", " + vmas.size() + " VMAs]";
    }
}
