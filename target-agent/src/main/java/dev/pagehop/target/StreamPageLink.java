package dev.pagehop.target;

import com.google.protobuf.ByteString;
import dev.pagehop.proto.migration.v1.PageDemand;
import dev.pagehop.proto.migration.v1.PageSupply;
import dev.pagehop.xfer.ChunkDecoder;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PageLink} over the two PageRequests streams of one link epoch the source opened:
 * urgent demands go out on the urgent stream, background pulls on the bulk stream, and pages come
 * back as requests carrying the request id. When either stream breaks, every open request fails
 * {@link PageLink.Failure#UNREACHABLE} and the other stream is closed too, so the source reopens
 * both; the pager pauses until it has.
 */
final class StreamPageLink implements PageLink {
    private static final Logger LOG = LoggerFactory.getLogger(StreamPageLink.class);

    private final String id;
    private final long epoch;
    private final long pageSize;
    private final long maxChunkBytes;
    private final StreamObserver<PageDemand> urgent;
    private final StreamObserver<PageDemand> bulk;
    private final Map<Long, Pending> open = new ConcurrentHashMap<>();
    private final AtomicLong nextRequest;
    private volatile boolean broken;

    private record Pending(long address, int pages, boolean background, CompletableFuture<byte[]> future) {
    }

    StreamPageLink(String id, long epoch, long pageSize, long maxChunkBytes, StreamObserver<PageDemand> urgent,
            StreamObserver<PageDemand> bulk, AtomicLong requestIds) {
        this.id = id;
        this.epoch = epoch;
        this.pageSize = pageSize;
        this.maxChunkBytes = maxChunkBytes;
        this.urgent = urgent;
        this.bulk = bulk;
        this.nextRequest = requestIds;
    }

    long epoch() {
        return epoch;
    }

    @Override
    public CompletableFuture<byte[]> demand(long address, int pages) {
        return send(urgent, address, pages, false);
    }

    @Override
    public CompletableFuture<byte[]> pull(long address, int pages) {
        return send(bulk, address, pages, true);
    }

    private CompletableFuture<byte[]> send(StreamObserver<PageDemand> out, long address, int pages, boolean background) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        if (broken) {
            f.completeExceptionally(new LinkException(Failure.UNREACHABLE, "page streams of migration " + id
                    + " (link " + epoch + ") are closed"));
            return f;
        }
        long rid = nextRequest.incrementAndGet();
        open.put(rid, new Pending(address, pages, background, f));
        try {
            synchronized (out) {
                out.onNext(PageDemand.newBuilder().setMigrationId(id).setRequestId(rid).setAddress(address)
                        .setPageCount(pages).setBackground(background).build());
            }
        } catch (RuntimeException e) {
            broken(e);
        }
        return f;
    }

    /** A page supply from the source: checked like a bulk chunk, then handed to the pager. */
    void supplied(PageSupply s, boolean onBulk) {
        Pending p = open.get(s.getRequestId());
        if (p == null) {
            throw new IllegalArgumentException("migration " + id + ": page supply for unknown request "
                    + s.getRequestId() + " on link " + epoch);
        }
        if (p.background != onBulk) {
            throw new IllegalArgumentException("migration " + id + ": request " + s.getRequestId() + " was made on the "
                    + (p.background ? "bulk" : "urgent") + " stream but answered on the " + (onBulk ? "bulk" : "urgent")
                    + " stream");
        }
        open.remove(s.getRequestId());
        if (!s.getUnreadable().isEmpty()) {
            p.future.completeExceptionally(new LinkException(Failure.NOT_ON_SOURCE, String.format(
                    "request %d for %d pages at 0x%x: %s", s.getRequestId(), p.pages, p.address, s.getUnreadable())));
            return;
        }
        if (!s.hasChunk()) {
            p.future.completeExceptionally(new IllegalArgumentException("migration " + id + ": the supply for request "
                    + s.getRequestId() + " carries neither pages nor a reason"));
            return;
        }
        ChunkDecoder.validate(s.getChunk(), pageSize, Math.max(maxChunkBytes, p.pages * pageSize));
        if (s.getChunk().getAddress() != p.address || s.getChunk().getLengthBytes() != p.pages * pageSize) {
            p.future.completeExceptionally(new IllegalArgumentException(String.format("migration %s: request %d asked "
                    + "for %d pages at 0x%x, the supply carries [0x%x, +%d bytes)", id, s.getRequestId(), p.pages,
                    p.address, s.getChunk().getAddress(), s.getChunk().getLengthBytes())));
            return;
        }
        byte[] data = new byte[Math.toIntExact(p.pages * pageSize)];
        ChunkDecoder.apply(s.getChunk(), pageSize, new ChunkDecoder.PageSink() {
            @Override
            public void write(long address, ByteString bytes, int offset, int length) {
                bytes.copyTo(data, offset, Math.toIntExact(address - p.address), length);
            }

            @Override
            public void zero(long address, long lengthBytes) {
                // already zero
            }
        });
        p.future.complete(data);
    }

    /** A stream ended or failed: every open request fails UNREACHABLE; both streams close. */
    void broken(Throwable why) {
        if (broken) {
            return;
        }
        broken = true;
        for (Long rid : open.keySet()) {
            Pending p = open.remove(rid);
            if (p != null) {
                p.future.completeExceptionally(new LinkException(Failure.UNREACHABLE, "page streams of migration " + id
                        + " (link " + epoch + ") broke: " + why));
            }
        }
        Status st = Status.UNAVAILABLE.withDescription("migration " + id + ": link " + epoch + " closed: " + why);
        close(urgent, st);
        close(bulk, st);
    }

    private static void close(StreamObserver<PageDemand> out, Status st) {
        try {
            synchronized (out) {
                out.onError(st.asRuntimeException());
            }
        } catch (RuntimeException alreadyClosed) {
            // The call ended on its own (the source went away first).
        }
    }

    @Override
    public void abandon(String why) {
        LOG.warn("migration {}: abandoning page link {}: {}", id, epoch, why);
        broken(new IllegalStateException(why));
    }

    @Override
    public void cannotComplete(String why) {
        try {
            synchronized (urgent) {
                urgent.onNext(PageDemand.newBuilder().setMigrationId(id).setCannotComplete(why).build());
            }
        } catch (RuntimeException alreadyClosed) {
            // The link is down: the source learns it from Recover or when it reconnects.
        }
    }

    @Override
    public void release() {
        // Only the urgent stream ends here: the source closes both once told (the bulk stream
        // ending first could look like a broken link to it).
        synchronized (urgent) {
            urgent.onNext(PageDemand.newBuilder().setMigrationId(id).setComplete(true).build());
        }
        try {
            synchronized (urgent) {
                urgent.onCompleted();
            }
        } catch (RuntimeException alreadyClosed) {
            // The source closed its end on reading the completion (in-process, before this line).
        }
    }
}
