package dev.pagehop.source;

import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.migrate.FaultPoint;
import dev.pagehop.proto.migration.v1.MigrationGrpc;
import dev.pagehop.proto.migration.v1.PageDemand;
import dev.pagehop.proto.migration.v1.PageSupply;
import dev.pagehop.xfer.ChunkEncoder;
import dev.pagehop.xfer.ChunkSpec;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source's half of post-copy: serves the target's page demands from the frozen image on the
 * PageRequests stream, urgent demands (a thread on the target is blocked) ahead of background
 * ones, and releases the image only when the target says every page is installed.
 *
 * <p>The source opens the stream, so the source reconnects: when the stream breaks it reopens it
 * with exponential backoff (10 ms doubling to 2 s) and greets the target, whose pager then asks
 * again for what its blocked threads wait on. Nothing here zero-fills or gives up on its own;
 * {@link #stop} ends it (the image is then lost and the target reports it cannot complete).
 */
public final class PostcopyServer {
    private static final Logger LOG = LoggerFactory.getLogger(PostcopyServer.class);
    private static final long BACKOFF_MIN_MS = 10;
    private static final long BACKOFF_MAX_MS = 2_000;

    private final String id;
    private final long pageSize;
    private final ChunkEncoder.PageReader image;
    private final MigrationGrpc.MigrationStub stub;
    private final ScheduledExecutorService scheduler;
    private final Runnable release;
    private final CompletableFuture<Void> completed = new CompletableFuture<>();
    private final PriorityBlockingQueue<Job> queue = new PriorityBlockingQueue<>();
    private final AtomicLong order = new AtomicLong();
    private final AtomicLong urgentPages = new AtomicLong();
    private final AtomicLong backgroundPages = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong connects = new AtomicLong();
    private final Thread server;
    private volatile boolean stopped;
    private volatile long backoffMs = BACKOFF_MIN_MS;
    private final FaultInjector faults;
    private final LinkListener link;
    /** The stream HOLD_POSTCOPY_AFTER_PAGES froze, if it fired: its demands go unanswered. */
    private volatile Stream held;

    /** One demand on one stream; urgent before background, then first come first served. */
    private record Job(PageDemand demand, Stream stream, long order) implements Comparable<Job> {
        @Override
        public int compareTo(Job o) {
            if (demand.getBackground() != o.demand.getBackground()) {
                return demand.getBackground() ? 1 : -1;
            }
            return Long.compare(order, o.order);
        }
    }

    /**
     * @param image   reads the frozen process's memory (MemoryManager.peek of the source)
     * @param release called once the target confirmed completion: frees the frozen image
     */
    public PostcopyServer(String id, long pageSize, ChunkEncoder.PageReader image, MigrationGrpc.MigrationStub stub,
            ScheduledExecutorService scheduler, Runnable release) {
        this(id, pageSize, image, stub, scheduler, release, FaultInjector.none(), LinkListener.NONE);
    }

    /** Told when the page stream to the target is lost and when a reopened one carries demands again. */
    public interface LinkListener {
        LinkListener NONE = new LinkListener() {
            @Override
            public void lost(String why) {
            }

            @Override
            public void restored() {
            }
        };

        /** The stream broke (called for every failed attempt while the target stays unreachable). */
        void lost(String why);

        /** A reopened stream delivered the target's first demand. */
        void restored();
    }

    /**
     * @param faults fault points of the source (HOLD_POSTCOPY_AFTER_PAGES)
     * @param link   told when the link to the target is lost and back
     */
    public PostcopyServer(String id, long pageSize, ChunkEncoder.PageReader image, MigrationGrpc.MigrationStub stub,
            ScheduledExecutorService scheduler, Runnable release, FaultInjector faults, LinkListener link) {
        this.faults = faults;
        this.link = link;
        this.id = id;
        this.pageSize = pageSize;
        this.image = image;
        this.stub = stub;
        this.scheduler = scheduler;
        this.release = release;
        this.server = Thread.ofPlatform().name("postcopy-server-" + id).daemon().unstarted(this::serve);
    }

    public void start() {
        server.start();
        connect();
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

    public long bytesServed() {
        return bytes.get();
    }

    /** Streams opened so far (1 + reconnects). */
    public long connects() {
        return connects.get();
    }

    /** Ends serving: the frozen image is gone (agent shutdown, process killed). */
    public void stop() {
        stopped = true;
        server.interrupt();
    }

    private void connect() {
        if (stopped || completed.isDone()) {
            return;
        }
        Stream s = new Stream();
        connects.incrementAndGet();
        stub.pageRequests(s);
        s.greet();
    }

    private void reconnectLater() {
        if (stopped || completed.isDone()) {
            return;
        }
        long delay = backoffMs;
        backoffMs = Math.min(BACKOFF_MAX_MS, backoffMs * 2);
        LOG.warn("migration {}: page stream lost, reopening in {} ms", id, delay);
        scheduler.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    private void serve() {
        while (!stopped) {
            Job j;
            try {
                j = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (j.stream.broken || j.stream == held) {
                continue;
            }
            PageDemand d = j.demand;
            ChunkEncoder.Encoded e = ChunkEncoder.pages(id, 0, d.getRequestId(),
                    new ChunkSpec(d.getAddress(), d.getPageCount() * pageSize, pageSize), image);
            if (stopped) {
                // The image may have been torn down under the read: nothing read after stop() leaves.
                return;
            }
            // The stream that carries the armed count is the one held, whichever stream asks next;
            // held before the count shows in the stats, so whoever sees it sees the hold in place.
            long servedAfter = urgentPages.get() + backgroundPages.get() + d.getPageCount();
            if (faults.fireIfReached(FaultPoint.HOLD_POSTCOPY_AFTER_PAGES, servedAfter)) {
                LOG.warn("migration {}: fault point hold-postcopy-after-pages: page stream held after {} pages", id,
                        servedAfter);
                held = j.stream;
            }
            (d.getBackground() ? backgroundPages : urgentPages).addAndGet(d.getPageCount());
            bytes.addAndGet(e.wireBytes());
            j.stream.send(PageSupply.newBuilder().setMigrationId(id).setRequestId(d.getRequestId()).setChunk(e.chunk())
                    .build());
        }
    }

    private final class Stream implements ClientResponseObserver<PageSupply, PageDemand> {
        private ClientCallStreamObserver<PageSupply> out;
        volatile boolean broken;
        private volatile boolean delivered;

        @Override
        public void beforeStart(ClientCallStreamObserver<PageSupply> requestStream) {
            out = requestStream;
        }

        synchronized void send(PageSupply s) {
            if (!broken) {
                out.onNext(s);
            }
        }

        @Override
        public void onNext(PageDemand d) {
            if (!delivered) {
                delivered = true;
                if (connects.get() > 1) {
                    link.restored();
                }
            }
            if (d.getComplete()) {
                LOG.info("migration {}: target installed every page; releasing the frozen image", id);
                synchronized (this) {
                    out.onCompleted();
                }
                release.run();
                completed.complete(null);
                stopped = true;
                server.interrupt();
                return;
            }
            if (!id.equals(d.getMigrationId()) || d.getPageCount() <= 0) {
                LOG.warn("migration {}: ignoring page demand {} for '{}' of {} pages", id, d.getRequestId(),
                        d.getMigrationId(), d.getPageCount());
                return;
            }
            backoffMs = BACKOFF_MIN_MS;
            queue.add(new Job(d, this, order.incrementAndGet()));
        }

        @Override
        public void onError(Throwable t) {
            broken = true;
            if (!stopped && !completed.isDone()) {
                link.lost(io.grpc.Status.fromThrowable(t).toString());
            }
            reconnectLater();
        }

        @Override
        public void onCompleted() {
            broken = true;
            if (!completed.isDone()) {
                link.lost("the target closed the page stream");
                reconnectLater();
            }
        }

        private void greet() {
            send(PageSupply.newBuilder().setMigrationId(id).setRequestId(0).build());
        }
    }
}
