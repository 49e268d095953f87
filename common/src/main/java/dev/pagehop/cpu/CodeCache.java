package dev.pagehop.cpu;

import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.SegmentationFault;
import dev.pagehop.mm.VmaInfo;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decoded instructions of one address space, by address, in 4 KiB blocks. A block covers only
 * code mapped executable and not writable: such pages can change only through mmap, munmap,
 * mprotect, mremap or madvise, and whoever makes those calls for the process calls
 * {@link #invalidate()}. Code on writable pages is decoded at every execution, so a program
 * that writes its own code always runs what it wrote. IC IVAU also invalidates.
 *
 * <p>Not thread-safe: shared only by the vCPUs that one thread runs in turn. vCPUs on different
 * threads each have their own cache over one shared {@link AtomicLong} epoch: an invalidation
 * by any of them bumps it, and every cache drops its blocks at its next block lookup (a thread
 * finishes at most the block it is in, as a CPU may still run instructions it fetched before
 * another CPU's munmap).
 */
public final class CodeCache {
    /** 4 KiB: no granule has a smaller page, so one block never spans two protections. */
    static final int BLOCK_SHIFT = 12;
    static final int BLOCK_INSNS = 1 << (BLOCK_SHIFT - 2);
    private static final long EMPTY = -1;

    private final MemoryManager mm;
    private final AtomicLong epoch;
    private long seenEpoch;
    private long[] keys;
    private Decoded[][] blocks;
    private int size;
    private long invalidations;

    public CodeCache(MemoryManager mm) {
        this(mm, new AtomicLong());
    }

    /** A cache of one of several threads of the same address space, invalidated through {@code sharedEpoch}. */
    public CodeCache(MemoryManager mm, AtomicLong sharedEpoch) {
        this.mm = mm;
        this.epoch = sharedEpoch;
        this.seenEpoch = sharedEpoch.get();
        clear(64);
    }

    /**
     * Drops every decoded instruction of this cache and of every cache sharing its epoch; the
     * next execution of each address decodes it again.
     */
    public void invalidate() {
        invalidations++;
        seenEpoch = epoch.incrementAndGet();
        if (size > 0) {
            clear(keys.length);
        }
    }

    public long invalidations() {
        return invalidations;
    }

    /** Number of 4 KiB code blocks holding decoded instructions. */
    public int cachedBlocks() {
        return size;
    }

    private void clear(int capacity) {
        keys = new long[capacity];
        java.util.Arrays.fill(keys, EMPTY);
        blocks = new Decoded[capacity][];
        size = 0;
    }

    /**
     * The block for {@code pc}, or null if the page is executable but writable (not cached).
     * Raises the SIGSEGV an instruction fetch from unmapped or non-executable memory gets.
     */
    Decoded[] block(long pc) {
        long e = epoch.get();
        if (e != seenEpoch) {
            seenEpoch = e;
            if (size > 0) {
                clear(keys.length);
            }
        }
        long key = pc >>> BLOCK_SHIFT;
        int mask = keys.length - 1;
        int i = (int) (key * 0x9E3779B97F4A7C15L >>> 40) & mask;
        while (keys[i] != EMPTY) {
            if (keys[i] == key) {
                return blocks[i];
            }
            i = (i + 1) & mask;
        }
        VmaInfo vma = vmaOf(pc);
        if (vma == null) {
            throw new SegmentationFault(SegmentationFault.SIGSEGV, SegmentationFault.SEGV_MAPERR, pc, false,
                    "instruction fetch from unmapped address");
        }
        if ((vma.prot() & Prot.EXEC) == 0) {
            throw new SegmentationFault(SegmentationFault.SIGSEGV, SegmentationFault.SEGV_ACCERR, pc, false,
                    String.format("instruction fetch from non-executable mapping 0x%x-0x%x (prot %d)",
                            vma.start(), vma.end(), vma.prot()));
        }
        if ((vma.prot() & Prot.WRITE) != 0) {
            return null;
        }
        if ((size + 1) * 2 > keys.length) {
            grow();
            return block(pc);
        }
        Decoded[] b = new Decoded[BLOCK_INSNS];
        keys[i] = key;
        blocks[i] = b;
        size++;
        return b;
    }

    private VmaInfo vmaOf(long addr) {
        for (VmaInfo v : mm.vmas()) {
            if (Long.compareUnsigned(addr, v.start()) >= 0 && Long.compareUnsigned(addr, v.end()) < 0) {
                return v;
            }
        }
        return null;
    }

    private void grow() {
        long[] oldKeys = keys;
        Decoded[][] oldBlocks = blocks;
        clear(oldKeys.length * 2);
        int mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != EMPTY) {
                int i = (int) (oldKeys[j] * 0x9E3779B97F4A7C15L >>> 40) & mask;
                while (keys[i] != EMPTY) {
                    i = (i + 1) & mask;
                }
                keys[i] = oldKeys[j];
                blocks[i] = oldBlocks[j];
                size++;
            }
        }
    }
}
