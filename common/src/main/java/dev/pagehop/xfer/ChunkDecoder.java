package dev.pagehop.xfer;

import com.google.protobuf.ByteString;
import dev.pagehop.proto.migration.v1.Chunk;
import dev.pagehop.proto.migration.v1.ChunkKind;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Checks a chunk's own consistency (kind, alignment, bitmap and data sizes, checksum) and hands
 * its pages to a sink in runs. What depends on the migration's state (id, round, sequence,
 * layout) is the receiver's business; this is only what the chunk says about itself.
 */
public final class ChunkDecoder {

    /** Where decoded pages go on the target. */
    public interface PageSink {
        /** {@code length} bytes of consecutive non-zero pages at {@code address}, from {@code data} at {@code offset}. */
        void write(long address, ByteString data, int offset, int length);

        /** Consecutive pages that read as zero. */
        void zero(long address, long lengthBytes);
    }

    /** What a chunk carried. */
    public record Applied(long normalPages, long zeroPages) {
    }

    private ChunkDecoder() {
    }

    /** Throws a {@link StatusRuntimeException} naming the first thing wrong with the chunk. */
    public static void validate(Chunk c, long pageSize, long maxChunkBytes) {
        String where = String.format("chunk %d of migration %s (round %d, address 0x%x, %d bytes)",
                c.getSequence(), c.getMigrationId(), c.getRound(), c.getAddress(), c.getLengthBytes());
        ChunkKind kind = c.getKind();
        if (kind == ChunkKind.CHUNK_KIND_UNSPECIFIED || kind == ChunkKind.UNRECOGNIZED) {
            throw invalid(where + ": kind " + c.getKindValue() + " is not PAGES, ZERO or UNMAPPED");
        }
        if (c.getLengthBytes() == 0 || c.getLengthBytes() % pageSize != 0) {
            throw invalid(where + ": length is not a positive multiple of the page size " + pageSize);
        }
        if (c.getAddress() % pageSize != 0) {
            throw invalid(where + ": address is not aligned to the page size " + pageSize);
        }
        if (c.getAddress() + c.getLengthBytes() < c.getAddress()) {
            throw invalid(where + ": range wraps around the address space");
        }
        if (kind == ChunkKind.CHUNK_KIND_PAGES) {
            if (c.getLengthBytes() > maxChunkBytes) {
                throw invalid(where + ": larger than the agreed maximum chunk of " + maxChunkBytes + " bytes");
            }
            long pages = c.getLengthBytes() / pageSize;
            ByteString bitmap = c.getZeroBitmap();
            long zeros = 0;
            if (!bitmap.isEmpty()) {
                if (bitmap.size() != (pages + 7) / 8) {
                    throw invalid(where + ": zero bitmap is " + bitmap.size() + " bytes, expected " + (pages + 7) / 8
                            + " for " + pages + " pages");
                }
                for (int i = 0; i < bitmap.size(); i++) {
                    zeros += Integer.bitCount(bitmap.byteAt(i) & 0xff);
                }
                int tailBits = (int) (pages & 7);
                if (tailBits != 0 && (bitmap.byteAt(bitmap.size() - 1) & 0xff) >>> tailBits != 0) {
                    throw invalid(where + ": zero bitmap marks pages beyond the chunk's " + pages);
                }
            }
            long expected = (pages - zeros) * pageSize;
            if (c.getData().size() != expected) {
                throw invalid(where + ": data is " + c.getData().size() + " bytes, expected " + expected + " for "
                        + (pages - zeros) + " non-zero pages");
            }
        } else if (!c.getData().isEmpty() || !c.getZeroBitmap().isEmpty()) {
            throw invalid(where + ": a " + kind + " record carries " + c.getData().size() + " data and "
                    + c.getZeroBitmap().size() + " bitmap bytes, expected none");
        }
        int crc = ChunkChecksum.of(c);
        if (crc != c.getChecksum()) {
            throw Status.DATA_LOSS.withDescription(String.format("%s: checksum 0x%08x does not match the contents (0x%08x)",
                    where, c.getChecksum(), crc)).asRuntimeException();
        }
    }

    /** Hands a validated PAGES or ZERO chunk to the sink, coalescing runs of like pages. */
    public static Applied apply(Chunk c, long pageSize, PageSink sink) {
        if (c.getKind() == ChunkKind.CHUNK_KIND_ZERO) {
            sink.zero(c.getAddress(), c.getLengthBytes());
            return new Applied(0, c.getLengthBytes() / pageSize);
        }
        if (c.getKind() != ChunkKind.CHUNK_KIND_PAGES) {
            throw new IllegalArgumentException("only PAGES and ZERO chunks carry pages, not " + c.getKind());
        }
        int pages = Math.toIntExact(c.getLengthBytes() / pageSize);
        ByteString bitmap = c.getZeroBitmap();
        ByteString data = c.getData();
        int ps = Math.toIntExact(pageSize);
        long normal = 0;
        long zero = 0;
        int dataPos = 0;
        int i = 0;
        while (i < pages) {
            boolean z = isZero(bitmap, i);
            int j = i + 1;
            while (j < pages && isZero(bitmap, j) == z) {
                j++;
            }
            long addr = c.getAddress() + (long) i * ps;
            int run = j - i;
            if (z) {
                sink.zero(addr, (long) run * ps);
                zero += run;
            } else {
                sink.write(addr, data, dataPos, run * ps);
                dataPos += run * ps;
                normal += run;
            }
            i = j;
        }
        return new Applied(normal, zero);
    }

    private static boolean isZero(ByteString bitmap, int page) {
        return !bitmap.isEmpty() && (bitmap.byteAt(page >>> 3) & (1 << (page & 7))) != 0;
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }
}
