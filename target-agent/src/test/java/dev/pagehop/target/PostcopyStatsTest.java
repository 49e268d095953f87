package dev.pagehop.target;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.proto.types.v1.LatencyBucket;
import dev.pagehop.proto.types.v1.PostcopyStats;
import dev.pagehop.proto.types.v1.ThreadBlocktime;
import dev.pagehop.xfer.PageRangeSet;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The post-copy figures as they leave the target: QEMU-style blocktime, the latency histogram's
 * buckets, and a pager run on a hand-driven clock, so every latency and blocked time is exact.
 */
class PostcopyStatsTest {
    private static final long BASE = 0x4000_0000L;
    private static final int PAGES = 256;
    /** What each urgent request costs on the hand-driven clock. */
    private static final long ROUND_TRIP_NS = 250_000;

    private MemoryManager source;
    private MemoryManager target;
    private long pageSize;
    private ScheduledExecutorService scheduler;
    private final List<LazyPager> pagers = new ArrayList<>();

    @BeforeEach
    void setUp() {
        source = MemoryManager.create(MmConfig.arm64(Granule.K4));
        target = MemoryManager.create(MmConfig.arm64(Granule.K4));
        pageSize = source.pageSize();
        int flags = MapFlags.FIXED | MapFlags.PRIVATE | MapFlags.ANONYMOUS;
        source.mmap(BASE, PAGES * pageSize, Prot.READ | Prot.WRITE, flags);
        target.mmap(BASE, PAGES * pageSize, Prot.READ | Prot.WRITE, flags);
        byte[] page = new byte[(int) pageSize];
        Random rnd = new Random(5);
        for (int i = 0; i < PAGES; i++) {
            rnd.nextBytes(page);
            source.write(BASE + i * pageSize, page);
        }
        scheduler = Executors.newScheduledThreadPool(1);
    }

    @AfterEach
    void tearDown() {
        for (LazyPager p : pagers) {
            p.releaseAfterProcessGone();
        }
        scheduler.shutdownNow();
        source.close();
        target.close();
    }

    @Test
    void blocktimeCountsOnlyTheStretchesWhenEveryThreadWaits() {
        Blocktime b = new Blocktime();
        b.threads(2, 0);
        b.blocked(1, 10);
        assertThat(b.allBlockedNs(15)).isZero();
        b.blocked(2, 20);
        assertThat(b.allBlockedNs(25)).as("both blocked since 20, still going").isEqualTo(5);
        b.woken(1, 50);
        assertThat(b.allBlockedNs(1_000)).isEqualTo(30);
        b.blocked(1, 60);
        b.woken(2, 70);
        assertThat(b.allBlockedNs(75)).isEqualTo(40);
        b.blocked(2, 80);
        b.woken(1, 100);
        b.woken(2, 110);
        assertThat(b.allBlockedNs(500)).isEqualTo(60);
        assertThat(b.blockedThreads()).isZero();
    }

    @Test
    void blocktimeWithAnUnknownThreadCountCountsNothingUntilItIsKnown() {
        Blocktime b = new Blocktime();
        b.blocked(7, 10);
        assertThat(b.allBlockedNs(100)).isZero();
        b.threads(1, 100);
        b.woken(7, 130);
        assertThat(b.allBlockedNs(200)).isEqualTo(30);
        // A thread woken twice, or never blocked, changes nothing.
        b.woken(7, 140);
        b.woken(8, 150);
        assertThat(b.allBlockedNs(300)).isEqualTo(30);
    }

    @Test
    void latencyBucketsDoubleFromOneMicrosecondAndKeepEmptyOnesInBetween() {
        Histogram h = new Histogram(3_600_000_000_000L, 3);
        for (long v : new long[] {500, 1_000, 1_500, 3_000, 3_000, 9_000}) {
            h.recordValue(v);
        }
        List<long[]> b = TargetWire.buckets(h);
        assertThat(b).extracting(x -> x[0]).containsExactly(1_000L, 2_000L, 4_000L, 8_000L, 16_000L);
        assertThat(b).extracting(x -> x[1]).containsExactly(2L, 1L, 2L, 0L, 1L);
        assertThat(TargetWire.buckets(new Histogram(3))).isEmpty();
    }

    /** Pages from the source's memory; a demand costs {@link #ROUND_TRIP_NS} on the clock, a pull nothing. */
    private final class ClockedLink implements PageLink {
        final AtomicLong clock;
        final CountDownLatch holdPulls = new CountDownLatch(1);
        final AtomicBoolean released = new AtomicBoolean();

        ClockedLink(AtomicLong clock) {
            this.clock = clock;
        }

        @Override
        public CompletableFuture<byte[]> demand(long address, int pages) {
            byte[] data = read(address, pages);
            clock.addAndGet(ROUND_TRIP_NS);
            return CompletableFuture.completedFuture(data);
        }

        @Override
        public CompletableFuture<byte[]> pull(long address, int pages) {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    holdPulls.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return read(address, pages);
            });
        }

        private byte[] read(long address, int pages) {
            byte[] data = new byte[Math.toIntExact(pages * pageSize)];
            source.peek(address, data, 0, data.length);
            return data;
        }

        @Override
        public void release() {
            released.set(true);
        }
    }

    @Test
    void thePagersFiguresOnTheWireAndInMetersMatchWhatHappened() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000);
        ClockedLink link = new ClockedLink(clock);
        PageRangeSet missing = new PageRangeSet(pageSize);
        missing.add(BASE, BASE + PAGES * pageSize);
        LazyPager pager = new LazyPager("m-stats", target, missing, link, null, scheduler, clock::get);
        pagers.add(pager);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        pager.meters(new PostcopyMeters(registry));
        // One emulated thread as far as blocktime goes: each wait blocks the whole process.
        List<Long> hosts = new ArrayList<>();
        pager.threads(1, host -> 100 + hosts.indexOf(host));

        long[] pagesAt = {100, 150, 200};
        for (long p : pagesAt) {
            AtomicReference<byte[]> got = new AtomicReference<>();
            Thread t = Thread.ofPlatform().unstarted(() -> {
                byte[] b = new byte[(int) pageSize];
                target.read(BASE + p * pageSize, b);
                got.set(b);
            });
            hosts.add(t.threadId());
            t.start();
            t.join(10_000);
            byte[] want = new byte[(int) pageSize];
            source.peek(BASE + p * pageSize, want, 0, want.length);
            assertThat(got.get()).isEqualTo(want);
        }
        link.holdPulls.countDown();
        assertThat(pager.await(PostcopyState.COMPLETED, 30, TimeUnit.SECONDS)).isEqualTo(PostcopyState.COMPLETED);

        PostcopyStats s = TargetWire.postcopy(pager);
        assertThat(s.getComplete()).isTrue();
        assertThat(s.getFaults()).isEqualTo(3);
        assertThat(s.getFaultsOnPagesInFlight()).isZero();
        assertThat(s.getPagesOnDemand()).isEqualTo(3);
        assertThat(s.getPagesBackground()).isEqualTo(PAGES - 3);
        assertThat(s.getPagesMissingAtStart()).isEqualTo(PAGES);
        assertThat(s.getPagesMissing()).isZero();
        assertThat(s.getBytesReceived()).isEqualTo(PAGES * pageSize);
        // HdrHistogram keeps 3 significant digits.
        assertThat(s.getFaultLatencyP50Ns()).isBetween(ROUND_TRIP_NS, ROUND_TRIP_NS + 250);
        assertThat(s.getFaultLatencyP99Ns()).isBetween(ROUND_TRIP_NS, ROUND_TRIP_NS + 250);
        assertThat(s.getFaultLatencyMaxNs()).isBetween(ROUND_TRIP_NS, ROUND_TRIP_NS + 250);
        assertThat(s.getFaultLatencyHistogramList()).hasSize(9);
        LatencyBucket last = s.getFaultLatencyHistogram(8);
        assertThat(last.getUpperBoundNs()).isEqualTo(256_000);
        assertThat(last.getCount()).isEqualTo(3);
        assertThat(s.getBlockedTotalNs()).isEqualTo(3 * ROUND_TRIP_NS);
        assertThat(s.getAllThreadsBlockedNs()).isEqualTo(3 * ROUND_TRIP_NS);
        assertThat(s.getBlockedPerThreadList()).extracting(ThreadBlocktime::getTid).containsExactly(100, 101, 102);
        assertThat(s.getBlockedPerThreadList()).extracting(ThreadBlocktime::getBlockedNs)
                .containsOnly(ROUND_TRIP_NS);

        assertThat(registry.get("pagehop_target_postcopy_faults").counter().count()).isEqualTo(3);
        assertThat(registry.get("pagehop_target_postcopy_pages").tag("how", "on_demand").counter().count()).isEqualTo(3);
        assertThat(registry.get("pagehop_target_postcopy_pages").tag("how", "background").counter().count())
                .isEqualTo(PAGES - 3);
        assertThat(registry.get("pagehop_target_postcopy_bytes").counter().count()).isEqualTo(PAGES * pageSize);
        assertThat(registry.get("pagehop_target_postcopy_fault_latency").timer().count()).isEqualTo(3);
        assertThat(registry.get("pagehop_target_postcopy_fault_latency").timer().max(TimeUnit.NANOSECONDS))
                .isEqualTo(ROUND_TRIP_NS);
        assertThat(registry.get("pagehop_target_postcopy_blocked").timer().totalTime(TimeUnit.NANOSECONDS))
                .isEqualTo(3 * ROUND_TRIP_NS);
    }
}
