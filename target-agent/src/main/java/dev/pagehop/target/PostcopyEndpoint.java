package dev.pagehop.target;

import dev.pagehop.mm.MemoryManager;
import dev.pagehop.proto.migration.v1.PageDemand;
import dev.pagehop.proto.migration.v1.PageStreamKind;
import dev.pagehop.proto.migration.v1.PageSupply;
import dev.pagehop.track.PageRange;
import dev.pagehop.xfer.PageRangeSet;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target's end of the PageRequests streams of one post-copy migration. The source opens them
 * in pairs (urgent and bulk) with a link epoch; once both of an epoch have greeted they make one
 * {@link StreamPageLink}. The first link starts the {@link LazyPager} (the userfaultfd is
 * registered before the process may resume: see {@link #pagerStarted}); every later one is a
 * reconnect, which resumes a paused pager (or tells a completed one's source again).
 */
final class PostcopyEndpoint {
    private static final Logger LOG = LoggerFactory.getLogger(PostcopyEndpoint.class);

    private final String id;
    private final MemoryManager mm;
    private final PageRangeSet missing;
    private final long maxChunkBytes;
    private final ScheduledExecutorService scheduler;
    private final LongSupplier nanoTime;
    private final LazyPager.Limits limits;
    private final AtomicLong requestIds = new AtomicLong();
    /** Links whose two streams have not both greeted yet, by epoch. */
    private final Map<Long, Pairing> pairing = new HashMap<>();
    private LazyPager pager;
    private long lastEpoch;

    /** The two halves of one link epoch while they meet. */
    private static final class Pairing {
        StreamObserver<PageDemand> urgent;
        StreamObserver<PageDemand> bulk;
        StreamPageLink link;
        Throwable broken;
    }

    PostcopyEndpoint(String id, MemoryManager mm, PageRangeSet missing, long maxChunkBytes,
            ScheduledExecutorService scheduler, LongSupplier nanoTime, long sourceLostAfterMs) {
        this(id, mm, missing, maxChunkBytes, scheduler, nanoTime,
                LazyPager.Limits.defaults().withSourceLostAfterMs(sourceLostAfterMs));
    }

    PostcopyEndpoint(String id, MemoryManager mm, PageRangeSet missing, long maxChunkBytes,
            ScheduledExecutorService scheduler, LongSupplier nanoTime, LazyPager.Limits limits) {
        this.id = id;
        this.mm = mm;
        this.missing = missing;
        this.maxChunkBytes = maxChunkBytes;
        this.scheduler = scheduler;
        this.nanoTime = nanoTime;
        // Never pull more than the source said it sends in one chunk, nor than a message may carry.
        this.limits = limits.withMaxPullBytes(Math.max(mm.pageSize(), Math.min(limits.maxPullBytes(),
                maxChunkBytes / mm.pageSize() * mm.pageSize())));
    }

    synchronized LazyPager pager() {
        return pager;
    }

    synchronized boolean pagerStarted() {
        return pager != null;
    }

    /** What is still missing: the pager's view once it runs, the switchover's before. */
    synchronized List<PageRange> missingRanges() {
        return pager != null ? pager.missingRanges() : missing.toList();
    }

    /** Serves one PageRequests stream (the Migration service's handler delegates here). */
    StreamObserver<PageSupply> open(StreamObserver<PageDemand> out) {
        return new StreamObserver<>() {
            private Pairing pair;
            private boolean onBulk;
            private boolean closed;

            @Override
            public void onNext(PageSupply s) {
                if (closed) {
                    return;
                }
                if (!id.equals(s.getMigrationId())) {
                    refuse(Status.INVALID_ARGUMENT.withDescription("page stream of migration " + id
                            + " got a supply for migration '" + s.getMigrationId() + "'"));
                    return;
                }
                if (pair == null) {
                    greeting(s);
                    return;
                }
                if (s.getRequestId() == 0) {
                    if (!s.getImageLost().isEmpty()) {
                        LOG.warn("migration {}: the source lost its frozen image: {}", id, s.getImageLost());
                        LazyPager p = pager();
                        if (p != null) {
                            p.sourceLost(s.getImageLost());
                        }
                        return;
                    }
                    refuse(Status.INVALID_ARGUMENT.withDescription("migration " + id
                            + ": a second greeting (request id 0) on one page stream"));
                    return;
                }
                StreamPageLink link;
                synchronized (PostcopyEndpoint.this) {
                    link = pair.link;
                }
                if (link == null) {
                    refuse(Status.FAILED_PRECONDITION.withDescription("migration " + id + ": page supply "
                            + s.getRequestId() + " before both streams of the link greeted"));
                    return;
                }
                try {
                    link.supplied(s, onBulk);
                } catch (RuntimeException e) {
                    LOG.warn("migration {}: bad page supply {}: {}", id, s.getRequestId(), e.getMessage());
                    refuse(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
                }
            }

            private void greeting(PageSupply s) {
                if (s.getRequestId() != 0 || s.hasChunk()) {
                    refuse(Status.INVALID_ARGUMENT.withDescription("migration " + id + ": the first message on a page "
                            + "stream must be a greeting (request id 0, no chunk), got request " + s.getRequestId()));
                    return;
                }
                PageStreamKind kind = s.getStreamKind();
                if (kind != PageStreamKind.PAGE_STREAM_KIND_URGENT && kind != PageStreamKind.PAGE_STREAM_KIND_BULK) {
                    refuse(Status.INVALID_ARGUMENT.withDescription("migration " + id + ": page stream greeting names "
                            + "stream kind " + kind + "; URGENT or BULK expected"));
                    return;
                }
                if (s.getLinkEpoch() == 0) {
                    refuse(Status.INVALID_ARGUMENT.withDescription("migration " + id
                            + ": page stream greeting without a link epoch (1, 2, ...)"));
                    return;
                }
                onBulk = kind == PageStreamKind.PAGE_STREAM_KIND_BULK;
                try {
                    pair = join(s.getLinkEpoch(), onBulk, out);
                } catch (IllegalStateException e) {
                    refuse(Status.FAILED_PRECONDITION.withDescription(e.getMessage()));
                }
            }

            private void refuse(Status st) {
                closed = true;
                try {
                    synchronized (out) {
                        out.onError(st.asRuntimeException());
                    }
                } catch (RuntimeException alreadyClosed) {
                    // nothing to tell
                }
                if (pair != null) {
                    halfBroken(pair, new IllegalArgumentException(st.getDescription()));
                }
            }

            @Override
            public void onError(Throwable t) {
                closed = true;
                if (pair != null) {
                    halfBroken(pair, t);
                }
            }

            @Override
            public void onCompleted() {
                closed = true;
                if (pair != null) {
                    halfBroken(pair, new IllegalStateException("the source closed its page stream"));
                }
            }
        };
    }

    private synchronized Pairing join(long epoch, boolean bulk, StreamObserver<PageDemand> out) {
        if (epoch < lastEpoch) {
            throw new IllegalStateException("migration " + id + ": page stream of link " + epoch + " after link "
                    + lastEpoch + " (stale)");
        }
        Pairing p = pairing.computeIfAbsent(epoch, e -> new Pairing());
        if ((bulk ? p.bulk : p.urgent) != null || p.link != null) {
            throw new IllegalStateException("migration " + id + ": link " + epoch + " already has its "
                    + (bulk ? "bulk" : "urgent") + " stream");
        }
        if (bulk) {
            p.bulk = out;
        } else {
            p.urgent = out;
        }
        if (p.urgent != null && p.bulk != null && p.broken == null) {
            pairing.remove(epoch);
            lastEpoch = epoch;
            // Halves of older links that never met are stale now.
            for (var it = pairing.entrySet().iterator(); it.hasNext();) {
                var e = it.next();
                if (e.getKey() < epoch) {
                    it.remove();
                    e.getValue().broken = new IllegalStateException("superseded by link " + epoch);
                    closeHalves(e.getValue(), "superseded by link " + epoch);
                }
            }
            p.link = new StreamPageLink(id, epoch, mm.pageSize(), maxChunkBytes, p.urgent, p.bulk, requestIds);
            attach(p.link);
        }
        return p;
    }

    private void halfBroken(Pairing p, Throwable why) {
        StreamPageLink link;
        synchronized (this) {
            link = p.link;
            if (link == null) {
                p.broken = why;
                closeHalves(p, "the other page stream of this link broke");
                return;
            }
        }
        link.broken(why);
    }

    private void closeHalves(Pairing p, String why) {
        for (StreamObserver<PageDemand> o : List.of(p.urgent == null ? NONE : p.urgent, p.bulk == null ? NONE : p.bulk)) {
            try {
                synchronized (o) {
                    o.onError(Status.UNAVAILABLE.withDescription("migration " + id + ": " + why).asRuntimeException());
                }
            } catch (RuntimeException alreadyClosed) {
                // nothing to tell
            }
        }
    }

    private static final StreamObserver<PageDemand> NONE = new StreamObserver<>() {
        @Override
        public void onNext(PageDemand value) {
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onCompleted() {
        }
    };

    private void attach(StreamPageLink link) {
        if (pager == null) {
            pager = new LazyPager(id, mm, missing, link, null, scheduler, nanoTime, limits);
            notifyAll();
            return;
        }
        LOG.info("migration {}: the source reopened the page streams (link {})", id, link.epoch());
        pager.replaceLink(link);
    }

    /** Waits until the source's first link started the pager. */
    synchronized LazyPager awaitPager(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (pager == null) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                throw new IllegalStateException("migration " + id + ": the source opened no page streams within "
                        + timeoutMillis + " ms");
            }
            wait(left);
        }
        return pager;
    }
}
