package dev.pagehop.source;

import dev.pagehop.proto.migration.v1.MigrationGrpc;
import dev.pagehop.proto.migration.v1.StatusRequest;
import dev.pagehop.proto.migration.v1.StatusResponse;
import dev.pagehop.proto.types.v1.PostcopyStats;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The post-copy figures of one outgoing migration, as the source can know them: the target's
 * (faults, latency, blocked time, pages) asked with a Status call every {@link #POLL_MS} while
 * post-copy runs, replaced by the final ones the target sends with its completion demand; plus
 * what the source itself served. The polls are asynchronous and never block the page server;
 * a poll that fails (target unreachable, post-copy paused) just leaves the last figures.
 */
final class PostcopyProgress {
    private static final Logger LOG = LoggerFactory.getLogger(PostcopyProgress.class);
    /** As often as the CLI's default progress interval, so every progress line has fresh figures. */
    static final long POLL_MS = 500;

    private final String id;
    private final MigrationGrpc.MigrationStub stub;
    private final PostcopyServer server;
    private final long rpcTimeoutMs;
    private final AtomicBoolean polling = new AtomicBoolean();
    private volatile PostcopyStats target;
    private volatile ScheduledFuture<?> poller;

    PostcopyProgress(String id, MigrationGrpc.MigrationStub stub, PostcopyServer server, long rpcTimeoutMs) {
        this.id = id;
        this.stub = stub;
        this.server = server;
        this.rpcTimeoutMs = rpcTimeoutMs;
    }

    /** Starts polling the target on {@code scheduler} (stops when it shuts down, or at {@link #finish}). */
    void start(ScheduledExecutorService scheduler) {
        try {
            poller = scheduler.scheduleWithFixedDelay(this::poll, POLL_MS, POLL_MS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("migration {}: no post-copy polling, the scheduler is shut down", id);
        }
    }

    /** Post-copy ended: the completion demand's figures, when the target sent them, are final. */
    void finish() {
        ScheduledFuture<?> p = poller;
        if (p != null) {
            p.cancel(false);
        }
        PostcopyStats last = server.targetStats();
        if (last != null) {
            target = last;
        }
    }

    /** The target's figures so far with the source's own added; never null. */
    PostcopyStats stats() {
        PostcopyStats t = target;
        return (t == null ? PostcopyStats.newBuilder() : t.toBuilder())
                .setSourcePagesUrgent(server.urgentPagesServed())
                .setSourcePagesBackground(server.backgroundPagesServed())
                .setSourceBytes(server.bytesServed())
                .build();
    }

    /** Whether the target has reported any figures yet. */
    boolean targetReported() {
        return target != null;
    }

    void accept(StatusResponse r) {
        // Figures on the completion demand are final; a late poll must not replace them.
        if (r.hasPostcopy() && server.targetStats() == null) {
            target = r.getPostcopy();
        }
    }

    private void poll() {
        if (!polling.compareAndSet(false, true)) {
            return; // the previous poll has not answered yet
        }
        stub.withDeadlineAfter(rpcTimeoutMs, TimeUnit.MILLISECONDS).status(
                StatusRequest.newBuilder().setMigrationId(id).build(), new StreamObserver<>() {
                    @Override
                    public void onNext(StatusResponse r) {
                        accept(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        polling.set(false);
                        LOG.debug("migration {}: post-copy status poll failed: {}", id, t.toString());
                    }

                    @Override
                    public void onCompleted() {
                        polling.set(false);
                    }
                });
    }
}
