package dev.pagehop.target;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.proto.migration.v1.MigrationGrpc;
import dev.pagehop.proto.migration.v1.PageDemand;
import dev.pagehop.proto.migration.v1.PageSupply;
import dev.pagehop.source.PostcopyServer;
import dev.pagehop.xfer.MemoryDigest;
import dev.pagehop.xfer.PageRangeSet;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Post-copy over the PageRequests stream, in-process transport: the source's {@link PostcopyServer}
 * serving its frozen memory to the target's {@link PostcopyEndpoint} and lazy pager. (In the
 * target's package to reach its package-private classes; the source agent's tests already depend
 * on the target agent.)
 */
class PostcopyWireTest {
    private static final long BASE = 0x4000_0000L;
    private static final int PAGES = 1024;

    private final String name = InProcessServerBuilder.generateName();
    private MemoryManager source;
    private MemoryManager target;
    private long pageSize;
    private ScheduledExecutorService scheduler;
    private ManagedChannel channel;
    private Server server;
    private PostcopyEndpoint endpoint;
    private PostcopyServer pages;
    private final AtomicBoolean released = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        source = MemoryManager.create(MmConfig.arm64(Granule.K4));
        target = MemoryManager.create(MmConfig.arm64(Granule.K4));
        pageSize = source.pageSize();
        int flags = MapFlags.FIXED | MapFlags.PRIVATE | MapFlags.ANONYMOUS;
        source.mmap(BASE, PAGES * pageSize, Prot.READ | Prot.WRITE, flags);
        target.mmap(BASE, PAGES * pageSize, Prot.READ | Prot.WRITE, flags);
        Random rnd = new Random(7);
        byte[] page = new byte[(int) pageSize];
        for (int i = 0; i < PAGES; i++) {
            if (i % 5 != 0) {
                rnd.nextBytes(page);
                source.write(BASE + i * pageSize, page);
            }
        }
        scheduler = Executors.newScheduledThreadPool(2);
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    private void startTarget(long sourceLostAfterMs) throws Exception {
        PageRangeSet missing = new PageRangeSet(pageSize);
        missing.add(BASE, BASE + PAGES * pageSize);
        endpoint = new PostcopyEndpoint("m-wire", target, missing, 1 << 20, scheduler, System::nanoTime, sourceLostAfterMs);
        startServer();
    }

    private void startServer() throws Exception {
        server = InProcessServerBuilder.forName(name).directExecutor().addService(new MigrationGrpc.MigrationImplBase() {
            @Override
            public StreamObserver<PageSupply> pageRequests(StreamObserver<PageDemand> out) {
                return endpoint.open(out);
            }
        }).build().start();
    }

    /** Holds the source's reads while closed, so a cut lands before any page arrives. */
    private final java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
    private volatile boolean gated;
    /** Holds only reads of more than one page (background pulls) while the gate is closed. */
    private volatile boolean gateBulkOnly;
    private final java.util.concurrent.CountDownLatch bulkReadHeld = new java.util.concurrent.CountDownLatch(1);
    /** A page the source's image cannot read (-1: none). */
    private volatile long unreadablePage = -1;

    private void startSource() {
        pages = new PostcopyServer("m-wire", pageSize, (a, dst, off, len) -> {
            if (unreadablePage >= a && unreadablePage < a + len) {
                throw new dev.pagehop.mm.ErrnoException(dev.pagehop.mm.Errno.EFAULT, String.format(
                        "peek(0x%x, %d): 0x%x is not mapped", a, len, unreadablePage));
            }
            if (gateBulkOnly && len > pageSize) {
                bulkReadHeld.countDown();
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (gated) {
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            source.peek(a, dst, off, len);
        }, MigrationGrpc.newStub(channel), scheduler,
                () -> released.set(true));
        pages.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        gate.countDown();
        if (pages != null) {
            pages.stop();
        }
        if (endpoint != null && endpoint.pager() != null) {
            endpoint.pager().releaseAfterProcessGone();
        }
        for (Thread t : threads) {
            t.join(10_000);
        }
        channel.shutdownNow();
        server.shutdownNow();
        scheduler.shutdownNow();
        source.close();
        target.close();
    }

    private Thread reader(long address, AtomicReference<byte[]> out) {
        Thread t = Thread.ofPlatform().start(() -> {
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
    void faultsAreServedOverThePageStreamAndTheSourceReleasesOnlyOnConfirmation() throws Exception {
        startTarget(0);
        startSource();
        LazyPager pager = endpoint.awaitPager(10_000);
        List<AtomicReference<byte[]>> got = new ArrayList<>();
        long[] addrs = {BASE + 900 * pageSize, BASE + 901 * pageSize, BASE + 500 * pageSize};
        for (long a : addrs) {
            AtomicReference<byte[]> r = new AtomicReference<>();
            got.add(r);
            reader(a, r);
        }
        assertThat(pager.await(PostcopyState.COMPLETED, 60, TimeUnit.SECONDS)).isEqualTo(PostcopyState.COMPLETED);
        for (Thread t : threads) {
            t.join(10_000);
        }
        for (int i = 0; i < addrs.length; i++) {
            assertThat(got.get(i).get()).isEqualTo(sourcePage(addrs[i]));
        }
        assertMemoryEqualsSource();
        pages.completed().get(10, TimeUnit.SECONDS);
        assertThat(released.get()).isTrue();
        PostcopyStats st = pager.stats();
        assertThat(st.pagesOnDemand() + st.pagesBackground()).isEqualTo(PAGES);
        assertThat(pages.urgentPagesServed() + pages.backgroundPagesServed()).isGreaterThanOrEqualTo(PAGES);
        assertThat(pages.urgentPagesServed()).isEqualTo(st.faults());
    }

    @Test
    void aNetworkCutPausesTheTargetWithThreadsBlockedAndTheSourcesReconnectCompletes() throws Exception {
        gated = true;
        startTarget(0);
        startSource();
        LazyPager pager = endpoint.awaitPager(10_000);
        // Cut: the target's end goes away, the stream breaks on both sides.
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        assertThat(pager.await(PostcopyState.PAUSED, 10, TimeUnit.SECONDS)).isEqualTo(PostcopyState.PAUSED);
        gate.countDown();
        long page = BASE + 701 * pageSize;
        AtomicReference<byte[]> got = new AtomicReference<>();
        Thread t = reader(page, got);
        await().atMost(Duration.ofSeconds(10)).until(() -> t.getState() == Thread.State.WAITING);
        assertThat(pager.state()).isEqualTo(PostcopyState.PAUSED);
        assertThat(got.get()).isNull();
        assertThat(target.pagemapEntry(page) >>> 63).as("page never zero-filled").isZero();
        assertThat(released.get()).isFalse();

        long connectsBefore = pages.connects();
        startServer();
        assertThat(pager.await(PostcopyState.COMPLETED, 60, TimeUnit.SECONDS)).isEqualTo(PostcopyState.COMPLETED);
        t.join(10_000);
        assertThat(got.get()).isEqualTo(sourcePage(page));
        assertMemoryEqualsSource();
        pages.completed().get(10, TimeUnit.SECONDS);
        assertThat(pages.connects()).isGreaterThan(connectsBefore);
        assertThat(pager.stats().reconnects()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void theSourceKilledLeavesTheProcessFrozenAndReportsItCannotComplete() throws Exception {
        gated = true;
        startTarget(300);
        startSource();
        LazyPager pager = endpoint.awaitPager(10_000);
        // The source agent dies: its page server stops and its connection goes with it.
        pages.stop();
        channel.shutdownNow();
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        assertThat(pager.await(PostcopyState.CANNOT_COMPLETE, 30, TimeUnit.SECONDS))
                .isEqualTo(PostcopyState.CANNOT_COMPLETE);
        gate.countDown();
        long page = BASE + 701 * pageSize;
        AtomicReference<byte[]> got = new AtomicReference<>();
        Thread t = reader(page, got);
        await().atMost(Duration.ofSeconds(10)).until(() -> t.getState() == Thread.State.WAITING);
        assertThat(pager.state()).isEqualTo(PostcopyState.CANNOT_COMPLETE);
        assertThat(got.get()).isNull();
        assertThat(target.pagemapEntry(page) >>> 63).as("page never zero-filled").isZero();
        assertThat(pager.stats().pagesMissing()).isEqualTo(PAGES);
        assertThat(pager.failure()).contains("can never arrive").contains("stays frozen");
        assertThat(released.get()).isFalse();
    }

    /**
     * An urgent page is served while a background pull is still being read on the source: the two
     * travel on separate streams with separate serving threads, so the fault never waits for it.
     */
    @Test
    void anUrgentPageIsServedWhileABackgroundPullIsOutstanding() throws Exception {
        gateBulkOnly = true;
        startTarget(0);
        startSource();
        LazyPager pager = endpoint.awaitPager(10_000);
        assertThat(bulkReadHeld.await(10, TimeUnit.SECONDS)).as("the first background pull reached the source").isTrue();
        long page = BASE + 900 * pageSize;
        AtomicReference<byte[]> got = new AtomicReference<>();
        Thread t = reader(page, got);
        t.join(30_000);
        assertThat(got.get()).as("the faulting thread got its page").isEqualTo(sourcePage(page));
        assertThat(gate.getCount()).as("the background pull is still held on the source").isEqualTo(1);
        assertThat(pages.backgroundPagesServed()).isZero();
        assertThat(pages.urgentPagesServed()).isEqualTo(1);
        gate.countDown();
        assertThat(pager.await(PostcopyState.COMPLETED, 60, TimeUnit.SECONDS)).isEqualTo(PostcopyState.COMPLETED);
        assertMemoryEqualsSource();
    }

    /**
     * A range the source's image cannot read is answered with an explicit record, not a dead
     * serving thread: the target, still missing that page, reports that the migration cannot
     * complete (naming the address) and never zero-fills it; the source learns it and stops.
     */
    @Test
    void anUnreadablePageIsAnsweredExplicitlyAndTheTargetNeverZeroFillsIt() throws Exception {
        long bad = BASE + 700 * pageSize;
        unreadablePage = bad;
        startTarget(0);
        startSource();
        LazyPager pager = endpoint.awaitPager(10_000);
        AtomicReference<byte[]> got = new AtomicReference<>();
        Thread t = reader(bad, got);
        assertThat(pager.await(PostcopyState.CANNOT_COMPLETE, 30, TimeUnit.SECONDS))
                .isEqualTo(PostcopyState.CANNOT_COMPLETE);
        assertThat(pager.failure()).contains(String.format("0x%x", bad)).contains("cannot be read")
                .contains("stays frozen");
        await().atMost(Duration.ofSeconds(10)).until(() -> t.getState() == Thread.State.WAITING);
        assertThat(got.get()).isNull();
        assertThat(target.pagemapEntry(bad) >>> 63).as("page never zero-filled").isZero();
        assertThat(pages.unreadableAnswers()).isEqualTo(1);
        assertThatThrownBy(() -> pages.completed().get(10, TimeUnit.SECONDS))
                .hasMessageContaining("cannot complete").hasMessageContaining(String.format("0x%x", bad));
        assertThat(released.get()).isFalse();
    }
}
