package dev.pagehop.track;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.VmaInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * A migration's view of the contract under VMA churn (CRIU maps007-like): a copy of memory taken
 * at start, then after every collect the ranges reported unmapped dropped and the pages reported
 * written re-read. Whatever the process did in between — stores, MADV_DONTNEED, munmap and mmap
 * again in place, new, moved and removed mappings, mprotect — the copy must equal the process's memory
 * at the end, page for page (pages the copy never saw must read zero).
 */
class TrackerChurnPropertyTest {
    private static final int BASE_PAGES = 32;

    // One property per tracker, so every run exercises all three.
    @Property(tries = 8)
    void uffdWpAsyncCopyEqualsMemory(@ForAll Granule granule, @ForAll long seed) {
        aCopyKeptByCollectsEqualsMemory(UffdWpAsyncTracker.NAME, granule, seed);
    }

    @Property(tries = 8)
    void softDirtyCopyEqualsMemory(@ForAll Granule granule, @ForAll long seed) {
        aCopyKeptByCollectsEqualsMemory(SoftDirtyTracker.NAME, granule, seed);
    }

    @Property(tries = 8)
    void uffdWpSyncCopyEqualsMemory(@ForAll Granule granule, @ForAll long seed) {
        aCopyKeptByCollectsEqualsMemory(UffdWpSyncTracker.NAME, granule, seed);
    }

    private static void aCopyKeptByCollectsEqualsMemory(String name, Granule granule, long seed) {
        try (TrackerFixture f = new TrackerFixture(name, granule)) {
            SplittableRandom rnd = new SplittableRandom(seed);
            long p = f.p;
            long base = f.map(BASE_PAGES);
            for (int i = 0; i < BASE_PAGES; i += 3) {
                f.store(base + i * p, rnd.nextLong());
            }
            List<long[]> extras = new ArrayList<>();
            f.tracker.start();
            Map<Long, byte[]> copy = new HashMap<>();
            for (VmaInfo v : f.mm.vmas()) {
                for (long a = v.start(); a < v.end(); a += p) {
                    copy.put(a, read(f, a));
                }
            }
            for (int step = 0; step < 60; step++) {
                int op = rnd.nextInt(10);
                switch (op) {
                    case 0, 1, 2, 3 -> {
                        List<VmaInfo> vmas = f.mm.vmas();
                        VmaInfo v = vmas.get(rnd.nextInt(vmas.size()));
                        long a = v.start() + rnd.nextLong((v.end() - v.start()) / 8) * 8;
                        if ((v.prot() & Prot.WRITE) != 0) {
                            f.store(a, rnd.nextLong());
                        }
                    }
                    case 4 -> {
                        long first = rnd.nextInt(BASE_PAGES - 4);
                        f.mem.madvise(base + first * p, (1 + rnd.nextInt(4)) * p, Madvise.DONTNEED);
                    }
                    case 5 -> {
                        long first = rnd.nextInt(BASE_PAGES - 4);
                        long len = (1 + rnd.nextInt(4)) * p;
                        f.mm.munmap(base + first * p, len);
                        f.mm.mmap(base + first * p, len, TrackerFixture.RW, TrackerFixture.ANON | MapFlags.FIXED);
                    }
                    case 6 -> {
                        if (extras.size() < 3) {
                            long pages = 1 + rnd.nextInt(6);
                            long e = f.map(pages);
                            extras.add(new long[] {e, pages * p});
                            f.store(e, rnd.nextLong());
                        } else {
                            // Exactly the extra mapping: it may have merged with a neighbour.
                            long[] e = extras.remove(rnd.nextInt(extras.size()));
                            f.mm.munmap(e[0], e[1]);
                        }
                    }
                    case 7 -> {
                        long first = rnd.nextInt(BASE_PAGES - 4);
                        f.mm.mprotect(base + first * p, 2 * p, Prot.READ);
                        f.mm.mprotect(base + first * p, 2 * p, TrackerFixture.RW);
                    }
                    case 8 -> {
                        if (!extras.isEmpty()) {
                            // Move an extra mapping somewhere new (mremap MAYMOVE|FIXED into a hole).
                            long[] e = extras.get(rnd.nextInt(extras.size()));
                            long hole = f.mm.mmap(0, e[1], TrackerFixture.RW, TrackerFixture.ANON);
                            f.mm.munmap(hole, e[1]);
                            e[0] = f.mem.mremap(e[0], e[1], e[1], MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, hole);
                        }
                    }
                    default -> apply(f, copy, f.tracker.collect());
                }
            }
            apply(f, copy, f.tracker.collect());
            for (VmaInfo v : f.mm.vmas()) {
                for (long a = v.start(); a < v.end(); a += p) {
                    byte[] want = read(f, a);
                    byte[] have = copy.getOrDefault(a, new byte[(int) p]);
                    assertThat(have).as("%s: page 0x%x of the copy", name, a).isEqualTo(want);
                }
            }
        }
    }

    /** A loss the property found (sync tracker: a range moved in and unmapped in one round). */
    @net.jqwik.api.Example
    void syncTrackerMoveThenUnmapInOneRound() {
        aCopyKeptByCollectsEqualsMemory(UffdWpSyncTracker.NAME, Granule.K4, -86243410837L);
        aCopyKeptByCollectsEqualsMemory(UffdWpSyncTracker.NAME, Granule.K4, -6023510910411914314L);
    }

    private static byte[] read(TrackerFixture f, long a) {
        byte[] b = new byte[(int) f.p];
        f.mm.peek(a, b, 0, b.length);
        return b;
    }

    private static void apply(TrackerFixture f, Map<Long, byte[]> copy, DirtySet s) {
        for (PageRange r : s.unmapped()) {
            for (long a = r.start(); a < r.end(); a += f.p) {
                copy.remove(a);
            }
        }
        for (PageRange r : s.written()) {
            for (long a = r.start(); a < r.end(); a += f.p) {
                copy.put(a, read(f, a));
            }
        }
    }
}
