package dev.pagehop.target;

import dev.pagehop.mm.MemoryManager;
import dev.pagehop.proto.migration.v1.PageDemand;
import dev.pagehop.proto.migration.v1.PageSupply;
import dev.pagehop.xfer.PageRangeSet;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target's end of the PageRequests streams of one post-copy migration. The first stream the
 * source opens starts the {@link LazyPager} (the userfaultfd is registered before the process may
 * resume: see {@link #pagerStarted}); every later stream is a reconnect, which resumes a paused
 * pager on the new stream.
 */
final class PostcopyEndpoint {
    private static final Logger LOG = LoggerFactory.getLogger(PostcopyEndpoint.class);

    private final String id;
    private final MemoryManager mm;
    private final PageRangeSet missing;
    private final long maxChunkBytes;
    private final ScheduledExecutorService scheduler;
    private final LongSupplier nanoTime;
    private final long sourceLostAfterMs;
    private final AtomicLong requestIds = new AtomicLong();
    private LazyPager pager;
    private volatile PostcopyMeters meters = PostcopyMeters.NONE;

    PostcopyEndpoint(String id, MemoryManager mm, PageRangeSet missing, long maxChunkBytes,
            ScheduledExecutorService scheduler, LongSupplier nanoTime, long sourceLostAfterMs) {
        this.sourceLostAfterMs = sourceLostAfterMs;
        this.id = id;
        this.mm = mm;
        this.missing = missing;
        this.maxChunkBytes = maxChunkBytes;
        this.scheduler = scheduler;
        this.nanoTime = nanoTime;
    }

    synchronized LazyPager pager() {
        return pager;
    }

    synchronized boolean pagerStarted() {
        return pager != null;
    }

    /** Serves one PageRequests stream (the Migration service's handler delegates here). */
    StreamObserver<PageSupply> open(StreamObserver<PageDemand> out) {
        StreamPageLink link = new StreamPageLink(id, mm.pageSize(), maxChunkBytes, out, requestIds);
        link.finalStats(this::finalStats);
        return new StreamObserver<>() {
            private boolean greeted;

            @Override
            public void onNext(PageSupply s) {
                if (!id.equals(s.getMigrationId())) {
                    out.onError(Status.INVALID_ARGUMENT.withDescription("page stream of migration " + id
                            + " got a supply for migration '" + s.getMigrationId() + "'").asRuntimeException());
                    link.broken(new IllegalArgumentException("wrong migration id"));
                    return;
                }
                if (!greeted) {
                    greeted = true;
                    attach(link);
                    return;
                }
                try {
                    link.supplied(s);
                } catch (RuntimeException e) {
                    LOG.warn("migration {}: bad page supply {}: {}", id, s.getRequestId(), e.getMessage());
                    out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
                    link.broken(e);
                }
            }

            @Override
            public void onError(Throwable t) {
                link.broken(t);
            }

            @Override
            public void onCompleted() {
                link.broken(new IllegalStateException("the source closed the page stream"));
            }
        };
    }

    private synchronized void attach(StreamPageLink link) {
        if (pager == null) {
            pager = new LazyPager(id, mm, missing, link, null, scheduler, nanoTime, sourceLostAfterMs);
            pager.meters(meters);
            notifyAll();
            return;
        }
        LOG.info("migration {}: the source reopened the page stream", id);
        pager.replaceLink(link);
    }

    /** Where the pager counts for /metrics; set before the source's first stream arrives. */
    void meters(PostcopyMeters m) {
        meters = m;
    }

    /** What the completion demand tells the source: the pager's final figures. */
    private dev.pagehop.proto.types.v1.PostcopyStats finalStats() {
        LazyPager p = pager();
        return p == null ? null : TargetWire.postcopy(p);
    }

    /** Waits until the source's first stream started the pager. */
    synchronized LazyPager awaitPager(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (pager == null) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                throw new IllegalStateException("migration " + id + ": the source opened no page stream within "
                        + timeoutMillis + " ms");
            }
            wait(left);
        }
        return pager;
    }
}
