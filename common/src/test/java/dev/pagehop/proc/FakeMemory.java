package dev.pagehop.proc;

import dev.pagehop.mm.Errno;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.Memfd;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.SegmentationFault;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.uffd.FaultWait;
import dev.pagehop.uffd.PmScanArg;
import dev.pagehop.uffd.Userfaultfd;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * A small, slow, obviously-correct anonymous-memory address space for process-model tests: VMAs
 * with merging, private anonymous pages, brk, the syscalls workloads use, SIGSEGV on bad
 * accesses, and scripted userfault parks ({@link #parkOnTouch}) that call {@link FaultWait} the
 * way the emulated kernel does. Not a model of the kernel's page tables; the real MemoryManager
 * has its own tests.
 *
 * <p>It is handed out as a {@link MemoryManager} through a proxy ({@link #mm()}), so calls the
 * fake does not implement fail with UnsupportedOperationException and the facade can grow
 * without breaking it.
 */
public final class FakeMemory {
    static final long MMAP_TOP = 0x7f00_0000_0000L;
    static final long BRK_START = 0x0100_0000L;
    static final long VM_READ = 1;
    static final long VM_WRITE = 2;
    static final long VM_EXEC = 4;
    static final long VM_SHARED = 8;

    private record Vma(long start, long end, int prot, long extraFlags) {
    }

    /** A scripted park: the first access to a page waits until released. */
    public static final class Park {
        final CountDownLatch parked = new CountDownLatch(1);
        final CountDownLatch released = new CountDownLatch(1);

        public void awaitParked() throws InterruptedException {
            parked.await();
        }

        public void release() {
            released.countDown();
        }
    }

    private final MmConfig config;
    private final long pageSize;
    private final TreeMap<Long, Vma> vmas = new TreeMap<>();
    private final Map<Long, byte[]> pages = new HashMap<>();
    private final Map<Long, Park> parks = new ConcurrentHashMap<>();
    private final Map<Long, Park> loadParks = new ConcurrentHashMap<>();
    private long brkStart = BRK_START;
    private long brk = BRK_START;

    private final MemoryManager proxy;

    public FakeMemory(Granule granule) {
        this.config = MmConfig.arm64(granule);
        this.pageSize = granule.pageSize();
        this.proxy = (MemoryManager) java.lang.reflect.Proxy.newProxyInstance(MemoryManager.class.getClassLoader(),
                new Class<?>[] {MemoryManager.class}, (self, method, args) -> {
                    if (method.getDeclaringClass() == Object.class) {
                        return switch (method.getName()) {
                            case "equals" -> self == args[0];
                            case "hashCode" -> System.identityHashCode(self);
                            default -> "FakeMemory(" + granule + ")";
                        };
                    }
                    java.lang.reflect.Method impl;
                    try {
                        impl = FakeMemory.class.getMethod(method.getName(), method.getParameterTypes());
                    } catch (NoSuchMethodException e) {
                        throw new UnsupportedOperationException("fake memory has no " + method.getName());
                    }
                    try {
                        return impl.invoke(this, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** This fake as the facade. */
    public MemoryManager mm() {
        return proxy;
    }

    public enum Touch { LOAD, STORE }

    /** The next {@code touch} of the page of {@code addr} parks in a "userfault" until released. */
    public Park parkOn(long addr, Touch touch) {
        Park p = new Park();
        (touch == Touch.LOAD ? loadParks : parks).put(addr & -pageSize, p);
        return p;
    }

    public MmConfig config() {
        return config;
    }

    public long pageSize() {
        return pageSize;
    }

    // --- syscalls -----------------------------------------------------------------------------------

    public synchronized long mmap(long addr, long len, int prot, int flags) {
        if ((flags & MapFlags.ANONYMOUS) == 0 || len <= 0) {
            throw new ErrnoException(Errno.EINVAL, "fake mmap supports anonymous memory only, len " + len);
        }
        len = align(len);
        long extra = (flags & MapFlags.TYPE) == MapFlags.SHARED ? VM_SHARED : 0;
        if ((flags & MapFlags.FIXED) != 0) {
            if ((addr & (pageSize - 1)) != 0) {
                throw new ErrnoException(Errno.EINVAL, "unaligned MAP_FIXED 0x" + Long.toHexString(addr));
            }
            unmapRange(addr, addr + len);
        } else {
            addr = findGap(len);
        }
        vmas.put(addr, new Vma(addr, addr + len, prot, extra));
        merge();
        return addr;
    }

    private long findGap(long len) {
        long cand = MMAP_TOP - len;
        for (Vma v : vmas.descendingMap().values()) {
            if (v.start >= cand + len) {
                continue;
            }
            if (v.end <= cand) {
                break;
            }
            cand = v.start - len;
        }
        return cand;
    }

    public long mmap(long addr, long len, int prot, int flags, Memfd fd, long offset) {
        throw new UnsupportedOperationException("fake memory has no memfds");
    }

    public Memfd memfdCreate(String name, long size) {
        throw new UnsupportedOperationException("fake memory has no memfds");
    }

    public synchronized void munmap(long addr, long len) {
        unmapRange(addr, addr + align(len));
        merge();
    }

    public synchronized void mprotect(long addr, long len, int prot) {
        long end = addr + align(len);
        requireMapped(addr, end, "mprotect");
        split(addr);
        split(end);
        for (Vma v : new ArrayList<>(vmas.subMap(addr, end).values())) {
            vmas.put(v.start, new Vma(v.start, v.end, prot, v.extraFlags));
        }
        merge();
    }

    public synchronized long mremap(long oldAddr, long oldLen, long newLen, int flags, long newAddr) {
        if (flags != (MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED) || oldLen != newLen) {
            throw new ErrnoException(Errno.EINVAL, "fake mremap moves same-size ranges only");
        }
        long len = align(oldLen);
        requireMapped(oldAddr, oldAddr + len, "mremap");
        split(oldAddr);
        split(oldAddr + len);
        List<Vma> moving = new ArrayList<>(vmas.subMap(oldAddr, oldAddr + len).values());
        Map<Long, byte[]> moved = new HashMap<>();
        for (long a = oldAddr; a < oldAddr + len; a += pageSize) {
            byte[] p = pages.remove(a);
            if (p != null) {
                moved.put(a - oldAddr + newAddr, p);
            }
        }
        for (Vma v : moving) {
            vmas.remove(v.start);
        }
        unmapRange(newAddr, newAddr + len);
        for (Vma v : moving) {
            vmas.put(v.start - oldAddr + newAddr, new Vma(v.start - oldAddr + newAddr, v.end - oldAddr + newAddr, v.prot, v.extraFlags));
        }
        pages.putAll(moved);
        merge();
        return newAddr;
    }

    public synchronized void madvise(long addr, long len, int advice) {
        long end = addr + align(len);
        requireMapped(addr, end, "madvise");
        if (advice == Madvise.DONTNEED) {
            for (long a = addr; a < end; a += pageSize) {
                pages.remove(a);
            }
        }
    }

    public synchronized long brk(long addr) {
        if (addr < brkStart) {
            return brk;
        }
        long oldEnd = align(brk);
        long newEnd = align(addr);
        if (newEnd > oldEnd) {
            for (Vma v : vmas.values()) {
                if (v.start < newEnd && v.end > oldEnd) {
                    return brk;
                }
            }
            vmas.put(oldEnd, new Vma(oldEnd, newEnd, Prot.READ | Prot.WRITE, 0));
        } else if (newEnd < oldEnd) {
            unmapRange(newEnd, oldEnd);
        }
        brk = addr;
        merge();
        return brk;
    }

    public synchronized long brkStart() {
        return brkStart;
    }

    public synchronized void setBrk(long startBrk, long newBrk) {
        if (newBrk < startBrk) {
            throw new ErrnoException(Errno.EINVAL, "brk below start_brk");
        }
        brkStart = startBrk;
        brk = newBrk;
    }

    public Userfaultfd userfaultfd(int flags) {
        throw new UnsupportedOperationException("fake memory has no userfaultfd");
    }

    // --- loads and stores ---------------------------------------------------------------------------

    public int load8(long addr) {
        return (int) load(addr, 1);
    }

    public int load16(long addr) {
        return (int) load(addr, 2);
    }

    public int load32(long addr) {
        return (int) load(addr, 4);
    }

    public long load64(long addr) {
        return load(addr, 8);
    }

    public void store8(long addr, long value) {
        store(addr, 1, value);
    }

    public void store16(long addr, long value) {
        store(addr, 2, value);
    }

    public void store32(long addr, long value) {
        store(addr, 4, value);
    }

    public void store64(long addr, long value) {
        store(addr, 8, value);
    }

    public void read(long addr, byte[] dst) {
        for (int i = 0; i < dst.length; i++) {
            dst[i] = (byte) load(addr + i, 1);
        }
    }

    public void write(long addr, byte[] src) {
        for (int i = 0; i < src.length; i++) {
            store(addr + i, 1, src[i]);
        }
    }

    private long load(long addr, int size) {
        maybePark(addr, false);
        synchronized (this) {
            access(addr, size, false);
            long v = 0;
            for (int i = size - 1; i >= 0; i--) {
                byte[] p = pages.get((addr + i) & -pageSize);
                v = (v << 8) | (p == null ? 0 : p[(int) ((addr + i) & (pageSize - 1))] & 0xff);
            }
            return size == 8 ? v : v & ((1L << (8 * size)) - 1);
        }
    }

    private void store(long addr, int size, long value) {
        maybePark(addr, true);
        synchronized (this) {
            access(addr, size, true);
            for (int i = 0; i < size; i++) {
                long a = addr + i;
                byte[] p = pages.computeIfAbsent(a & -pageSize, k -> new byte[(int) pageSize]);
                p[(int) (a & (pageSize - 1))] = (byte) (value >>> (8 * i));
            }
        }
    }

    private void maybePark(long addr, boolean write) {
        Park p = (write ? parks : loadParks).remove(addr & -pageSize);
        if (p == null) {
            return;
        }
        FaultWait.enter(addr, write);
        p.parked.countDown();
        try {
            p.released.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        FaultWait.exit(addr);
    }

    private void access(long addr, int size, boolean write) {
        Map.Entry<Long, Vma> e = vmas.floorEntry(addr);
        if (e == null || e.getValue().end < addr + size) {
            throw new SegmentationFault(SegmentationFault.SIGSEGV, SegmentationFault.SEGV_MAPERR, addr, write, "no VMA");
        }
        int need = write ? Prot.WRITE : Prot.READ;
        if ((e.getValue().prot & need) == 0) {
            throw new SegmentationFault(SegmentationFault.SIGSEGV, SegmentationFault.SEGV_ACCERR, addr, write,
                    "VMA protection " + e.getValue().prot);
        }
    }

    // --- views ----------------------------------------------------------------------------------------

    public long pagemapEntry(long addr) {
        throw new UnsupportedOperationException();
    }

    public void clearRefs(int value) {
        throw new UnsupportedOperationException();
    }

    public int pagemapScan(PmScanArg arg) {
        throw new UnsupportedOperationException();
    }

    public long rawPte(long addr) {
        throw new UnsupportedOperationException();
    }

    public List<dev.pagehop.mm.WalkStep> walk(long addr) {
        throw new UnsupportedOperationException("fake memory has no page tables");
    }

    public long pageTablePages() {
        return 0;
    }

    public long pageTablesPopulated() {
        return 0;
    }

    public synchronized List<VmaInfo> vmas() {
        List<VmaInfo> out = new ArrayList<>();
        for (Vma v : vmas.values()) {
            out.add(new VmaInfo(v.start, v.end, v.prot, (v.prot & 7) | v.extraFlags, null, 0));
        }
        return out;
    }

    public synchronized void peek(long addr, byte[] dst, int offset, int length) {
        requireMapped(addr, addr + length, "peek");
        for (int i = 0; i < length; i++) {
            byte[] p = pages.get((addr + i) & -pageSize);
            dst[offset + i] = p == null ? 0 : p[(int) ((addr + i) & (pageSize - 1))];
        }
    }

    public void close() {
    }

    // --- helpers --------------------------------------------------------------------------------------

    private long align(long len) {
        return (len + pageSize - 1) & -pageSize;
    }

    private void requireMapped(long start, long end, String call) {
        long a = start;
        while (a < end) {
            Map.Entry<Long, Vma> e = vmas.floorEntry(a);
            if (e == null || e.getValue().end <= a) {
                throw new ErrnoException(Errno.ENOMEM, call + ": 0x" + Long.toHexString(a) + " is not mapped");
            }
            a = e.getValue().end;
        }
    }

    private void split(long at) {
        Map.Entry<Long, Vma> e = vmas.lowerEntry(at);
        if (e != null && e.getValue().end > at) {
            Vma v = e.getValue();
            vmas.put(v.start, new Vma(v.start, at, v.prot, v.extraFlags));
            vmas.put(at, new Vma(at, v.end, v.prot, v.extraFlags));
        }
    }

    private void unmapRange(long start, long end) {
        split(start);
        split(end);
        for (Iterator<Vma> it = vmas.subMap(start, end).values().iterator(); it.hasNext(); ) {
            it.next();
            it.remove();
        }
        for (long a = start; a < end; a += pageSize) {
            pages.remove(a);
        }
    }

    private void merge() {
        Vma prev = null;
        for (Vma v : new ArrayList<>(vmas.values())) {
            if (prev != null && prev.end == v.start && prev.prot == v.prot && prev.extraFlags == v.extraFlags) {
                vmas.remove(v.start);
                prev = new Vma(prev.start, v.end, prev.prot, prev.extraFlags);
                vmas.put(prev.start, prev);
            } else {
                prev = v;
            }
        }
    }
}
