package dev.pagehop.cpu;

import dev.pagehop.mm.Errno;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Memfd;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.uffd.PmScanArg;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.SegmentationFault;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.uffd.Userfaultfd;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A deliberately simple address space for instruction-semantics tests: 4 KiB pages in a hash
 * map, a protection per page, SIGSEGV on unmapped or forbidden access. It implements only what
 * the interpreter and its unit tests use; the real MMU is {@link MemoryManager#create}.
 */
public final class FlatMemory implements MemoryManager {
    private static final int PAGE = 4096;
    private final Map<Long, byte[]> pages = new HashMap<>();
    private final TreeMap<Long, Integer> prot = new TreeMap<>();
    private long nextMmap = 0x7000_0000_0000L;
    private long brkStart;
    private long brk;

    @Override
    public MmConfig config() {
        return MmConfig.arm64(Granule.K4);
    }

    @Override
    public long pageSize() {
        return PAGE;
    }

    @Override
    public long mmap(long addr, long len, int p, int flags) {
        long length = (len + PAGE - 1) & -PAGE;
        long start = (flags & MapFlags.FIXED) != 0 ? addr : (nextMmap -= length);
        for (long a = start; a < start + length; a += PAGE) {
            pages.put(a, new byte[PAGE]);
            prot.put(a, p);
        }
        return start;
    }

    @Override
    public long mmap(long addr, long len, int p, int flags, Memfd fd, long offset) {
        throw new UnsupportedOperationException("memfd mappings are not part of the flat test memory");
    }

    @Override
    public Memfd memfdCreate(String name, long size) {
        throw new UnsupportedOperationException("memfd is not part of the flat test memory");
    }

    @Override
    public void munmap(long addr, long len) {
        for (long a = addr; a < addr + len; a += PAGE) {
            pages.remove(a);
            prot.remove(a);
        }
    }

    @Override
    public void mprotect(long addr, long len, int p) {
        for (long a = addr; a < addr + len; a += PAGE) {
            if (!prot.containsKey(a)) {
                throw new ErrnoException(Errno.ENOMEM, "mprotect of unmapped page " + Long.toHexString(a));
            }
            prot.put(a, p);
        }
    }

    @Override
    public long mremap(long oldAddr, long oldLen, long newLen, int flags, long newAddr) {
        throw new UnsupportedOperationException("mremap is not part of the flat test memory");
    }

    @Override
    public void madvise(long addr, long len, int advice) {
    }

    @Override
    public long brk(long addr) {
        if (addr < brkStart) {
            return brk;
        }
        long oldTop = (brk + PAGE - 1) & -PAGE;
        long newTop = (addr + PAGE - 1) & -PAGE;
        for (long a = oldTop; a < newTop; a += PAGE) {
            pages.put(a, new byte[PAGE]);
            prot.put(a, Prot.READ | Prot.WRITE);
        }
        brk = addr;
        return brk;
    }

    @Override
    public MemoryManager fork() {
        throw new UnsupportedOperationException("fork is not part of the flat test memory");
    }

    @Override
    public Userfaultfd userfaultfd(int flags) {
        throw new UnsupportedOperationException("userfaultfd is not part of the flat test memory");
    }

    private byte[] page(long addr, boolean write) {
        long base = addr & -PAGE;
        Integer p = prot.get(base);
        if (p == null) {
            throw new SegmentationFault(SegmentationFault.SIGSEGV, SegmentationFault.SEGV_MAPERR, addr, write,
                    "no mapping");
        }
        if ((p & (write ? Prot.WRITE : Prot.READ)) == 0) {
            throw new SegmentationFault(SegmentationFault.SIGSEGV, SegmentationFault.SEGV_ACCERR, addr, write,
                    "protection " + p);
        }
        return pages.get(base);
    }

    private long loadN(long addr, int n) {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (page(addr + i, false)[(int) ((addr + i) & (PAGE - 1))] & 0xFFL) << (8 * i);
        }
        return v;
    }

    private void storeN(long addr, long v, int n) {
        for (int i = 0; i < n; i++) {
            page(addr + i, true);
        }
        for (int i = 0; i < n; i++) {
            page(addr + i, true)[(int) ((addr + i) & (PAGE - 1))] = (byte) (v >>> (8 * i));
        }
    }

    @Override
    public int load8(long addr) {
        return (int) loadN(addr, 1);
    }

    @Override
    public int load16(long addr) {
        return (int) loadN(addr, 2);
    }

    @Override
    public int load32(long addr) {
        return (int) loadN(addr, 4);
    }

    @Override
    public long load64(long addr) {
        return loadN(addr, 8);
    }

    @Override
    public void store8(long addr, long value) {
        storeN(addr, value, 1);
    }

    @Override
    public void store16(long addr, long value) {
        storeN(addr, value, 2);
    }

    @Override
    public void store32(long addr, long value) {
        storeN(addr, value, 4);
    }

    @Override
    public void store64(long addr, long value) {
        storeN(addr, value, 8);
    }

    @Override
    public void read(long addr, byte[] dst) {
        for (int i = 0; i < dst.length; i++) {
            dst[i] = (byte) load8(addr + i);
        }
    }

    @Override
    public void write(long addr, byte[] src) {
        for (int i = 0; i < src.length; i++) {
            store8(addr + i, src[i]);
        }
    }

    @Override
    public long pagemapEntry(long addr) {
        return 0;
    }

    @Override
    public void clearRefs(int value) {
    }

    @Override
    public int pagemapScan(PmScanArg arg) {
        throw new UnsupportedOperationException("PAGEMAP_SCAN is not part of the flat test memory");
    }

    @Override
    public long rawPte(long addr) {
        return 0;
    }

    @Override
    public List<VmaInfo> vmas() {
        List<VmaInfo> out = new ArrayList<>();
        for (Map.Entry<Long, Integer> e : prot.entrySet()) {
            out.add(new VmaInfo(e.getKey(), e.getKey() + PAGE, e.getValue(), 0, null, 0));
        }
        return out;
    }

    @Override
    public long brkStart() {
        return brkStart;
    }

    @Override
    public void setBrk(long startBrk, long newBrk) {
        brkStart = startBrk;
        brk = newBrk;
    }

    @Override
    public void peek(long addr, byte[] dst, int offset, int length) {
        for (int i = 0; i < length; i++) {
            dst[offset + i] = (byte) loadN(addr + i, 1);
        }
    }

    @Override
    public void close() {
    }
}
