package dev.pagehop.xfer;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.pagehop.proto.migration.v1.Chunk;
import dev.pagehop.proto.migration.v1.ChunkKind;
import dev.pagehop.track.PageRange;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
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
    private final PageHashTable pages = new PageHashTable();
    private long lane1;
    private long lane2;
    private long lane3;
    private final CRC32C crc = new CRC32C();
    /** Bound once: a method reference made per page would be an allocation per page. */
    private final java.util.function.LongConsumer subtractReplaced = this::subtract;
    /** Per-page CRCs of the chunk being applied, reused across chunks. */
    private final PageCrcs chunkCrcs;

    public PageSetDigest(long pageSize) {
        if (pageSize <= 0 || Long.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("page size " + pageSize + " is not a power of two");
        }
        this.pageSize = pageSize;
        this.pageShift = Long.numberOfTrailingZeros(pageSize);
        CRC32C z = new CRC32C();
        z.update(new byte[Math.toIntExact(pageSize)]);
        this.zeroCrc = z.getValue();
        this.chunkCrcs = new PageCrcs(Math.toIntExact(pageSize));
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
        pages.put(address >>> pageShift, h, subtractReplaced);
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
        if (end <= start) {
            return;
        }
        long first = start >>> pageShift;
        long last = (end - 1) >>> pageShift;
        if (last - first + 1 > pages.size()) {
            // A huge range over a small set: walk the set instead of the range.
            pages.removeIf(first, last, this::subtract);
            return;
        }
        for (long p = first; p <= last; p++) {
            if (pages.contains(p)) {
                subtract(pages.remove(p));
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
        long[] crcs = chunkCrcs.of(c.getData());
        int pages = Math.toIntExact(length / pageSize);
        int ps = Math.toIntExact(pageSize);
        int next = 0;
        for (int i = 0; i < pages; i++) {
            long a = address + (long) i * ps;
            if (!bitmap.isEmpty() && (bitmap.byteAt(i >>> 3) & (1 << (i & 7))) != 0) {
                put(a, zeroCrc);
            } else {
                put(a, crcs[next++]);
            }
        }
    }

    /**
     * The CRC32C of each page of a chunk's data, in one pass over the bytes where they lie:
     * {@link UnsafeByteOperations#unsafeWriteTo} hands over the arrays or buffers a byte string
     * is made of. Through {@code asReadOnlyByteBufferList} a heap-backed byte string comes as
     * read-only buffers, which {@link CRC32C#update(ByteBuffer)} can only read by copying them
     * into a scratch array (a gigabyte of garbage per gigabyte migrated).
     */
    private static final class PageCrcs extends ByteOutput {
        private final int pageSize;
        private final CRC32C crc = new CRC32C();
        private long[] crcs = new long[64];
        private int page;
        private int inPage;

        PageCrcs(int pageSize) {
            this.pageSize = pageSize;
        }

        /** CRCs of the whole pages of {@code data}, in order; valid until the next call. */
        long[] of(ByteString data) {
            int n = data.size() / pageSize;
            if (crcs.length < n) {
                crcs = new long[n];
            }
            page = 0;
            inPage = 0;
            crc.reset();
            try {
                UnsafeByteOperations.unsafeWriteTo(data, this);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return crcs;
        }

        @Override
        public void write(byte value) {
            write(new byte[] {value}, 0, 1);
        }

        @Override
        public void write(byte[] value, int offset, int length) {
            int at = offset;
            int left = length;
            while (left > 0) {
                int n = Math.min(left, pageSize - inPage);
                crc.update(value, at, n);
                at += n;
                left -= n;
                advance(n);
            }
        }

        @Override
        public void writeLazy(byte[] value, int offset, int length) {
            write(value, offset, length);
        }

        @Override
        public void write(ByteBuffer value) {
            ByteBuffer b = value.duplicate();
            while (b.hasRemaining()) {
                int n = Math.min(b.remaining(), pageSize - inPage);
                int limit = b.limit();
                b.limit(b.position() + n);
                crc.update(b);
                b.limit(limit);
                advance(n);
            }
        }

        @Override
        public void writeLazy(ByteBuffer value) {
            write(value);
        }

        private void advance(int n) {
            inPage += n;
            if (inPage == pageSize) {
                crcs[page++] = crc.getValue();
                crc.reset();
                inPage = 0;
            }
        }
    }

    /**
     * Up to {@code max} page addresses where the memory of {@code vmas}, read through
     * {@code reader}, differs from this set: contents that differ or pages the set lacks. The
     * slow path after a digest mismatch, to name the pages instead of only saying that some differ.
     */
    public List<Long> differences(List<dev.pagehop.mm.VmaInfo> vmas, ChunkEncoder.PageReader reader, int max) {
        List<Long> out = new java.util.ArrayList<>();
        byte[] page = new byte[Math.toIntExact(pageSize)];
        CRC32C c = new CRC32C();
        for (dev.pagehop.mm.VmaInfo v : vmas) {
            for (long a = v.start(); a < v.end() && out.size() < max; a += pageSize) {
                reader.read(a, page, 0, page.length);
                c.reset();
                c.update(page);
                long p = a >>> pageShift;
                if (!pages.contains(p) || pages.get(p) != pageHash(a, c.getValue())) {
                    out.add(a);
                }
            }
        }
        return out;
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

    /**
     * page number → hash, open addressing with linear probing over two long arrays (no boxing:
     * a gigabyte of 4 KiB pages is 262 144 entries, which a HashMap would hold as half a million
     * objects). Key k is stored as k + 1 so that 0 marks a free slot; deletion shifts the
     * following entries back (Knuth's algorithm R), so no tombstones accumulate.
     */
    static final class PageHashTable {
        private long[] keys = new long[1024];
        private long[] values = new long[1024];
        private int size;

        int size() {
            return size;
        }

        private int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 32) & (keys.length - 1);
        }

        private int find(long key) {
            long stored = key + 1;
            for (int i = slot(key); ; i = (i + 1) & (keys.length - 1)) {
                if (keys[i] == stored) {
                    return i;
                }
                if (keys[i] == 0) {
                    return -1 - i;
                }
            }
        }

        boolean contains(long key) {
            return find(key) >= 0;
        }

        long get(long key) {
            int i = find(key);
            if (i < 0) {
                throw new IllegalStateException("page " + key + " is not in the table");
            }
            return values[i];
        }

        void put(long key, long value) {
            put(key, value, old -> { });
        }

        /** As {@link #put(long, long)}, handing a replaced value to {@code replaced}: one probe, not three. */
        void put(long key, long value, java.util.function.LongConsumer replaced) {
            int i = find(key);
            if (i >= 0) {
                replaced.accept(values[i]);
                values[i] = value;
                return;
            }
            if ((size + 1) * 4L > keys.length * 3L) {
                grow();
                i = find(key);
            }
            keys[-1 - i] = key + 1;
            values[-1 - i] = value;
            size++;
        }

        long remove(long key) {
            int i = find(key);
            if (i < 0) {
                throw new IllegalStateException("page " + key + " is not in the table");
            }
            long v = values[i];
            deleteAt(i);
            return v;
        }

        /** Removes every key in [first, last], handing each removed value to {@code removed}. */
        void removeIf(long first, long last, java.util.function.LongConsumer removed) {
            int i = 0;
            while (i < keys.length) {
                long k = keys[i] - 1;
                if (keys[i] != 0 && k >= first && k <= last) {
                    removed.accept(values[i]);
                    deleteAt(i);
                    // The shift may have moved another entry into slot i: look at it again.
                } else {
                    i++;
                }
            }
        }

        private void deleteAt(int i) {
            int mask = keys.length - 1;
            int hole = i;
            for (int j = (i + 1) & mask; keys[j] != 0; j = (j + 1) & mask) {
                int home = slot(keys[j] - 1);
                // Move j back into the hole unless its home lies cyclically in (hole, j].
                boolean stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
                if (!stays) {
                    keys[hole] = keys[j];
                    values[hole] = values[j];
                    hole = j;
                }
            }
            keys[hole] = 0;
            values[hole] = 0;
            size--;
        }

        private void grow() {
            long[] oldKeys = keys;
            long[] oldValues = values;
            keys = new long[oldKeys.length * 2];
            values = new long[oldValues.length * 2];
            size = 0;
            for (int i = 0; i < oldKeys.length; i++) {
                if (oldKeys[i] != 0) {
                    put(oldKeys[i] - 1, oldValues[i]);
                }
            }
        }
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
