package dev.pagehop.track;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One address space, one tracker, and the truth: the workload stores through {@link #mem}
 * (which logs every write), the tracker watches the plain address space. Soft-dirty gets the
 * hypothetical arm64 soft-dirty kernel and a writer freeze built on a read-write lock that every
 * store through {@link #store} holds for reading.
 */
final class TrackerFixture implements AutoCloseable {
    static final int RW = Prot.READ | Prot.WRITE;
    static final int ANON = MapFlags.PRIVATE | MapFlags.ANONYMOUS;

    final MemoryManager mm;
    final MemoryManager mem;
    final TrueWriteLog log;
    final DirtyTracker tracker;
    final long p;
    final ReentrantReadWriteLock writers = new ReentrantReadWriteLock();

    TrackerFixture(String name, Granule g) {
        this(name, MmConfig.arm64(g));
    }

    TrackerFixture(String name, MmConfig base) {
        MmConfig config = SoftDirtyTracker.NAME.equals(name) ? base.withSoftDirty(true) : base;
        this.mm = MemoryManager.create(config);
        this.p = mm.pageSize();
        this.log = new TrueWriteLog(p);
        this.mem = WriteRecordingMemory.wrap(mm, log);
        WriterFreeze freeze = () -> {
            writers.writeLock().lock();
            return () -> writers.writeLock().unlock();
        };
        this.tracker = DirtyTrackers.create(name, mm, TrackerOptions.defaults().withTrueWriteLog(log)
                .withWriterFreeze(freeze));
    }

    long map(long pages) {
        return mm.mmap(0, pages * p, RW, ANON);
    }

    /** A store as a vCPU makes it: logged, and holding off a soft-dirty freeze. */
    void store(long addr, long value) {
        writers.readLock().lock();
        try {
            mem.store64(addr, value);
        } finally {
            writers.readLock().unlock();
        }
    }

    void storePages(long base, long... pageIndexes) {
        for (long i : pageIndexes) {
            store(base + i * p, i + 1);
        }
    }

    List<PageRange> pages(long base, long... pageIndexes) {
        RangeList l = new RangeList();
        TreeSet<Long> sorted = new TreeSet<>();
        for (long i : pageIndexes) {
            sorted.add(i);
        }
        for (long i : sorted) {
            l.add(base + i * p, base + (i + 1) * p);
        }
        return l.toList();
    }

    static TreeSet<Long> pageSet(List<PageRange> ranges, long p) {
        TreeSet<Long> s = new TreeSet<>();
        for (PageRange r : ranges) {
            for (long a = r.start(); a < r.end(); a += p) {
                s.add(a);
            }
        }
        return s;
    }

    static List<Object[]> matrix() {
        List<Object[]> out = new ArrayList<>();
        for (String n : DirtyTrackers.NAMES) {
            for (Granule g : Granule.values()) {
                out.add(new Object[] {n, g});
            }
        }
        return out;
    }

    @Override
    public void close() {
        tracker.stop();
        mm.close();
    }
}
