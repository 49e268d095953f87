package dev.pagehop.xfer;

import com.google.protobuf.ByteString;
import dev.pagehop.proto.migration.v1.Chunk;
import dev.pagehop.proto.migration.v1.ChunkKind;
import dev.pagehop.track.PageRange;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * An order-independent digest of a set of pages, kept up to date page by page: each page
 * contributes a hash of its address and the CRC32C of its contents, and the digest is the sum of
 * those hashes over the set (in three independently mixed 64-bit lanes) plus the page count.
 * Replacing a page subtracts its old hash and adds the new one, so a migration keeps one of these
 * on each side as pages are sent and applied, and the switchover compares two sums instead of
 * reading the whole memory twice inside the downtime. {@link MemoryDigest} computes the same
 * value from a whole address space, so the incremental digest equals a full one over the same
 * contents.
 *
 * <p>Not thread safe: one migration thread (source) or the serialised bulk stream (target) owns it.
 */
public final class PageSetDigest {
    /** 32 bytes: three lanes and the count, little-endian. */
    public static final int BYTES = 32;

    private final long pageSize;
    private final int pageShift;
    private final long zeroCrc;
    /** page number → its hash (lane 1; the other lanes are derived from it). */
    private final Map<Long, Long> pages = new HashMap<>();
    private long lane1;
    private long lane2;
    private long lane3;
    private final CRC32C crc = new CRC32C();

    public PageSetDigest(long pageSize) {
        if (pageSize <= 0 || Long.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("page size " + pageSize + " is not a power of two");
        }
        this.pageSize = pageSize;
        this.pageShift = Long.numberOfTrailingZeros(pageSize);
        CRC32C z = new CRC32C();
        z.update(new byte[Math.toIntExact(pageSize)]);
        this.zeroCrc = z.getValue();
    }

    /** The hash of the page at {@code address} whose contents have CRC32C {@code crc32c}. */
    static long pageHash(long address, long crc32c) {
        return mix(address * 0x9E3779B97F4A7C15L ^ (crc32c & 0xffffffffL) * 0xC2B2AE3D27D4EB4FL ^ 0x165667B19E3779F9L);
    }

    /** splitmix64's finaliser: every input bit affects every output bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Sets the page at {@code address} to contents with CRC32C {@code crc32c}. */
    public void put(long address, long crc32c) {
        long h = pageHash(address, crc32c);
        Long old = pages.put(address >>> pageShift, h);
        if (old != null) {
            subtract(old);
        }
        add(h);
    }

    /** Sets the page at {@code address} to the {@code pageSize} bytes of {@code data} at {@code offset}. */
    public void put(long address, byte[] data, int offset) {
        crc.reset();
        crc.update(data, offset, Math.toIntExact(pageSize));
        put(address, crc.getValue());
    }

    /** Sets every page of [address, address + lengthBytes) to zeros. */
    public void putZero(long address, long lengthBytes) {
        for (long a = address; a < address + lengthBytes; a += pageSize) {
            put(a, zeroCrc);
        }
    }

    /** Drops every page of [start, end) from the set (unmapped, or mapped afresh and not yet sent). */
    public void remove(long start, long end) {
        long first = start >>> pageShift;
        long last = (end - 1) >>> pageShift;
        if (end <= start) {
            return;
        }
        if (last - first + 1 > pages.size()) {
            // A huge range over a small set: walk the set instead of the range.
            pages.entrySet().removeIf(e -> {
                if (e.getKey() >= first && e.getKey() <= last) {
                    subtract(e.getValue());
                    return true;
                }
                return false;
            });
            return;
        }
        for (long p = first; p <= last; p++) {
            Long old = pages.remove(p);
            if (old != null) {
                subtract(old);
            }
        }
    }

    public void removeAll(List<PageRange> ranges) {
        for (PageRange r : ranges) {
            remove(r.start(), r.end());
        }
    }

    /**
     * What a PAGES or ZERO chunk puts in memory (zero pages by the bitmap, the rest from the
     * data), or the range an UNMAPPED record takes away.
     */
    public void apply(Chunk c) {
        long address = c.getAddress();
        long length = c.getLengthBytes();
        if (c.getKind() == ChunkKind.CHUNK_KIND_UNMAPPED) {
            remove(address, address + length);
            return;
        }
        if (c.getKind() == ChunkKind.CHUNK_KIND_ZERO) {
            putZero(address, length);
            return;
        }
        ByteString bitmap = c.getZeroBitmap();
        ByteString data = c.getData();
        int pages = Math.toIntExact(length / pageSize);
        int ps = Math.toIntExact(pageSize);
        int dataPos = 0;
        for (int i = 0; i < pages; i++) {
            long a = address + (long) i * ps;
            if (!bitmap.isEmpty() && (bitmap.byteAt(i >>> 3) & (1 << (i & 7))) != 0) {
                put(a, zeroCrc);
                continue;
            }
            crc.reset();
            for (ByteBuffer b : data.substring(dataPos, dataPos + ps).asReadOnlyByteBufferList()) {
                crc.update(b);
            }
            put(a, crc.getValue());
            dataPos += ps;
        }
    }

    public long pageCount() {
        return pages.size();
    }

    /** The digest of the set as it is now. */
    public byte[] digest() {
        return encode(lane1, lane2, lane3, pages.size());
    }

    private void add(long h) {
        lane1 += h;
        lane2 += mix(h ^ 0x2545F4914F6CDD1DL);
        lane3 += mix(h + 0x632BE59BD9B4E019L);
    }

    private void subtract(long h) {
        lane1 -= h;
        lane2 -= mix(h ^ 0x2545F4914F6CDD1DL);
        lane3 -= mix(h + 0x632BE59BD9B4E019L);
    }

    static byte[] encode(long l1, long l2, long l3, long count) {
        return ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(l1).putLong(l2).putLong(l3)
                .putLong(count).array();
    }

    /** Accumulates a digest without keeping the per-page table (a one-pass read of a whole memory). */
    static final class Sum {
        private long l1;
        private long l2;
        private long l3;
        private long count;

        void add(long address, long crc32c) {
            long h = pageHash(address, crc32c);
            l1 += h;
            l2 += mix(h ^ 0x2545F4914F6CDD1DL);
            l3 += mix(h + 0x632BE59BD9B4E019L);
            count++;
        }

        byte[] digest() {
            return encode(l1, l2, l3, count);
        }
    }
}
