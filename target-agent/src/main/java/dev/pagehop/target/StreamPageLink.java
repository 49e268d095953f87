package dev.pagehop.target;

import com.google.protobuf.ByteString;
import dev.pagehop.proto.migration.v1.PageDemand;
import dev.pagehop.proto.migration.v1.PageSupply;
import dev.pagehop.xfer.ChunkDecoder;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link PageLink} over one PageRequests stream the source opened: demands go out as responses,
 * pages come back as requests carrying the request id. When the stream breaks every open request
 * fails {@link PageLink.Failure#UNREACHABLE}; the pager pauses until the source opens a new one.
 */
final class StreamPageLink implements PageLink {
    private final String id;
    private final long pageSize;
    private final long maxChunkBytes;
    private final StreamObserver<PageDemand> out;
    private final Map<Long, Pending> open = new ConcurrentHashMap<>();
    private final AtomicLong nextRequest;
    private volatile boolean broken;
    private volatile java.util.function.Supplier<dev.pagehop.proto.types.v1.PostcopyStats> finalStats = () -> null;

    private record Pending(long address, int pages, CompletableFuture<byte[]> future) {
    }

    StreamPageLink(String id, long pageSize, long maxChunkBytes, StreamObserver<PageDemand> out, AtomicLong requestIds) {
        this.id = id;
        this.pageSize = pageSize;
        this.maxChunkBytes = maxChunkBytes;
        this.out = out;
        this.nextRequest = requestIds;
    }

    @Override
    public CompletableFuture<byte[]> demand(long address, int pages) {
        return send(address, pages, false);
    }

    @Override
    public CompletableFuture<byte[]> pull(long address, int pages) {
        return send(address, pages, true);
    }

    private CompletableFuture<byte[]> send(long address, int pages, boolean background) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        if (broken) {
            f.completeExceptionally(new LinkException(Failure.UNREACHABLE, "page stream of migration " + id + " is closed"));
            return f;
        }
        long rid = nextRequest.incrementAndGet();
        open.put(rid, new Pending(address, pages, f));
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
    void supplied(PageSupply s) {
        Pending p = open.remove(s.getRequestId());
        if (p == null) {
            throw new IllegalArgumentException("migration " + id + ": page supply for unknown request "
                    + s.getRequestId());
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

    /** The stream ended or failed: every open request fails UNREACHABLE. */
    void broken(Throwable why) {
        broken = true;
        for (Long rid : open.keySet()) {
            Pending p = open.remove(rid);
            if (p != null) {
                p.future.completeExceptionally(new LinkException(Failure.UNREACHABLE, "page stream of migration " + id
                        + " broke: " + why));
            }
        }
    }

    /** What the completion demand carries to the source (the pager's final figures); null for none. */
    void finalStats(java.util.function.Supplier<dev.pagehop.proto.types.v1.PostcopyStats> stats) {
        finalStats = stats;
    }

    @Override
    public void release() {
        PageDemand.Builder done = PageDemand.newBuilder().setMigrationId(id).setComplete(true);
        dev.pagehop.proto.types.v1.PostcopyStats stats = finalStats.get();
        if (stats != null) {
            done.setStats(stats);
        }
        synchronized (out) {
            out.onNext(done.build());
            out.onCompleted();
        }
    }
}
