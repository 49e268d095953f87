package dev.pagehop.track;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.mm.Granule;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Random stores from several threads interleaved with collect(): the union of everything
 * collected equals the set of pages written (nothing lost), for every tracker. On plain anon
 * memory without VMA changes §B allows no false positive for any of the three mechanisms, so
 * equality, not just inclusion, is asserted.
 */
class TrackerPropertyTest {
    private static final int PAGES = 96;

    // One property per tracker, so every tracker is exercised in every run (a tracker drawn at
    // random could, however unlikely, be left out of a run).
    @Property(tries = 12)
    void uffdWpAsyncLosesNothing(@ForAll Granule granule, @ForAll @IntRange(min = 2, max = 3) int writerCount,
            @ForAll @IntRange(min = 20, max = 400) int storesPerWriter, @ForAll long seed) throws Exception {
        nothingWrittenIsLostAndNothingElseIsReported(UffdWpAsyncTracker.NAME, granule, writerCount, storesPerWriter, seed);
    }

    @Property(tries = 12)
    void softDirtyLosesNothing(@ForAll Granule granule, @ForAll @IntRange(min = 2, max = 3) int writerCount,
            @ForAll @IntRange(min = 20, max = 400) int storesPerWriter, @ForAll long seed) throws Exception {
        nothingWrittenIsLostAndNothingElseIsReported(SoftDirtyTracker.NAME, granule, writerCount, storesPerWriter, seed);
    }

    @Property(tries = 12)
    void uffdWpSyncLosesNothing(@ForAll Granule granule, @ForAll @IntRange(min = 2, max = 3) int writerCount,
            @ForAll @IntRange(min = 20, max = 400) int storesPerWriter, @ForAll long seed) throws Exception {
        nothingWrittenIsLostAndNothingElseIsReported(UffdWpSyncTracker.NAME, granule, writerCount, storesPerWriter, seed);
    }

    @Example
    void everyTrackerHasItsOwnProperty() {
        assertThat(DirtyTrackers.NAMES).as("a new tracker needs its own property above")
                .containsExactlyInAnyOrder(UffdWpAsyncTracker.NAME, SoftDirtyTracker.NAME, UffdWpSyncTracker.NAME);
    }

    private static void nothingWrittenIsLostAndNothingElseIsReported(String name, Granule granule, int writerCount,
            int storesPerWriter, long seed) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(writerCount);
        try (TrackerFixture f = new TrackerFixture(name, granule)) {
            long base = f.map(PAGES);
            f.storePages(base, 0, PAGES / 2, PAGES - 1);
            f.tracker.start();
            Set<Long> written = ConcurrentHashMap.newKeySet();
            CountDownLatch go = new CountDownLatch(1);
            AtomicBoolean failed = new AtomicBoolean();
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < writerCount; w++) {
                SplittableRandom rnd = new SplittableRandom(seed + w);
                writers.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < storesPerWriter && !failed.get(); i++) {
                        // Skewed towards a hot set so pages are rewritten across collects.
                        int page = rnd.nextInt(4) == 0 ? rnd.nextInt(PAGES) : rnd.nextInt(8);
                        long addr = base + page * f.p + 8L * rnd.nextInt((int) (f.p / 8));
                        written.add(base + page * f.p);
                        f.store(addr, i);
                    }
                    return null;
                }));
            }
            TreeSet<Long> collected = new TreeSet<>();
            go.countDown();
            boolean running = true;
            while (running) {
                running = writers.stream().anyMatch(x -> !x.isDone());
                DirtySet s = f.tracker.collect();
                assertThat(s.unmapped()).isEmpty();
                collected.addAll(TrackerFixture.pageSet(s.written(), f.p));
            }
            for (Future<?> x : writers) {
                x.get(60, TimeUnit.SECONDS);
            }
            collected.addAll(TrackerFixture.pageSet(f.tracker.collect().written(), f.p));
            assertThat(collected).as("every written page was collected").containsAll(written);
            assertThat(written).as("no page reported that was not written").containsAll(collected);
            assertThat(f.tracker.cost().falsePositivePages()).isZero();
        } finally {
            pool.shutdownNow();
        }
    }
}
