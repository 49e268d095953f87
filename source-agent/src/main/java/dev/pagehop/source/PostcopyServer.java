package dev.pagehop.source;

import com.google.common.util.concurrent.MoreExecutors;
import dev.pagehop.proto.migration.v1.MigrationGrpc;
import dev.pagehop.proto.migration.v1.PageDemand;
import dev.pagehop.proto.migration.v1.PageStreamKind;
import dev.pagehop.proto.migration.v1.PageSupply;
import dev.pagehop.xfer.ChunkEncoder;
import dev.pagehop.xfer.ChunkSpec;
import dev.pagehop.xfer.UrgentPageStream;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source's half of post-copy: serves the target's page demands from the frozen image and
 * releases the image only when the target says every page is installed.
 *
 * <p>A link is two PageRequests streams, urgent and bulk, so an urgent page (a thread on the target
 * is blocked on it) never queues behind a multi-MiB background chunk. The bulk stream is served by
 * its own thread. The urgent stream may run on a connection of its own (as QEMU's postcopy-preempt
 * channel does), where the bulk stream's megabytes cannot sit ahead of it in the socket or the
 * event loop, and its demands are answered on the gRPC thread that delivers them: reading one
 * page from the frozen image costs microseconds, while every hand-off to another thread is a
 * wake-up that, on a busy host, waits for a core (measured in BENCHMARKS.md). A demand
 * for a range the frozen image cannot read is answered with an explicit "unreadable" record
 * naming the range and the reason; the serving thread carries on.
 *
 * <p>The source opens the streams, so the source reconnects: when either stream of a link breaks,
 * both are closed and opened again as the next link epoch, with exponential backoff (10 ms
 * doubling to 2 s) or at once on {@link #recoverNow}. The target's pager then asks again for what
 * its blocked threads wait on. Nothing here zero-fills or gives up on its own; {@link #stop} ends
 * it (the target is told the image is gone and reports that it cannot complete).
 */
public final class PostcopyServer {
    private static final Logger LOG = LoggerFactory.getLogger(PostcopyServer.class);
    private static final long BACKOFF_MIN_MS = 10;
    private static final long BACKOFF_MAX_MS = 2_000;
    /**
     * The target keeps one background pull in flight; a queue this deep means a misbehaving
     * peer, whose link is then dropped.
     */
    private static final int BULK_QUEUE = 64;

    private final String id;
    private final long pageSize;
    private final ChunkEncoder.PageReader image;
    private final MigrationGrpc.MigrationStub stub;
    private final MigrationGrpc.MigrationStub urgentStub;
    private final ScheduledExecutorService scheduler;
    private final Runnable release;
    private final CompletableFuture<Void> completed = new CompletableFuture<>();
    private final BlockingQueue<Job> bulkQueue = new ArrayBlockingQueue<>(BULK_QUEUE);
    private final AtomicLong urgentPages = new AtomicLong();
    private final AtomicLong backgroundPages = new AtomicLong();
    private final AtomicLong unreadable = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong connects = new AtomicLong();
    private final Thread bulkServer;
    private volatile boolean stopped;
    private volatile Consumer<Boolean> linkListener = up -> { };
    private volatile dev.pagehop.proto.types.v1.PostcopyStats targetStats;
    private volatile dev.pagehop.migrate.FaultInjector faults = dev.pagehop.migrate.FaultInjector.none();
    /** The link HOLD_POSTCOPY_AFTER_PAGES silenced, if it fired: its demands go unanswered until it breaks. */
    private volatile Link held;

    // guarded by this
    private long backoffMs = BACKOFF_MIN_MS;
    /** A cut by fault point: no automatic reconnect until {@link #recoverNow}. */
    private boolean heldForRecover;
    private Link current;
    private ScheduledFuture<?> pendingReconnect;

    /** One demand on one stream. */
    private record Job(PageDemand demand, Stream stream) {
    }

    /**
     * @param image   reads the frozen process's memory (MemoryManager.peek of the source)
     * @param release called once the target confirmed completion: frees the frozen image
     */
    public PostcopyServer(String id, long pageSize, ChunkEncoder.PageReader image, MigrationGrpc.MigrationStub stub,
            ScheduledExecutorService scheduler, Runnable release) {
        this(id, pageSize, image, stub, stub, scheduler, release);
    }

    /**
     * @param urgentStub where the urgent stream goes: a channel of its own keeps it out of the
     *                   bulk stream's connection (its answers run on that channel's event loop)
     */
    public PostcopyServer(String id, long pageSize, ChunkEncoder.PageReader image, MigrationGrpc.MigrationStub stub,
            MigrationGrpc.MigrationStub urgentStub, ScheduledExecutorService scheduler, Runnable release) {
        this.id = id;
        this.pageSize = pageSize;
        this.image = image;
        this.stub = stub;
        // Urgent demands are answered inline on the thread gRPC delivers them on (see the class
        // comment); with the direct executor that is the transport's own thread, one hop fewer.
        // The header lets the target do the same on its side (UrgentPageStream).
        this.urgentStub = urgentStub.withExecutor(MoreExecutors.directExecutor())
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(UrgentPageStream.headers()));
        this.scheduler = scheduler;
        this.release = release;
        this.bulkServer = Thread.ofPlatform().name("postcopy-bulk-" + id).daemon().unstarted(() -> serve(bulkQueue));
    }

    public void start() {
        bulkServer.start();
        connect();
    }

    /** The agent's fault points (CUT_PAGE_LINK_AFTER_PAGES, HOLD_POSTCOPY_AFTER_PAGES); inert by default. */
    public void faults(dev.pagehop.migrate.FaultInjector f) {
        this.faults = f;
    }

    /**
     * Tells {@code l} when the link goes down (false: the migration is paused) and when a new
     * one is up again (true). Called from gRPC and scheduler threads; must not block.
     */
    public void onLinkChange(Consumer<Boolean> l) {
        linkListener = l;
    }

    /** Completes when the target confirmed every page installed (and the image was released). */
    public CompletableFuture<Void> completed() {
        return completed;
    }

    public long urgentPagesServed() {
        return urgentPages.get();
    }

    public long backgroundPagesServed() {
        return backgroundPages.get();
    }

    /** Demands answered with an "unreadable" record (the frozen image has no such range). */
    public long unreadableAnswers() {
        return unreadable.get();
    }

    public long bytesServed() {
        return bytes.get();
    }

    /** The target's final post-copy figures, from its completion demand; null before (or if it sent none). */
    public dev.pagehop.proto.types.v1.PostcopyStats targetStats() {
        return targetStats;
    }

    /** Links opened so far (1 + reconnects): each is one urgent and one bulk stream. */
    public long connects() {
        return connects.get();
    }

    /** True while no link is up (the streams broke and a reconnect is pending). */
    public synchronized boolean paused() {
        return !completed.isDone() && !stopped && (current == null || current.broken);
    }

    /**
     * Reconnects a paused link now, with the backoff reset (the CLI's recover).
     *
     * @throws IllegalStateException naming why not: completed, stopped, or a link is up
     */
    public void recoverNow() {
        synchronized (this) {
            if (completed.isDone()) {
                throw new IllegalStateException("post-copy of migration " + id + " has completed; nothing to recover");
            }
            if (stopped) {
                throw new IllegalStateException("post-copy of migration " + id + " has stopped serving");
            }
            if (current != null && !current.broken) {
                throw new IllegalStateException("post-copy of migration " + id + " is not paused: link " + current.epoch
                        + " is up");
            }
            backoffMs = BACKOFF_MIN_MS;
            heldForRecover = false;
            if (pendingReconnect != null) {
                pendingReconnect.cancel(false);
                pendingReconnect = null;
            }
        }
        LOG.info("migration {}: recovering the page link now", id);
        connect();
    }

    /** Ends serving: the frozen image is gone (agent shutdown, process killed); the target is told. */
    public void stop() {
        stop("the source stopped serving post-copy");
    }

    public void stop(String why) {
        Link l;
        synchronized (this) {
            if (stopped) {
                return;
            }
            stopped = true;
            l = current;
            if (pendingReconnect != null) {
                pendingReconnect.cancel(false);
            }
        }
        bulkServer.interrupt();
        if (l != null && !l.broken && !completed.isDone()) {
            l.urgent.send(PageSupply.newBuilder().setMigrationId(id).setRequestId(0).setImageLost(why).build());
            l.close();
        }
        completed.completeExceptionally(new IllegalStateException(why));
    }

    private void connect() {
        Link link;
        synchronized (this) {
            if (stopped || completed.isDone()) {
                return;
            }
            pendingReconnect = null;
            if (current != null && !current.broken) {
                return;
            }
            link = new Link(connects.incrementAndGet());
            current = link;
        }
        // Detached from the caller's gRPC context: a reconnect asked for by RecoverMigration must
        // outlive that call, whose context is cancelled as soon as it answers.
        io.grpc.Context.current().fork().run(() -> {
            urgentStub.pageRequests(link.urgent);
            if (!link.broken) {
                stub.pageRequests(link.bulk);
            }
        });
        link.urgent.greet();
        link.bulk.greet();
    }

    private void reconnectLater(Link broken) {
        long delay;
        synchronized (this) {
            if (stopped || completed.isDone() || current != broken || pendingReconnect != null) {
                return;
            }
            if (heldForRecover) {
                LOG.warn("migration {}: page link {} cut by fault point; waiting for RecoverMigration", id, broken.epoch);
                return;
            }
            delay = backoffMs;
            backoffMs = Math.min(BACKOFF_MAX_MS, backoffMs * 2);
            try {
                pendingReconnect = scheduler.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                LOG.warn("migration {}: page link {} lost while the agent shuts down", id, broken.epoch);
                return;
            }
        }
        LOG.warn("migration {}: page link {} lost, reopening in {} ms", id, broken.epoch, delay);
    }

    private void serve(BlockingQueue<Job> queue) {
        while (!stopped) {
            Job j;
            try {
                j = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (!answer(j)) {
                return;
            }
        }
    }

    /** Reads and sends the answer to one demand; false once stopped (nothing read after stop() leaves). */
    private boolean answer(Job j) {
        if (j.stream.link.broken || j.stream.link == held) {
            return true;
        }
        PageDemand d = j.demand;
        long length = d.getPageCount() * pageSize;
        PageSupply.Builder answer = PageSupply.newBuilder().setMigrationId(id).setRequestId(d.getRequestId());
        long wire;
        try {
            ChunkEncoder.Encoded e = ChunkEncoder.pages(id, 0, d.getRequestId(),
                    new ChunkSpec(d.getAddress(), length, pageSize), image);
            answer.setChunk(e.chunk());
            wire = e.wireBytes();
        } catch (RuntimeException e) {
            // ErrnoException (no mapping there), or a range that is not page-aligned: say so
            // instead of dying; the target decides what a page it cannot get means.
            String why = String.format("the frozen image of migration %s cannot be read at [0x%x, 0x%x): %s", id,
                    d.getAddress(), d.getAddress() + length, e.getMessage());
            LOG.warn("migration {}: request {}: {}", id, d.getRequestId(), why);
            answer.setUnreadable(why);
            unreadable.incrementAndGet();
            wire = 0;
        }
        if (stopped) {
            // The image may have been torn down under the read: nothing read after stop() leaves.
            return false;
        }
        if (answer.hasChunk()) {
            // The link that carries the armed count is the one held, whichever link asks next;
            // held before the count shows in the stats, so whoever sees it sees the hold in place.
            long servedAfter = urgentPages.get() + backgroundPages.get() + d.getPageCount();
            if (faults.fireIfReached(dev.pagehop.migrate.FaultPoint.HOLD_POSTCOPY_AFTER_PAGES, servedAfter)) {
                LOG.warn("migration {}: fault point hold-postcopy-after-pages: page link {} goes silent after {} pages",
                        id, j.stream.link.epoch, servedAfter);
                held = j.stream.link;
            }
            (d.getBackground() ? backgroundPages : urgentPages).addAndGet(d.getPageCount());
            bytes.addAndGet(wire);
        }
        j.stream.send(answer.build());
        if (faults.fireIfReached(dev.pagehop.migrate.FaultPoint.CUT_PAGE_LINK_AFTER_PAGES,
                urgentPages.get() + backgroundPages.get())) {
            LOG.warn("migration {}: fault point cut-page-link-after-pages cuts page link {}", id, j.stream.link.epoch);
            synchronized (this) {
                heldForRecover = true;
            }
            j.stream.link.broken(new IllegalStateException("fault point cut-page-link-after-pages"));
        }
        return true;
    }

    private void completedByTarget(Link link) {
        if (!endServing(link)) {
            return;
        }
        LOG.info("migration {}: target installed every page; releasing the frozen image", id);
        release.run();
        completed.complete(null);
    }

    private void failedAtTarget(Link link, String why) {
        if (endServing(link)) {
            completed.completeExceptionally(new IllegalStateException("the target reports it cannot complete: " + why));
        }
    }

    /** The target ended post-copy, one way or the other: stop serving; false if already ended. */
    private boolean endServing(Link link) {
        synchronized (this) {
            if (completed.isDone()) {
                return false;
            }
            stopped = true;
            if (pendingReconnect != null) {
                pendingReconnect.cancel(false);
            }
        }
        later(link::close);
        bulkServer.interrupt();
        return true;
    }

    /**
     * Runs a teardown off the calling gRPC callback: closing a stream from inside the other
     * side's send (in-process transports call straight through) would take locks in the
     * opposite order to that side.
     */
    private void later(Runnable r) {
        try {
            scheduler.execute(r);
        } catch (RejectedExecutionException e) {
            r.run();
        }
    }

    /** One link epoch: the urgent and the bulk stream, which live and die together. */
    private final class Link {
        final long epoch;
        final Stream urgent;
        final Stream bulk;
        volatile boolean broken;
        private volatile boolean up;

        Link(long epoch) {
            this.epoch = epoch;
            this.urgent = new Stream(this, PageStreamKind.PAGE_STREAM_KIND_URGENT);
            this.bulk = new Stream(this, PageStreamKind.PAGE_STREAM_KIND_BULK);
        }

        void ready() {
            if (!up && !broken && urgent.ready && bulk.ready) {
                up = true;
                synchronized (PostcopyServer.this) {
                    backoffMs = BACKOFF_MIN_MS;
                }
                linkListener.accept(true);
            }
        }

        void broken(Throwable why) {
            synchronized (this) {
                if (broken) {
                    return;
                }
                broken = true;
            }
            if (completed.isDone() || stopped) {
                later(this::close);
                return;
            }
            LOG.warn("migration {}: page link {} broke: {}", id, epoch, why.toString());
            later(() -> {
                urgent.cancel(why);
                bulk.cancel(why);
            });
            linkListener.accept(false);
            reconnectLater(this);
        }

        void close() {
            urgent.complete();
            bulk.complete();
        }
    }

    private final class Stream implements ClientResponseObserver<PageSupply, PageDemand> {
        private final Link link;
        private final PageStreamKind kind;
        private volatile ClientCallStreamObserver<PageSupply> out;
        /** Serialises onNext and onCompleted, which a call stream does not take concurrently. */
        private final Object sendLock = new Object();
        private volatile boolean ended;
        volatile boolean ready;

        Stream(Link link, PageStreamKind kind) {
            this.link = link;
            this.kind = kind;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<PageSupply> requestStream) {
            out = requestStream;
            requestStream.setOnReadyHandler(() -> {
                if (requestStream.isReady() && !ready) {
                    ready = true;
                    link.ready();
                }
            });
        }

        void send(PageSupply s) {
            RuntimeException failed = null;
            synchronized (sendLock) {
                if (out != null && !ended && !link.broken) {
                    try {
                        out.onNext(s);
                    } catch (RuntimeException e) {
                        failed = e;
                    }
                }
            }
            if (failed != null) {
                link.broken(failed);
            }
        }

        void complete() {
            synchronized (sendLock) {
                if (ended) {
                    return;
                }
                ended = true;
                if (out == null) {
                    return;
                }
                try {
                    out.onCompleted();
                } catch (RuntimeException alreadyClosed) {
                    // the call ended first
                }
            }
        }

        void cancel(Throwable why) {
            synchronized (sendLock) {
                if (ended) {
                    return;
                }
                ended = true;
            }
            if (out != null) {
                out.cancel("page link " + link.epoch + " of migration " + id + " broke", why);
            }
        }

        @Override
        public void onNext(PageDemand d) {
            if (d.getComplete()) {
                if (d.hasStats()) {
                    targetStats = d.getStats();
                }
                completedByTarget(link);
                return;
            }
            if (!d.getCannotComplete().isEmpty()) {
                LOG.warn("migration {}: the target reports post-copy cannot complete: {}", id, d.getCannotComplete());
                failedAtTarget(link, d.getCannotComplete());
                return;
            }
            if (!id.equals(d.getMigrationId()) || d.getPageCount() <= 0
                    || d.getBackground() != (kind == PageStreamKind.PAGE_STREAM_KIND_BULK)) {
                LOG.warn("migration {}: ignoring page demand {} for '{}' of {} pages (background {}) on the {} stream",
                        id, d.getRequestId(), d.getMigrationId(), d.getPageCount(), d.getBackground(), kind);
                return;
            }
            if (!ready) {
                ready = true;
                link.ready();
            }
            if (kind == PageStreamKind.PAGE_STREAM_KIND_URGENT) {
                // Answered here, on the thread that delivered it (see the class comment).
                if (!stopped) {
                    answer(new Job(d, this));
                }
                return;
            }
            if (!bulkQueue.offer(new Job(d, this))) {
                link.broken(new IllegalStateException("the target has more than " + bulkQueue.size()
                        + " demands queued on the " + kind + " stream"));
            }
        }

        @Override
        public void onError(Throwable t) {
            ended = true;
            link.broken(t);
        }

        @Override
        public void onCompleted() {
            ended = true;
            if (!completed.isDone()) {
                link.broken(new IllegalStateException("the target closed the " + kind + " stream"));
            }
        }

        private void greet() {
            send(PageSupply.newBuilder().setMigrationId(id).setRequestId(0).setStreamKind(kind).setLinkEpoch(link.epoch)
                    .build());
        }
    }
}
