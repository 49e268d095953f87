package dev.pagehop.xfer;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.pagehop.proto.migration.v1.Chunk;
import dev.pagehop.proto.migration.v1.ChunkKind;
import java.util.Arrays;

/**
 * Reads a chunk's pages from the source memory and builds its wire message: zero pages become
 * bits in a bitmap (QEMU's "duplicate" pages), the rest travel back to back. The pages are read
 * straight into the buffer that becomes the message's data, compacted in place, and wrapped
 * without a copy; the only other copy is gRPC's into the socket buffer.
 */
public final class ChunkEncoder {
    /** Enough zeros to compare against the largest page (64 KiB granule). */
    private static final byte[] ZEROS = new byte[1 << 16];

    /** Where page contents come from: the kernel-side read of the source address space. */
    @FunctionalInterface
    public interface PageReader {
        void read(long address, byte[] dst, int offset, int length);
    }

    /** The encoded chunk and what it carried, for the round's statistics. */
    public record Encoded(Chunk chunk, int normalPages, int zeroPages) {
        public long wireBytes() {
            return chunk.getSerializedSize();
        }
    }

    private ChunkEncoder() {
    }

    public static Encoded pages(String migrationId, long round, long sequence, ChunkSpec spec, PageReader reader) {
        return pages(migrationId, round, sequence, spec, reader, new byte[Math.toIntExact(spec.lengthBytes())]);
    }

    /**
     * As {@link #pages(String, long, long, ChunkSpec, PageReader)}, reading into {@code buf}
     * (at least the chunk's length), which the returned chunk's data then aliases: the caller
     * may reuse {@code buf} only once nothing reads the chunk any more (on the source, when the
     * target acknowledged it), so a stream of chunks allocates nothing per chunk.
     */
    public static Encoded pages(String migrationId, long round, long sequence, ChunkSpec spec, PageReader reader,
            byte[] buf) {
        int pageSize = Math.toIntExact(spec.pageSize());
        int pages = spec.pageCount();
        int length = Math.toIntExact(spec.lengthBytes());
        if (buf.length < length) {
            throw new IllegalArgumentException("buffer of " + buf.length + " bytes cannot hold a chunk of " + length);
        }
        reader.read(spec.address(), buf, 0, length);
        byte[] bitmap = new byte[(pages + 7) >>> 3];
        int write = 0;
        int zeros = 0;
        for (int i = 0; i < pages; i++) {
            int read = i * pageSize;
            if (isZero(buf, read, pageSize)) {
                bitmap[i >>> 3] |= (byte) (1 << (i & 7));
                zeros++;
            } else {
                if (write != read) {
                    System.arraycopy(buf, read, buf, write, pageSize);
                }
                write += pageSize;
            }
        }
        if (zeros == pages) {
            return new Encoded(range(migrationId, round, sequence, ChunkKind.CHUNK_KIND_ZERO, spec.address(),
                    spec.lengthBytes()), 0, pages);
        }
        ByteString data = UnsafeByteOperations.unsafeWrap(buf, 0, write);
        ByteString zb = zeros == 0 ? ByteString.EMPTY : UnsafeByteOperations.unsafeWrap(bitmap);
        Chunk chunk = Chunk.newBuilder()
                .setMigrationId(migrationId)
                .setRound(round)
                .setSequence(sequence)
                .setKind(ChunkKind.CHUNK_KIND_PAGES)
                .setAddress(spec.address())
                .setLengthBytes(spec.lengthBytes())
                .setZeroBitmap(zb)
                .setData(data)
                .setChecksum(ChunkChecksum.of(sequence, ChunkKind.CHUNK_KIND_PAGES_VALUE, spec.address(),
                        spec.lengthBytes(), zb, data))
                .build();
        return new Encoded(chunk, pages - zeros, zeros);
    }

    /** A ZERO or UNMAPPED record for a whole range: no payload. */
    public static Chunk range(String migrationId, long round, long sequence, ChunkKind kind, long address, long lengthBytes) {
        if (kind != ChunkKind.CHUNK_KIND_ZERO && kind != ChunkKind.CHUNK_KIND_UNMAPPED) {
            throw new IllegalArgumentException("a range record is ZERO or UNMAPPED, not " + kind);
        }
        return Chunk.newBuilder()
                .setMigrationId(migrationId)
                .setRound(round)
                .setSequence(sequence)
                .setKind(kind)
                .setAddress(address)
                .setLengthBytes(lengthBytes)
                .setChecksum(ChunkChecksum.of(sequence, kind.getNumber(), address, lengthBytes, ByteString.EMPTY,
                        ByteString.EMPTY))
                .build();
    }

    static boolean isZero(byte[] buf, int offset, int length) {
        return Arrays.mismatch(buf, offset, offset + length, ZEROS, 0, length) < 0;
    }
}
