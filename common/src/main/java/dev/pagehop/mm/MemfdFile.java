package dev.pagehop.mm;

import java.util.Arrays;

/**
 * A shmem file: the page cache of a memfd (or of shared anonymous memory, which Linux backs
 * with an internal shmem file). Pages are frames of the machine's {@link PhysMem}, allocated on
 * first touch; the cache holds one reference on each.
 */
final class MemfdFile implements Memfd {
    final PhysMem phys;
    private final String name;
    private final long size;
    final boolean internal;
    /** frame index per file page, -1 = hole. Guarded by this. */
    private int[] pages;
    /**
     * Address spaces that have mapped this file (the kernel's i_mmap, per mm rather than per VMA):
     * a hole punched through one mapping must reach the others, a forked child's included.
     * Weakly held, since an address space that went away maps nothing. Guarded by this.
     */
    private final java.util.Set<AddressSpace> mappers = java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>());

    MemfdFile(PhysMem phys, String name, long size, boolean internal) {
        this.phys = phys;
        this.name = name;
        this.size = size;
        this.internal = internal;
        long n = (size + phys.pageSize - 1) >>> phys.pageShift;
        if (n > Integer.MAX_VALUE - 8) {
            throw new ErrnoException(Errno.EFBIG, "memfd '" + name + "' size " + size + " too large");
        }
        this.pages = new int[(int) n];
        Arrays.fill(pages, -1);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return size;
    }

    long pageCount() {
        return pages.length;
    }

    /** The frame at {@code index}, -1 if the page was never touched. */
    synchronized int lookup(long index) {
        return index < pages.length ? pages[(int) index] : -1;
    }

    /** shmem_get_folio(SGP_CACHE): the frame at {@code index}, allocated zeroed if absent. */
    synchronized int getOrCreate(long index) {
        int f = pages[(int) index];
        if (f < 0) {
            f = phys.alloc(PhysMem.KIND_SHMEM);
            pages[(int) index] = f;
        }
        return f;
    }

    /** Installs {@code frame} (already holding the cache's reference) unless a page exists. */
    synchronized boolean install(long index, int frame) {
        if (pages[(int) index] >= 0) {
            return false;
        }
        pages[(int) index] = frame;
        return true;
    }

    synchronized void mappedBy(AddressSpace mm) {
        mappers.add(mm);
    }

    synchronized java.util.List<AddressSpace> mappers() {
        return new java.util.ArrayList<>(mappers);
    }

    /** Hole punch (MADV_REMOVE / fallocate PUNCH_HOLE): drops the cache's reference. */
    synchronized void punch(long fromIndex, long toIndex) {
        for (long i = fromIndex; i < Math.min(toIndex, pages.length); i++) {
            int f = pages[(int) i];
            if (f >= 0) {
                pages[(int) i] = -1;
                phys.put(f);
            }
        }
    }

    @Override
    public String toString() {
        return "memfd:" + name + " (" + size + " bytes)";
    }
}
