package dev.pagehop.target;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.xfer.MemoryDigest;
import dev.pagehop.xfer.PageRangeSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LazyPagerTest {
    private static final long BASE = 0x4000_0000L;
    private static final int PAGES = 512;

    private MemoryManager source;
    private MemoryManager target;
    private long pageSize;
    private ScheduledExecutorService scheduler;
    private ExecutorService sourceThreads;
    private final List<LazyPager> pagers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    @BeforeEach
    void setUp() {
        source = MemoryManager.create(MmConfig.arm64(Granule.K4));
        target = MemoryManager.create(MmConfig.arm64(Granule.K4));
        pageSize = source.pageSize();
        long len = PAGES * pageSize;
        int flags = MapFlags.FIXED | MapFlags.PRIVATE | MapFlags.ANONYMOUS;
        source.mmap(BASE, len, Prot.READ | Prot.WRITE, flags);
        target.mmap(BASE, len, Prot.READ | Prot.WRITE, flags);
        Random rnd = new Random(42);
        byte[] page = new byte[(int) pageSize];
        for (int i = 0; i < PAGES; i++) {
            if (i % 7 == 3) {
                continue; // never written: a zero page on the source
            }
            rnd.nextBytes(page);
            source.write(BASE + i * pageSize, page);
        }
        scheduler = Executors.newScheduledThreadPool(2);
        sourceThreads = Executors.newFixedThreadPool(2);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        for (LazyPager p : pagers) {
            p.releaseAfterProcessGone();
        }
        for (Thread t : threads) {
            t.join(10_000);
        }
        scheduler.shutdownNow();
        sourceThreads.shutdownNow();
        source.close();
        target.close();
    }

    /** Serves pages from the source's memory, as the frozen image would; can be cut or killed. */
    final class FakeLink implements PageLink {
        final AtomicBoolean cut = new AtomicBoolean();
        final AtomicBoolean killed = new AtomicBoolean();
        final AtomicBoolean released = new AtomicBoolean();
        final Map<Long, AtomicInteger> demands = new ConcurrentHashMap<>();
        final Map<Long, AtomicInteger> served = new ConcurrentHashMap<>();
        final List<long[]> pulls = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile CountDownLatch holdDemands = new CountDownLatch(0);
        volatile CountDownLatch holdPulls = new CountDownLatch(0);

        @Override
        public CompletableFuture<byte[]> demand(long address, int pages) {
            demands.computeIfAbsent(address, a -> new AtomicInteger()).incrementAndGet();
            return serve(address, pages, holdDemands);
        }

        @Override
        public CompletableFuture<byte[]> pull(long address, int pages) {
            pulls.add(new long[] {address, pages});
            return serve(address, pages, holdPulls);
        }

        private CompletableFuture<byte[]> serve(long address, int pages, CountDownLatch hold) {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    hold.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (killed.get()) {
                    throw new LinkException(Failure.SOURCE_LOST, "source agent killed");
                }
                if (cut.get()) {
                    throw new LinkException(Failure.UNREACHABLE, "connection reset");
                }
                byte[] data = new byte[Math.toIntExact(pages * pageSize)];
                source.peek(address, data, 0, data.length);
                for (int i = 0; i < pages; i++) {
                    served.computeIfAbsent(address + i * pageSize, a -> new AtomicInteger()).incrementAndGet();
                }
                return data;
            }, sourceThreads);
        }

        @Override
        public void release() {
            released.set(true);
        }
    }

    private PageRangeSet allPages() {
        PageRangeSet s = new PageRangeSet(pageSize);
        s.add(BASE, BASE + PAGES * pageSize);
        return s;
    }

    private LazyPager start(PageLink link, java.util.function.Supplier<PageLink> connector) {
        LazyPager p = new LazyPager("m-1", target, allPages(), link, connector, scheduler, System::nanoTime);
        pagers.add(p);
        return p;
    }

    /** A process thread: reads one page as user code does (blocking in the userfault if missing). */
    private Thread reader(long address, AtomicReference<byte[]> out) {
        Thread t = Thread.ofPlatform().name("proc-reader-" + Long.toHexString(address)).start(() -> {
            byte[] b = new byte[(int) pageSize];
            target.read(address, b);
            out.set(b);
        });
        threads.add(t);
        return t;
    }

    private byte[] sourcePage(long address) {
        byte[] b = new byte[(int) pageSize];
        source.peek(address, b, 0, b.length);
        return b;
    }

    private void assertMemoryEqualsSource() {
        assertThat(MemoryDigest.of(target)).isEqualTo(MemoryDigest.of(source));
        byte[] t = new byte[(int) (PAGES * pageSize)];
        byte[] s = new byte[t.length];
        target.peek(BASE, t, 0, t.length);
        source.peek(BASE, s, 0, s.length);
        assertThat(t).isEqualTo(s);
    }

    @Test
    void faultingThreadsGetTheSourcePagesAndTheBackgroundPullCompletesTheRest() throws Exception {
        FakeLink link = new FakeLink();
        // The first background chunk (pages 0..15) is held, so a fault there would wait for it
        // rather than ask again; the threads fault on pages beyond it.
        link.holdPulls = new CountDownLatch(1);
        LazyPager pager = start(link, null);
        List<AtomicReference<byte[]>> got = new ArrayList<>();
        List<Long> addrs = List.of(BASE + 100 * pageSize, BASE + 45 * pageSize + 17, BASE + 400 * pageSize + 4000);
        for (long a : addrs) {
            AtomicReference<byte[]> r = new AtomicReference<>();
            got.add(r);
            reader(a & -pageSize, r).join(10_000);
        }
        for (int i = 0; i < addrs.size(); i++) {
            assertThat(got.get(i).get()).as("page at 0x%x", addrs.get(i)).isEqualTo(sourcePage(addrs.get(i) & -pageSize));
        }
        link.holdPulls.countDown();
        assertThat(pager.await(PostcopyState.COMPLETED, 30, TimeUnit.SECONDS)).isEqualTo(PostcopyState.COMPLETED);
        assertMemoryEqualsSource();
        await().atMost(Duration.ofSeconds(10)).untilTrue(link.released);
        PostcopyStats st = pager.stats();
        assertThat(st.faults()).isEqualTo(3);
        assertThat(st.pagesOnDemand()).isEqualTo(3);
        assertThat(st.pagesOnDemand() + st.pagesBackground()).isEqualTo(PAGES);
        assertThat(st.pagesMissing()).isZero();
        assertThat(st.latencyMaxNs()).isPositive();
        assertThat(st.blockedNsByThread()).hasSize(3);
        assertThat(st.blockedTotalNs()).isEqualTo(st.blockedNsByThread().values().stream().mapToLong(Long::longValue).sum());
        assertThat(link.served.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
    }

    @Test
    void aPageInFlightIsRequestedOnceHoweverManyThreadsFaultOnIt() throws Exception {
        FakeLink link = new FakeLink();
        link.holdDemands = new CountDownLatch(1);
        link.holdPulls = new CountDownLatch(1);
        LazyPager pager = start(link, null);
        long page = BASE + 200 * pageSize;
        List<AtomicReference<byte[]>> got = new ArrayList<>();
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            AtomicReference<byte[]> r = new AtomicReference<>();
            got.add(r);
            ts.add(reader(page, r));
        }
        pager.awaitFaults(3, 10, TimeUnit.SECONDS);
        assertThat(link.demands.get(page).get()).isEqualTo(1);
        assertThat(pager.stats().faultsOnPagesInFlight()).isEqualTo(2);
        link.holdDemands.countDown();
        for (Thread t : ts) {
            t.join(10_000);
        }
        for (AtomicReference<byte[]> r : got) {
            assertThat(r.get()).isEqualTo(sourcePage(page));
        }
        link.holdPulls.countDown();
        assertThat(pager.await(PostcopyState.COMPLETED, 30, TimeUnit.SECONDS)).isEqualTo(PostcopyState.COMPLETED);
        assertMemoryEqualsSource();
        assertThat(pager.stats().blockedNsByThread()).hasSize(3);
    }

    @Test
    void aNetworkCutPausesWithThreadsBlockedAndTheAutomaticReconnectCompletesWithNothingLost() throws Exception {
        FakeLink first = new FakeLink();
        first.holdPulls = new CountDownLatch(1);
        AtomicBoolean healed = new AtomicBoolean();
        FakeLink second = new FakeLink();
        AtomicInteger attempts = new AtomicInteger();
        LazyPager pager = start(first, () -> {
            attempts.incrementAndGet();
            if (!healed.get()) {
                throw new PageLink.LinkException(PageLink.Failure.UNREACHABLE, "connection refused");
            }
            return second;
        });
        // Some pages arrive before the cut.
        AtomicReference<byte[]> early = new AtomicReference<>();
        reader(BASE + 40 * pageSize, early).join(10_000);
        assertThat(early.get()).isEqualTo(sourcePage(BASE + 40 * pageSize));

        first.cut.set(true);
        first.holdPulls.countDown();
        assertThat(pager.await(PostcopyState.PAUSED, 10, TimeUnit.SECONDS)).isEqualTo(PostcopyState.PAUSED);
        AtomicReference<byte[]> blocked = new AtomicReference<>();
        long page = BASE + 300 * pageSize;
        Thread t = reader(page, blocked);
        await().atMost(Duration.ofSeconds(10)).until(() -> t.getState() == Thread.State.WAITING);
        await().atMost(Duration.ofSeconds(10)).until(() -> attempts.get() >= 2);
        assertThat(pager.state()).isEqualTo(PostcopyState.PAUSED);
        assertThat(t.isAlive()).isTrue();
        assertThat(blocked.get()).isNull();
        assertThat(target.pagemapEntry(page) >>> 63).as("page never zero-filled").isZero();
        assertThat(pager.failure()).contains("source unreachable");

        healed.set(true);
        assertThat(pager.await(PostcopyState.COMPLETED, 30, TimeUnit.SECONDS)).isEqualTo(PostcopyState.COMPLETED);
        t.join(10_000);
        assertThat(blocked.get()).isEqualTo(sourcePage(page));
        assertMemoryEqualsSource();
        assertThat(second.served).doesNotContainKey(BASE + 40 * pageSize);
        for (var e : second.served.entrySet()) {
            assertThat(first.served).as("page 0x%x served by both links", e.getKey()).doesNotContainKey(e.getKey());
            assertThat(e.getValue().get()).isEqualTo(1);
        }
        PostcopyStats st = pager.stats();
        assertThat(st.pauses()).isEqualTo(1);
        assertThat(st.reconnects()).isEqualTo(1);
        // The source is told to release on the pager's scheduler, just after COMPLETED.
        await().atMost(Duration.ofSeconds(10)).untilTrue(second.released);
    }

    /**
     * A silent cut: the old stream neither answers nor fails (the target never learns it died),
     * and the source opens a new one. The background pull must not keep waiting on the old one.
     */
    @Test
    void aLinkReplacedWhileItsPullIsUnansweredDoesNotHoldTheBackgroundPull() throws Exception {
        FakeLink silent = new FakeLink();
        silent.holdPulls = new CountDownLatch(1);
        silent.holdDemands = new CountDownLatch(1);
        try {
            LazyPager pager = start(silent, null);
            await().atMost(Duration.ofSeconds(10)).until(() -> !silent.pulls.isEmpty());
            FakeLink second = new FakeLink();
            pager.replaceLink(second);

            assertThat(pager.await(PostcopyState.COMPLETED, 30, TimeUnit.SECONDS)).isEqualTo(PostcopyState.COMPLETED);
            assertMemoryEqualsSource();
            assertThat(silent.served).as("the silent link delivered nothing").isEmpty();
            // The source is told to release on the pager's scheduler, just after COMPLETED.
        await().atMost(Duration.ofSeconds(10)).untilTrue(second.released);
            assertThat(pager.stats().reconnects()).isEqualTo(1);
        } finally {
            silent.holdPulls.countDown();
            silent.holdDemands.countDown();
        }
    }

    @Test
    void theSourceKilledLeavesTheProcessFrozenAndNeverZeroFills() throws Exception {
        FakeLink link = new FakeLink();
        link.holdDemands = new CountDownLatch(1);
        link.holdPulls = new CountDownLatch(1);
        LazyPager pager = start(link, () -> {
            throw new PageLink.LinkException(PageLink.Failure.SOURCE_LOST, "no such migration on the source");
        });
        long page = BASE + 50 * pageSize;
        AtomicReference<byte[]> got = new AtomicReference<>();
        Thread t = reader(page, got);
        pager.awaitFaults(1, 10, TimeUnit.SECONDS);
        link.killed.set(true);
        link.holdDemands.countDown();
        link.holdPulls.countDown();
        assertThat(pager.await(PostcopyState.CANNOT_COMPLETE, 10, TimeUnit.SECONDS))
                .isEqualTo(PostcopyState.CANNOT_COMPLETE);
        await().atMost(Duration.ofSeconds(10)).until(() -> t.getState() == Thread.State.WAITING);
        assertThat(got.get()).isNull();
        assertThat(target.pagemapEntry(page) >>> 63).as("page never zero-filled").isZero();
        assertThat(pager.failure()).contains("can never arrive").contains("stays frozen");
        assertThat(link.released.get()).isFalse();
    }

    @Test
    void aKnownZeroPageIsZeroMappedWithoutAskingTheSource() throws Exception {
        FakeLink link = new FakeLink();
        link.holdPulls = new CountDownLatch(1);
        PageRangeSet missing = allPages();
        long zero = BASE + 5 * pageSize;
        missing.remove(zero, zero + pageSize);
        LazyPager pager = new LazyPager("m-2", target, missing, link, null, scheduler, System::nanoTime);
        pagers.add(pager);
        AtomicReference<byte[]> got = new AtomicReference<>();
        reader(zero, got).join(10_000);
        assertThat(got.get()).isEqualTo(new byte[(int) pageSize]);
        assertThat(link.demands).doesNotContainKey(zero);
        assertThat(pager.stats().pagesZeroMapped()).isEqualTo(1);
        link.holdPulls.countDown();
        assertThat(pager.await(PostcopyState.COMPLETED, 30, TimeUnit.SECONDS)).isEqualTo(PostcopyState.COMPLETED);
        assertThat(link.served).doesNotContainKey(zero);
    }

    @Test
    void theBackgroundChunkGrowsBy64KiBWhileNoFaultComes() throws Exception {
        FakeLink link = new FakeLink();
        LazyPager pager = start(link, null);
        assertThat(pager.await(PostcopyState.COMPLETED, 30, TimeUnit.SECONDS)).isEqualTo(PostcopyState.COMPLETED);
        // 512 pages of 4 KiB: 64 KiB, 128 KiB, ... 448 KiB, then the 256 KiB left.
        assertThat(link.pulls).containsExactly(new long[] {BASE, 16}, new long[] {BASE + 16 * pageSize, 32},
                new long[] {BASE + 48 * pageSize, 48}, new long[] {BASE + 96 * pageSize, 64},
                new long[] {BASE + 160 * pageSize, 80}, new long[] {BASE + 240 * pageSize, 96},
                new long[] {BASE + 336 * pageSize, 112}, new long[] {BASE + 448 * pageSize, 64});
        assertMemoryEqualsSource();
    }

    @Test
    void theBackgroundPullRestartsJustAfterAFaultWith64KiB() throws Exception {
        FakeLink link = new FakeLink();
        link.holdPulls = new CountDownLatch(1);
        LazyPager pager = start(link, null);
        await().atMost(Duration.ofSeconds(10)).until(() -> link.pulls.size() == 1);
        long page = BASE + 300 * pageSize;
        AtomicReference<byte[]> got = new AtomicReference<>();
        reader(page, got).join(10_000);
        assertThat(got.get()).isEqualTo(sourcePage(page));
        link.holdPulls.countDown();
        assertThat(pager.await(PostcopyState.COMPLETED, 30, TimeUnit.SECONDS)).isEqualTo(PostcopyState.COMPLETED);
        assertThat(link.pulls.get(0)).containsExactly(BASE, 16);
        assertThat(link.pulls.get(1)).containsExactly(page + pageSize, 16);
        assertThat(link.pulls.get(2)).containsExactly(page + 17 * pageSize, 32);
        assertMemoryEqualsSource();
        assertThat(link.served.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
    }

    /**
     * An urgent demand whose answer never comes (a stream stuck, not broken) abandons the link at
     * its deadline: the pager pauses, reconnects and asks again, and the thread gets its page.
     */
    @Test
    void anUnansweredDemandAbandonsTheLinkAtItsDeadlineAndIsAskedAgainOnANewOne() throws Exception {
        // A stream that is up but stuck: requests go out, answers never come back.
        List<Long> stuckDemands = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicBoolean abandoned = new AtomicBoolean();
        FakeLink healthy = new FakeLink();
        PageLink first = new PageLink() {
            @Override
            public CompletableFuture<byte[]> demand(long address, int pages) {
                stuckDemands.add(address);
                return new CompletableFuture<>();
            }

            @Override
            public CompletableFuture<byte[]> pull(long address, int pages) {
                return new CompletableFuture<>();
            }

            @Override
            public void release() {
            }

            @Override
            public void abandon(String why) {
                abandoned.set(true);
            }
        };
        LazyPager pager = new LazyPager("m-deadline", target, allPages(), first, () -> healthy, scheduler,
                System::nanoTime, LazyPager.Limits.defaults().withRequestTimeoutMs(200));
        pagers.add(pager);
        long page = BASE + 77 * pageSize;
        AtomicReference<byte[]> got = new AtomicReference<>();
        reader(page, got).join(30_000);
        assertThat(got.get()).isEqualTo(sourcePage(page));
        await().atMost(Duration.ofSeconds(10)).untilTrue(abandoned);
        assertThat(stuckDemands).containsExactly(page);
        assertThat(healthy.demands).containsKey(page);
        assertThat(pager.await(PostcopyState.COMPLETED, 30, TimeUnit.SECONDS)).isEqualTo(PostcopyState.COMPLETED);
        assertThat(pager.stats().pauses()).isGreaterThanOrEqualTo(1);
        assertThat(pager.stats().reconnects()).isGreaterThanOrEqualTo(1);
        assertMemoryEqualsSource();
    }

    /**
     * The process keeps reading, writing, unmapping, zapping (MADV_DONTNEED) and moving (mremap)
     * ranges that are still missing while the pager runs, as CRIU's maps007 does during a dump.
     * A model of what every page must hold (a source page, zeros, or what the process wrote) is
     * checked on every read and over the whole address space at the end: nothing is lost, nothing
     * zero-filled that the source had, nothing stale installed where the process threw its
     * contents away, and the source is never asked for an address its image does not have.
     */
    @Test
    void churnDuringPostcopyKeepsEveryPageAsTheProcessExpects() throws Exception {
        for (long seed = 1; seed <= 25; seed++) {
            churn(seed);
        }
    }

    private void churn(long seed) throws Exception {
        final long base = 0x5000_0000L;
        final int regions = 4;
        final int regionPages = 32;
        final long dests = 0x6000_0000L;
        MemoryManager src = MemoryManager.create(MmConfig.arm64(Granule.K4));
        MemoryManager dst = MemoryManager.create(MmConfig.arm64(Granule.K4));
        long ps = src.pageSize();
        int flags = MapFlags.FIXED | MapFlags.PRIVATE | MapFlags.ANONYMOUS;
        Random rnd = new Random(seed);
        // target page -> Long (the source page it must equal) or byte[] (its exact contents)
        java.util.TreeMap<Long, Object> model = new java.util.TreeMap<>();
        PageRangeSet missing = new PageRangeSet(ps);
        byte[] page = new byte[(int) ps];
        for (int r = 0; r < regions; r++) {
            long start = base + r * 2L * regionPages * ps;
            src.mmap(start, regionPages * ps, Prot.READ | Prot.WRITE, flags);
            dst.mmap(start, regionPages * ps, Prot.READ | Prot.WRITE, flags);
            for (int i = 0; i < regionPages; i++) {
                long a = start + i * ps;
                if (rnd.nextInt(5) != 0) {
                    rnd.nextBytes(page);
                    src.write(a, page);
                }
                model.put(a, a);
            }
            missing.add(start, start + regionPages * ps);
        }
        java.util.Set<Long> asked = ConcurrentHashMap.newKeySet();
        PageLink link = new PageLink() {
            @Override
            public CompletableFuture<byte[]> demand(long address, int pages) {
                return serve(address, pages);
            }

            @Override
            public CompletableFuture<byte[]> pull(long address, int pages) {
                return serve(address, pages);
            }

            private CompletableFuture<byte[]> serve(long address, int pages) {
                return CompletableFuture.supplyAsync(() -> {
                    byte[] data = new byte[Math.toIntExact(pages * ps)];
                    try {
                        src.peek(address, data, 0, data.length);
                    } catch (RuntimeException e) {
                        asked.add(address);
                        throw new PageLink.LinkException(PageLink.Failure.NOT_ON_SOURCE, e.getMessage());
                    }
                    return data;
                }, sourceThreads);
            }

            @Override
            public void release() {
            }
        };
        LazyPager pager = new LazyPager("m-churn-" + seed, dst, missing, link, null, scheduler, System::nanoTime);
        try {
            int nextDest = 0;
            for (int op = 0; op < 60; op++) {
                List<Long> mapped = new ArrayList<>(model.keySet());
                if (mapped.isEmpty()) {
                    break;
                }
                long a = mapped.get(rnd.nextInt(mapped.size()));
                // a run of up to 6 mapped, contiguous pages from a, inside one VMA
                int n = 1;
                while (n < 1 + rnd.nextInt(6) && model.containsKey(a + n * ps) && sameVma(dst, a, a + n * ps)) {
                    n++;
                }
                switch (rnd.nextInt(5)) {
                    case 0 -> {
                        byte[] got = new byte[(int) ps];
                        dst.read(a, got);
                        assertThat(got).as("seed %d op %d: read of 0x%x", seed, op, a).isEqualTo(expected(src, model.get(a), ps));
                    }
                    case 1 -> {
                        byte[] w = new byte[(int) ps];
                        rnd.nextBytes(w);
                        dst.write(a, w);
                        model.put(a, w);
                    }
                    case 2 -> {
                        dst.munmap(a, n * ps);
                        for (int i = 0; i < n; i++) {
                            model.remove(a + i * ps);
                        }
                    }
                    case 3 -> {
                        dst.madvise(a, n * ps, dev.pagehop.mm.Madvise.DONTNEED);
                        for (int i = 0; i < n; i++) {
                            model.put(a + i * ps, new byte[(int) ps]);
                        }
                    }
                    default -> {
                        long to = dests + (nextDest++) * 16L * ps;
                        dst.mremap(a, n * ps, n * ps, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, to);
                        for (int i = 0; i < n; i++) {
                            model.put(to + i * ps, model.remove(a + i * ps));
                        }
                    }
                }
            }
            assertThat(pager.await(PostcopyState.COMPLETED, 30, TimeUnit.SECONDS)).as("seed %d: %s", seed, pager.failure())
                    .isEqualTo(PostcopyState.COMPLETED);
            assertThat(asked).as("seed %d: addresses asked of the source that its image does not have", seed).isEmpty();
            long mappedPages = 0;
            for (dev.pagehop.mm.VmaInfo v : dst.vmas()) {
                mappedPages += (v.end() - v.start()) / ps;
            }
            assertThat(mappedPages).as("seed %d: pages mapped", seed).isEqualTo(model.size());
            for (var e : model.entrySet()) {
                byte[] got = new byte[(int) ps];
                dst.peek(e.getKey(), got, 0, got.length);
                assertThat(got).as("seed %d: page 0x%x at the end", seed, e.getKey()).isEqualTo(expected(src, e.getValue(), ps));
            }
        } finally {
            pager.releaseAfterProcessGone();
            src.close();
            dst.close();
        }
    }

    private static boolean sameVma(MemoryManager mm, long a, long b) {
        for (dev.pagehop.mm.VmaInfo v : mm.vmas()) {
            if (v.start() <= a && a < v.end()) {
                return b < v.end();
            }
        }
        return false;
    }

    private static byte[] expected(MemoryManager src, Object m, long ps) {
        if (m instanceof byte[] b) {
            return b;
        }
        byte[] b = new byte[(int) ps];
        src.peek((Long) m, b, 0, b.length);
        return b;
    }
}
