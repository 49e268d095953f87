package dev.pagehop.track;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.VmaInfo;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The maps007-like churn of the tracker comparison, as deterministic sequences: slots written and
 * collected, then replaced by mmap(MAP_FIXED), munmap + mmap, or mremap(MREMAP_FIXED), written or
 * not, and collected again. A migration's copy, kept by applying each collect (unmapped dropped,
 * written re-read, pages it never saw read as zeros), must equal memory after every collect: a
 * replaced slot that reads zeros or new contents is reported unmapped or written, never lost.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReplacedSlotTrackerTest {
    private static final long SLOT = 8;

    static List<Object[]> matrix() {
        return TrackerFixture.matrix();
    }

    /** The target's copy of memory, maintained from collects only. */
    private static final class Copy {
        private final TrackerFixture f;
        private final Map<Long, byte[]> pages = new HashMap<>();

        Copy(TrackerFixture f) {
            this.f = f;
            for (VmaInfo v : f.mm.vmas()) {
                for (long a = v.start(); a < v.end(); a += f.p) {
                    pages.put(a, read(a));
                }
            }
        }

        byte[] read(long a) {
            byte[] b = new byte[(int) f.p];
            f.mm.peek(a, b, 0, b.length);
            return b;
        }

        /**
         * Copies [start, end) from memory now, between collects, as a migration does with a range
         * its own layout capture finds newly mapped: its view need not match the tracker's.
         */
        void readBetweenCollects(long start, long end) {
            for (long a = start; a < end; a += f.p) {
                pages.put(a, read(a));
            }
        }

        /** Collects, applies the set and checks every mapped page against the copy. */
        DirtySet collectAndCheck(String when) {
            DirtySet s = f.tracker.collect();
            for (PageRange r : s.unmapped()) {
                for (long a = r.start(); a < r.end(); a += f.p) {
                    pages.remove(a);
                }
            }
            for (PageRange r : s.written()) {
                for (long a = r.start(); a < r.end(); a += f.p) {
                    pages.put(a, read(a));
                }
            }
            for (VmaInfo v : f.mm.vmas()) {
                for (long a = v.start(); a < v.end(); a += f.p) {
                    assertThat(pages.getOrDefault(a, new byte[(int) f.p]))
                            .as("%s, %s: page 0x%x (written %s, unmapped %s)", f.tracker.name(), when, a,
                                    s.written(), s.unmapped())
                            .isEqualTo(read(a));
                }
            }
            return s;
        }
    }

    private static void fill(TrackerFixture f, long slot, long value) {
        for (long i = 0; i < SLOT; i++) {
            f.store(slot + i * f.p, value + i);
        }
    }

    @ParameterizedTest(name = "R-01 mmap FIXED over a written slot, new slot left unwritten or written in part [{0}, {1}]")
    @MethodSource("matrix")
    void mapFixedOverWrittenSlot(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long area = f.map(4 * SLOT);
            long a = area;
            long b = area + SLOT * f.p;
            f.tracker.start();
            Copy copy = new Copy(f);
            fill(f, a, 100);
            fill(f, b, 200);
            copy.collectAndCheck("slots written");
            f.mem.mmap(a, SLOT * f.p, TrackerFixture.RW, TrackerFixture.ANON | MapFlags.FIXED);
            f.mem.mmap(b, SLOT * f.p, TrackerFixture.RW, TrackerFixture.ANON | MapFlags.FIXED);
            f.storePages(b, 2, 5);
            DirtySet s = copy.collectAndCheck("both slots replaced, one written in part");
            assertThat(TrackerFixture.pageSet(s.written(), f.p)).contains(b + 2 * f.p, b + 5 * f.p);
            // and the replaced slots are tracked from here on
            f.storePages(a, 3);
            assertThat(copy.collectAndCheck("after adoption").written()).isEqualTo(f.pages(a, 3));
        }
    }

    @ParameterizedTest(name = "R-02 mmap FIXED across several VMAs, overlapping two in part [{0}, {1}]")
    @MethodSource("matrix")
    void mapFixedAcrossVmas(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long area = f.map(3 * SLOT);
            f.tracker.start();
            Copy copy = new Copy(f);
            fill(f, area, 1);
            fill(f, area + SLOT * f.p, 10);
            fill(f, area + 2 * SLOT * f.p, 20);
            f.mm.mprotect(area + SLOT * f.p, SLOT * f.p, Prot.READ);
            copy.collectAndCheck("three VMAs written");
            f.mem.mmap(area + SLOT / 2 * f.p, 2 * SLOT * f.p, TrackerFixture.RW,
                    TrackerFixture.ANON | MapFlags.FIXED);
            copy.collectAndCheck("replaced across three VMAs");
            f.storePages(area, 4, 5, 19);
            copy.collectAndCheck("written after the replacement");
        }
    }

    @ParameterizedTest(name = "R-03 munmap then mmap at the same address, and mremap FIXED onto a written slot [{0}, {1}]")
    @MethodSource("matrix")
    void unmapMapAndMremapOntoSlot(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long area = f.map(3 * SLOT);
            long a = area;
            long b = area + SLOT * f.p;
            long c = area + 2 * SLOT * f.p;
            f.tracker.start();
            Copy copy = new Copy(f);
            fill(f, a, 1);
            fill(f, b, 10);
            fill(f, c, 20);
            copy.collectAndCheck("slots written");
            f.mem.munmap(a, SLOT * f.p);
            f.mem.mmap(a, SLOT * f.p, TrackerFixture.RW, TrackerFixture.ANON | MapFlags.FIXED_NOREPLACE);
            // c's contents move onto b; c is gone
            f.mem.mremap(c, SLOT * f.p, SLOT * f.p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, b);
            copy.collectAndCheck("a remapped, c moved onto b");
            f.mem.mmap(c, SLOT * f.p, TrackerFixture.RW, TrackerFixture.ANON | MapFlags.FIXED);
            f.storePages(c, 1);
            copy.collectAndCheck("c mapped again");
        }
    }

    /**
     * The history of a page the churn comparison counted as lost: moved away (reported unmapped),
     * then in one round mapped fresh, a written slot moved in, moved out again, mapped fresh,
     * unmapped and mapped fresh once more. It reads zeros and was neither written nor in the
     * previous layout, so nothing is reported: the target maps it afresh with zeros.
     */
    @ParameterizedTest(name = "R-04 moved away, then replaced many times in one round [{0}, {1}]")
    @MethodSource("matrix")
    void movedAwayThenReplacedManyTimes(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long area = f.map(6 * SLOT);
            long a = area;
            long b = area + SLOT * f.p;
            long hole1 = area + 3 * SLOT * f.p;
            long hole2 = area + 5 * SLOT * f.p;
            f.mm.munmap(hole1, SLOT * f.p);
            f.mm.munmap(hole2, SLOT * f.p);
            f.tracker.start();
            Copy copy = new Copy(f);
            fill(f, a, 1);
            fill(f, b, 10);
            copy.collectAndCheck("slots written");
            f.mem.mremap(a, SLOT * f.p, SLOT * f.p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, hole1);
            copy.collectAndCheck("a moved away");
            f.mem.mmap(a, SLOT * f.p, TrackerFixture.RW, TrackerFixture.ANON | MapFlags.FIXED);
            f.mem.mremap(b, SLOT * f.p, SLOT * f.p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, a);
            f.mem.mremap(a, SLOT * f.p, SLOT * f.p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, hole2);
            f.mem.mmap(a, SLOT * f.p, TrackerFixture.RW, TrackerFixture.ANON | MapFlags.FIXED);
            f.mem.munmap(a, SLOT * f.p);
            f.mem.mmap(a, SLOT * f.p, TrackerFixture.RW, TrackerFixture.ANON | MapFlags.FIXED);
            copy.collectAndCheck("a replaced many times");
            fill(f, a, 50);
            copy.collectAndCheck("a written again");
        }
    }

    /**
     * The other history the comparison counted (soft-dirty): a written slot zapped, unmapped and
     * reported gone; then mapped fresh, made read-only and replaced by an unpopulated slot moved
     * in (no VM_SOFTDIRTY, no pte): zeros, nothing to report.
     */
    @ParameterizedTest(name = "R-05 zapped, unmapped, then an unpopulated slot moved in [{0}, {1}]")
    @MethodSource("matrix")
    void zappedUnmappedThenUnpopulatedSlotMovedIn(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long area = f.map(4 * SLOT);
            long a = area;
            long empty = area + 2 * SLOT * f.p;
            f.tracker.start();
            Copy copy = new Copy(f);
            fill(f, a, 1);
            copy.collectAndCheck("slot written");
            f.mem.madvise(a, SLOT * f.p, Madvise.DONTNEED);
            f.mm.load64(a + f.p);
            copy.collectAndCheck("slot zapped, one page read back");
            f.mem.munmap(a, SLOT * f.p);
            copy.collectAndCheck("slot unmapped");
            f.mem.mmap(a, SLOT * f.p, TrackerFixture.RW, TrackerFixture.ANON | MapFlags.FIXED);
            f.mm.mprotect(a, SLOT * f.p, Prot.READ);
            f.mem.mremap(empty, SLOT * f.p, SLOT * f.p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, a);
            copy.collectAndCheck("unpopulated slot moved in");
            f.storePages(a, 0, 7);
            copy.collectAndCheck("moved-in slot written");
        }
    }

    /**
     * A slot mapped after the tracker last looked, read by the consumer before the next collect
     * (a migration sends the VMAs its own capture finds new), then zapped and written in part:
     * the zapped pages read zero but were never written, and only "the whole unarmed range is
     * written" keeps the consumer from holding their old contents.
     */
    @ParameterizedTest(name = "R-06 slot mapped between collects, read by the consumer, zapped and written in part [{0}, {1}]")
    @MethodSource("matrix")
    void slotMappedReadAndZappedBetweenCollects(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long area = f.map(2 * SLOT);
            long a = area + SLOT * f.p;
            f.tracker.start();
            Copy copy = new Copy(f);
            f.mem.munmap(a, SLOT * f.p);
            copy.collectAndCheck("slot unmapped");
            f.mem.mmap(a, SLOT * f.p, TrackerFixture.RW, TrackerFixture.ANON | MapFlags.FIXED);
            fill(f, a, 300);
            copy.readBetweenCollects(a, a + SLOT * f.p);
            f.mem.madvise(a, SLOT * f.p, Madvise.DONTNEED);
            f.storePages(a, 0, 1, 3);
            copy.collectAndCheck("slot mapped, read, zapped and written in part");
            f.storePages(a, 2);
            copy.collectAndCheck("adopted slot written");
        }
    }
}
