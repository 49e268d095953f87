package dev.pagehop.track;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MmConfig;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The DirtyTracker contract, for every tracker and granule. */
@DisplayName("DirtyTracker contract")
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DirtyTrackerContractTest {

    static Stream<Arguments> matrix() {
        return TrackerFixture.matrix().stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "T-01 written pages reported once, coalesced, no false positive [{0}, {1}]")
    @MethodSource("matrix")
    void writtenReportedOnce(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long a = f.map(64);
            // Populated before start, so every later first write is a tracking trap, not a
            // plain fault on an empty pte (which soft-dirty never traps).
            for (int i = 0; i < 64; i++) {
                f.storePages(a, i);
            }
            f.tracker.start();
            assertThat(f.tracker.collect().written()).as("nothing written since start").isEmpty();
            f.storePages(a, 1, 5, 6, 7, 40);
            DirtySet s = f.tracker.collect();
            assertThat(s.written()).isEqualTo(f.pages(a, 1, 5, 6, 7, 40));
            assertThat(s.unmapped()).isEmpty();
            assertThat(s.writtenBytes()).isEqualTo(5 * f.p);
            assertThat(f.tracker.collect().written()).isEmpty();
            TrackerCost c = f.tracker.cost();
            assertThat(c.collects()).isEqualTo(3);
            assertThat(c.pagesReported()).isEqualTo(5);
            assertThat(c.falsePositivePages()).isZero();
            assertThat(c.traps()).isEqualTo(5);
        }
    }

    @ParameterizedTest(name = "T-02 zapped pages reported so the migration sends zeros, also when read back [{0}, {1}]")
    @MethodSource("matrix")
    void zappedReported(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long a = f.map(16);
            f.storePages(a, 0, 1, 2, 3, 4, 5);
            f.tracker.start();
            f.mem.madvise(a + 2 * f.p, 2 * f.p, Madvise.DONTNEED);
            f.mem.madvise(a + 5 * f.p, f.p, Madvise.DONTNEED);
            assertThat(f.mm.load8(a + 5 * f.p)).as("zapped page reads zero (zero page mapped)").isZero();
            DirtySet s = f.tracker.collect();
            assertThat(s.written()).isEqualTo(f.pages(a, 2, 3, 5));
            assertThat(f.tracker.collect().written()).isEmpty();
        }
    }

    @ParameterizedTest(name = "T-03 ranges unmapped since the last collect are reported unmapped [{0}, {1}]")
    @MethodSource("matrix")
    void unmappedReported(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long a = f.map(16);
            f.tracker.start();
            f.storePages(a, 11);
            f.mm.munmap(a + 10 * f.p, 2 * f.p);
            DirtySet s = f.tracker.collect();
            assertThat(s.unmapped()).containsExactly(new PageRange(a + 10 * f.p, a + 12 * f.p));
            assertThat(s.written()).isEmpty();
            assertThat(f.tracker.collect().unmapped()).isEmpty();
        }
    }

    @ParameterizedTest(name = "T-04 a VMA mapped after start is tracked from the next collect [{0}, {1}]")
    @MethodSource("matrix")
    void newVmaAdopted(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            f.map(4);
            f.tracker.start();
            long b = f.map(32);
            f.storePages(b, 3, 4, 20);
            DirtySet s = f.tracker.collect();
            assertThat(TrackerFixture.pageSet(s.written(), f.p)).containsAll(TrackerFixture.pageSet(f.pages(b, 3, 4, 20), f.p));
            if (!name.equals(SoftDirtyTracker.NAME)) {
                // Never armed, so none of it can be vouched for: a consumer may have read the
                // range before the collect, and an unpopulated page there may have been zapped.
                assertThat(s.written()).as("uffd: the whole new VMA, populated or not")
                        .containsExactly(new PageRange(b, b + 32 * f.p));
            } else {
                // VM_SOFTDIRTY marks the whole new VMA, and the whole neighbour it merged with.
                assertThat(TrackerFixture.pageSet(s.written(), f.p)).as("soft-dirty: the whole new VMA")
                        .containsAll(TrackerFixture.pageSet(List.of(new PageRange(b, b + 32 * f.p)), f.p));
                assertThat(RangeList.subtract(s.written(), layoutOf(f)))
                        .as("nothing outside the mapped layout").isEmpty();
            }
            f.storePages(b, 9);
            assertThat(f.tracker.collect().written()).isEqualTo(f.pages(b, 9));
        }
    }

    @ParameterizedTest(name = "T-05 unmapped and mapped again between collects: old contents gone, new writes tracked [{0}, {1}]")
    @MethodSource("matrix")
    void remappedInPlace(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long a = f.map(8);
            f.storePages(a, 0, 1, 2, 3, 4, 5, 6, 7);
            f.tracker.start();
            f.mm.munmap(a, 8 * f.p);
            long b = f.mm.mmap(a, 8 * f.p, TrackerFixture.RW, TrackerFixture.ANON | MapFlags.FIXED);
            assertThat(b).isEqualTo(a);
            f.storePages(a, 6);
            DirtySet s = f.tracker.collect();
            // Either reported gone (then written where populated) or written everywhere: never stale.
            List<PageRange> all = List.of(new PageRange(a, a + 8 * f.p));
            boolean gone = s.unmapped().equals(all);
            assertThat(gone || s.written().equals(all)).as("unmapped %s, written %s", s.unmapped(), s.written()).isTrue();
            assertThat(TrackerFixture.pageSet(s.written(), f.p)).contains(a + 6 * f.p);
            f.storePages(a, 2);
            assertThat(f.tracker.collect().written()).isEqualTo(f.pages(a, 2));
        }
    }

    @ParameterizedTest(name = "T-06 mremap: source reported unmapped, moved contents written at the destination [{0}, {1}]")
    @MethodSource("matrix")
    void mremapMove(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long a = f.map(4);
            f.storePages(a, 0, 1);
            long hole = f.map(16);
            f.mm.munmap(hole, 16 * f.p);
            f.tracker.start();
            long b = f.mem.mremap(a, 4 * f.p, 4 * f.p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, hole);
            DirtySet s = f.tracker.collect();
            assertThat(s.unmapped()).containsExactly(new PageRange(a, a + 4 * f.p));
            assertThat(TrackerFixture.pageSet(s.written(), f.p)).contains(b, b + f.p);
            f.storePages(b, 3);
            assertThat(f.tracker.collect().written()).isEqualTo(f.pages(b, 3));
        }
    }

    /** 4K and 16K only: a 64K-granule PMD block is 512 MiB, too much for one test per tracker here. */
    static Stream<Arguments> thpMatrix() {
        return matrix().filter(a -> a.get()[1] != Granule.K64);
    }

    @ParameterizedTest(name = "T-07 THP: async and sync report the written base page, soft-dirty the whole PMD [{0}, {1}]")
    @MethodSource("thpMatrix")
    void thpGranularity(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long h = g.pmdSize();
            long raw = f.mm.mmap(0, 2 * h, TrackerFixture.RW, TrackerFixture.ANON);
            long a = (raw + h - 1) & -h;
            f.mm.madvise(a, h, Madvise.HUGEPAGE);
            f.store(a, 1);
            f.tracker.start();
            // One empty round, so the pre-start store is outside the write log's one-collect slack.
            f.tracker.collect();
            f.store(a + 7 * f.p, 2);
            DirtySet s = f.tracker.collect();
            if (name.equals(SoftDirtyTracker.NAME)) {
                assertThat(s.written()).containsExactly(new PageRange(a, a + h));
                assertThat(f.tracker.cost().falsePositivePages()).isEqualTo(h / f.p - 1);
            } else {
                assertThat(s.written()).isEqualTo(f.pages(a, 7));
                assertThat(f.tracker.cost().falsePositivePages()).isZero();
            }
        }
    }

    private static List<PageRange> layoutOf(TrackerFixture f) {
        RangeList l = new RangeList();
        f.mm.vmas().forEach(v -> l.add(v.start(), v.end()));
        return l.toList();
    }

    @ParameterizedTest(name = "T-08 soft-dirty false positives on a new VMA are counted against the write log [{0}]")
    @EnumSource(Granule.class)
    void softDirtyNewVmaFalsePositives(Granule g) {
        try (TrackerFixture f = new TrackerFixture(SoftDirtyTracker.NAME, g)) {
            f.tracker.start();
            long b = f.map(10);
            f.storePages(b, 1);
            f.tracker.collect();
            assertThat(f.tracker.cost().falsePositivePages()).isEqualTo(9);
        }
    }

    @ParameterizedTest(name = "T-09 life cycle: collect before start or after stop fails, stop is idempotent [{0}, {1}]")
    @MethodSource("matrix")
    void lifecycle(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            f.map(2);
            assertThatThrownBy(f.tracker::collect).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(name).hasMessageContaining("NEW");
            f.tracker.start();
            assertThatThrownBy(f.tracker::start).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("TRACKING");
            f.tracker.stop();
            f.tracker.stop();
            assertThatThrownBy(f.tracker::collect).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("STOPPED");
        }
    }

    @ParameterizedTest(name = "T-10 stop releases the kernel state: no uffd-wp bits, no soft-dirty tracking left [{0}, {1}]")
    @MethodSource("matrix")
    void stopReleases(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long a = f.map(4);
            f.storePages(a, 0);
            f.tracker.start();
            f.tracker.stop();
            assertThat(f.mm.pagemapEntry(a) & dev.pagehop.mm.Pagemap.PM_UFFD_WP).isZero();
            f.storePages(a, 1);
            assertThat(f.mm.load64(a + f.p)).as("stores proceed, no blocked writer").isEqualTo(2);
        }
    }

    @ParameterizedTest(name = "T-11 a page written before start is not reported; round 0 reads it [{0}, {1}]")
    @MethodSource("matrix")
    void writesBeforeStartNotReported(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long a = f.map(4);
            f.storePages(a, 0, 1, 2, 3);
            f.tracker.start();
            assertThat(f.tracker.collect().written()).isEmpty();
        }
    }

    @ParameterizedTest(name = "T-12 the factory creates each tracker by name [{0}]")
    @EnumSource(Granule.class)
    void factoryNames(Granule g) {
        for (String n : DirtyTrackers.NAMES) {
            try (TrackerFixture f = new TrackerFixture(n, g)) {
                assertThat(f.tracker.name()).isEqualTo(n);
            }
        }
        assertThat(DirtyTrackers.DEFAULT).isEqualTo(UffdWpAsyncTracker.NAME);
    }

    @ParameterizedTest(name = "T-13 soft-dirty refuses a kernel without soft-dirty, naming the fix [{0}]")
    @EnumSource(Granule.class)
    void softDirtyRefusedOnStockKernel(Granule g) {
        try (var mm = dev.pagehop.mm.MemoryManager.create(MmConfig.arm64(g))) {
            assertThatThrownBy(() -> DirtyTrackers.create(SoftDirtyTracker.NAME, mm,
                    TrackerOptions.defaults().withWriterFreeze(WriterFreeze.callerGuaranteesQuiescence())))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("withSoftDirty(true)").hasMessageContaining("uffd-wp-async");
        }
    }

    @ParameterizedTest(name = "T-14 soft-dirty without a writer freeze is refused [{0}]")
    @EnumSource(Granule.class)
    void softDirtyNeedsFreeze(Granule g) {
        try (var mm = dev.pagehop.mm.MemoryManager.create(MmConfig.arm64(g).withSoftDirty(true))) {
            assertThatThrownBy(() -> DirtyTrackers.create(SoftDirtyTracker.NAME, mm, TrackerOptions.defaults()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("WriterFreeze");
        }
    }

    @ParameterizedTest(name = "T-15 arming a sparse mapping populates a PTE table per PMD span, and the tracker counts it [{0}, {1}]")
    @MethodSource("matrix")
    void pageTablesPopulatedCounted(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long h = g.pmdSize();
            // 4 PMD spans, aligned, never touched: no PTE table exists below them yet.
            long raw = f.mm.mmap(0, 5 * h, TrackerFixture.RW, TrackerFixture.ANON);
            long a = (raw + h - 1) & -h;
            long before = f.mm.pageTablesPopulated();
            f.tracker.start();
            long populated = f.tracker.cost().pageTablesPopulated();
            if (name.equals(SoftDirtyTracker.NAME)) {
                assertThat(populated).as("soft-dirty needs nothing for holes (VMA flag)").isZero();
            } else {
                assertThat(populated).as("WP_UNPOPULATED markers need PTE tables (§B.8)").isGreaterThanOrEqualTo(4);
                assertThat(populated).isEqualTo(f.mm.pageTablesPopulated() - before);
            }
            assertThat(a).isGreaterThanOrEqualTo(raw);
        }
    }

    @ParameterizedTest(name = "T-16 cost: every trap and every collect adds its time; false positives need a true write log [{0}, {1}]")
    @MethodSource("matrix")
    void costCountsTimeAndNeedsTheLogForFalsePositives(String name, Granule g) {
        try (TrackerFixture f = new TrackerFixture(name, g)) {
            long a = f.map(8);
            f.storePages(a, 0, 1, 2, 3);
            f.tracker.start();
            TrackerCost idle = f.tracker.cost();
            assertThat(idle.traps()).as("nothing written since start").isZero();
            assertThat(idle.trapNanos()).isZero();
            f.storePages(a, 1, 2);
            f.tracker.collect();
            f.tracker.collect();
            TrackerCost c = f.tracker.cost();
            assertThat(c.traps()).isEqualTo(2);
            // Counted, not compared with anything: a trap or a collect that took no time at all
            // would mean the clock was never read.
            assertThat(c.trapNanos()).as("time in traps").isPositive();
            assertThat(c.collects()).isEqualTo(2);
            assertThat(c.collectNanos()).as("time in collects").isPositive();
            assertThat(c.pagesReported()).isEqualTo(2);
            assertThat(c.falsePositivePages()).isZero();
        }
        try (MemoryManager plain = MemoryManager.create(name.equals(SoftDirtyTracker.NAME)
                ? MmConfig.arm64(g).withSoftDirty(true) : MmConfig.arm64(g));
                DirtyTracker t = DirtyTrackers.create(name, plain,
                        TrackerOptions.defaults().withWriterFreeze(WriterFreeze.callerGuaranteesQuiescence()))) {
            t.start();
            // A VMA mapped after start is reported whole by every tracker; most of it was never
            // written, but without a write log nothing can tell, so nothing is counted.
            plain.mmap(0, 4 * plain.pageSize(), TrackerFixture.RW, TrackerFixture.ANON);
            assertThat(t.collect().writtenBytes()).isPositive();
            assertThat(t.cost().falsePositivePages()).as("production mode counts no false positives").isZero();
        }
    }
}
