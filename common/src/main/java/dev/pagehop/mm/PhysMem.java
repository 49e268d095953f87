package dev.pagehop.mm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Physical memory of one emulated machine: page frames off-heap, shared by every address space
 * forked from the first one and by their memfds. Frames are numbered by index; the PFN is
 * {@code basePfn + index}, with DRAM starting at 1 GiB as on QEMU's arm64 "virt" board.
 * Each frame carries a reference count (page refcount: mappings plus page-cache and
 * page-table uses) and a map count (how many PTEs map it, for PM_MMAP_EXCLUSIVE).
 *
 * <p>Frames are carved from off-heap chunks of host memory ({@link HostMemory}: 2 MiB of
 * anonymous memory each, fresh or recycled from machines that ended); a THP takes a naturally aligned run of frames from one
 * dedicated segment. Freed frames are zeroed when handed out again.
 */
final class PhysMem {
    static final long PHYS_BASE = 0x4000_0000L;

    static final byte KIND_FREE = 0;
    static final byte KIND_ANON = 1;
    static final byte KIND_SHMEM = 2;
    static final byte KIND_ZERO = 3;
    static final byte KIND_TABLE = 4;

    final int pageShift;
    final long pageSize;
    final long basePfn;
    final int zeroFrame;

    private final Arena arena = Arena.ofShared();
    private volatile MemorySegment[] frames = new MemorySegment[1024];
    private int[] refcount = new int[1024];
    private int[] mapcount = new int[1024];
    private byte[] kind = new byte[1024];
    private int next;
    private MemorySegment chunk;
    private long chunkUsed;
    private int[] freeStack = new int[256];
    private int freeTop;
    private long framesInUse;
    private int users;
    private boolean closed;

    PhysMem(int pageShift) {
        this.pageShift = pageShift;
        this.pageSize = 1L << pageShift;
        this.basePfn = PHYS_BASE >>> pageShift;
        this.zeroFrame = alloc(KIND_ZERO);
    }

    synchronized void retain() {
        if (closed) {
            throw new IllegalStateException("physical memory already released");
        }
        users++;
    }

    /** Drops one user; the last one frees all frames at once. */
    synchronized void release() {
        if (--users == 0) {
            closed = true;
            arena.close();
        }
    }

    MemorySegment frame(int idx) {
        return frames[idx];
    }

    long pfn(int idx) {
        return basePfn + idx;
    }

    long pa(int idx) {
        return (basePfn + idx) << pageShift;
    }

    int indexOfPa(long pa) {
        return (int) ((pa >>> pageShift) - basePfn);
    }

    synchronized int alloc(byte k) {
        int idx;
        if (freeTop > 0) {
            idx = freeStack[--freeTop];
            frames[idx].fill((byte) 0);
        } else {
            idx = carve();
        }
        refcount[idx] = 1;
        mapcount[idx] = 0;
        kind[idx] = k;
        framesInUse++;
        return idx;
    }

    /** A naturally aligned run of {@code n} frames (a THP), or -1 if memory cannot be had. */
    synchronized int allocContiguous(int n, byte k) {
        int first = (int) (((basePfn + next + n - 1) / n) * n - basePfn);
        while (next < first) {
            pushFree(carve());
        }
        ensureCapacity(first + n);
        MemorySegment block = HostMemory.allocate(arena, n * pageSize, pageSize);
        for (int i = 0; i < n; i++) {
            frames[first + i] = block.asSlice(i * pageSize, pageSize);
            refcount[first + i] = 1;
            mapcount[first + i] = 0;
            kind[first + i] = k;
        }
        next = first + n;
        framesInUse += n;
        return first;
    }

    private int carve() {
        if (chunk == null || chunkUsed + pageSize > chunk.byteSize()) {
            chunk = pageSize <= HostMemory.CHUNK_BYTES ? HostMemory.chunk(arena)
                    : HostMemory.allocate(arena, pageSize, pageSize);
            chunkUsed = 0;
        }
        ensureCapacity(next + 1);
        MemorySegment[] f = frames;
        f[next] = chunk.asSlice(chunkUsed, pageSize);
        chunkUsed += pageSize;
        return next++;
    }

    private void ensureCapacity(int n) {
        if (n <= kind.length) {
            return;
        }
        int cap = Math.max(n, kind.length * 2);
        frames = Arrays.copyOf(frames, cap);
        refcount = Arrays.copyOf(refcount, cap);
        mapcount = Arrays.copyOf(mapcount, cap);
        kind = Arrays.copyOf(kind, cap);
    }

    private void pushFree(int idx) {
        if (freeTop == freeStack.length) {
            freeStack = Arrays.copyOf(freeStack, freeStack.length * 2);
        }
        kind[idx] = KIND_FREE;
        freeStack[freeTop++] = idx;
    }

    synchronized void get(int idx) {
        refcount[idx]++;
    }

    /** put_page: the last reference returns the frame. The zero page is never freed. */
    synchronized void put(int idx) {
        if (idx == zeroFrame) {
            return;
        }
        if (refcount[idx] <= 0) {
            throw new IllegalStateException("frame " + idx + " (pfn 0x" + Long.toHexString(pfn(idx))
                    + ") released with refcount " + refcount[idx]);
        }
        if (--refcount[idx] == 0) {
            framesInUse--;
            pushFree(idx);
        }
    }

    synchronized int refcount(int idx) {
        return refcount[idx];
    }

    synchronized void mapAdd(int idx, int delta) {
        if (idx != zeroFrame) {
            mapcount[idx] += delta;
        }
    }

    synchronized int mapcount(int idx) {
        return mapcount[idx];
    }

    synchronized byte kind(int idx) {
        return kind[idx];
    }

    // ---- the swap device (type 0): page images keyed by swap offset, with swap counts -----------

    private final java.util.HashMap<Long, byte[]> swapData = new java.util.HashMap<>();
    private final java.util.HashMap<Long, Integer> swapCount = new java.util.HashMap<>();
    private long nextSwapOffset = 1;

    /** Writes the frame out to a new swap slot (count 1) and returns its offset. */
    synchronized long swapOut(int idx) {
        long off = nextSwapOffset++;
        byte[] image = new byte[(int) pageSize];
        MemorySegment.copy(frames[idx], java.lang.foreign.ValueLayout.JAVA_BYTE, 0, image, 0, image.length);
        swapData.put(off, image);
        swapCount.put(off, 1);
        return off;
    }

    synchronized byte[] swapImage(long off) {
        byte[] image = swapData.get(off);
        if (image == null) {
            throw new IllegalStateException("swap slot " + off + " is not in use");
        }
        return image;
    }

    /** swap_duplicate: one more pte (a fork child) refers to the slot. */
    synchronized void swapDup(long off) {
        swapCount.merge(off, 1, Integer::sum);
    }

    /** swap_free: the last reference releases the slot. */
    synchronized void swapFree(long off) {
        Integer c = swapCount.get(off);
        if (c == null) {
            throw new IllegalStateException("swap slot " + off + " freed twice");
        }
        if (c == 1) {
            swapCount.remove(off);
            swapData.remove(off);
        } else {
            swapCount.put(off, c - 1);
        }
    }

    synchronized long swapSlotsInUse() {
        return swapData.size();
    }

    synchronized long framesInUse() {
        return framesInUse;
    }
}
