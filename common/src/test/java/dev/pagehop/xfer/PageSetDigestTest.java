package dev.pagehop.xfer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.proto.migration.v1.ChunkKind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class PageSetDigestTest {
    private static final int RW = Prot.READ | Prot.WRITE;
    private static final int ANON = MapFlags.PRIVATE | MapFlags.ANONYMOUS;

    /**
     * The digest kept chunk by chunk, as a migration keeps it while memory changes between
     * rounds, equals the full read of the memory afterwards; and a page whose last change was
     * never sent makes them differ.
     */
    @Property(tries = 30)
    void keptIncrementallyItEqualsAFullReadAndCatchesAMissedPage(@ForAll long seed,
            @ForAll @IntRange(min = 1, max = 5) int rounds) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 64 * p, RW, ANON);
            long b = mm.mmap(0, 8 * p, RW, ANON);
            Random r = new Random(seed);
            PageSetDigest kept = new PageSetDigest(p);
            List<Long> all = new ArrayList<>();
            for (long x = a; x < a + 64 * p; x += p) {
                all.add(x);
            }
            for (long x = b; x < b + 8 * p; x += p) {
                all.add(x);
            }
            // Round 0 sends every page, in chunks of up to 4 pages, in a shuffled order of chunks.
            List<long[]> chunks = new ArrayList<>();
            chunks.add(new long[] {a, 64 * p});
            chunks.add(new long[] {b, 8 * p});
            for (int round = 0; round < rounds; round++) {
                List<Long> dirty = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    long page = all.get(r.nextInt(all.size()));
                    mm.store64(page + 8L * r.nextInt(512), r.nextLong() | 1);
                    dirty.add(page);
                }
                if (round == 0) {
                    for (long[] c : chunks) {
                        send(mm, kept, c[0], c[1]);
                    }
                } else {
                    Collections.shuffle(dirty, r);
                    for (long page : dirty) {
                        send(mm, kept, page, p);
                    }
                }
            }
            assertThat(kept.digest()).isEqualTo(MemoryDigest.of(mm));
            assertThat(kept.pageCount()).isEqualTo(72);

            long missed = all.get(r.nextInt(all.size()));
            mm.store64(missed, mm.load64(missed) ^ 0x5a5a);
            assertThat(kept.digest()).as("a change never sent").isNotEqualTo(MemoryDigest.of(mm));
            send(mm, kept, missed, p);
            assertThat(kept.digest()).isEqualTo(MemoryDigest.of(mm));
        }
    }

    private static void send(MemoryManager mm, PageSetDigest d, long address, long length) {
        long p = mm.pageSize();
        for (long off = 0; off < length; off += 4 * p) {
            long len = Math.min(4 * p, length - off);
            ChunkEncoder.Encoded e = ChunkEncoder.pages("m", 0, 0, new ChunkSpec(address + off, len, p), mm::peek);
            d.apply(e.chunk());
        }
    }

    @Test
    void unmappedAndZeroRecordsAndRemovalsFollowTheMemory() {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K16))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 6 * p, RW, ANON);
            long b = mm.mmap(0, 3 * p, RW, ANON);
            PageSetDigest d = new PageSetDigest(p);
            mm.store64(a + 2 * p, 7);
            send(mm, d, a, 6 * p);
            d.apply(ChunkEncoder.range("m", 0, 1, ChunkKind.CHUNK_KIND_ZERO, b, 3 * p));
            assertThat(d.digest()).isEqualTo(MemoryDigest.of(mm));

            mm.munmap(b, 3 * p);
            d.apply(ChunkEncoder.range("m", 1, 2, ChunkKind.CHUNK_KIND_UNMAPPED, b, 3 * p));
            assertThat(d.digest()).isEqualTo(MemoryDigest.of(mm));
            assertThat(d.pageCount()).isEqualTo(6);

            // A range mapped afresh and not yet sent is not in the set: the digests differ until it is.
            d.remove(a, a + 2 * p);
            assertThat(d.digest()).isNotEqualTo(MemoryDigest.of(mm));
            send(mm, d, a, 2 * p);
            assertThat(d.digest()).isEqualTo(MemoryDigest.of(mm));
            // A huge range over a small set removes by walking the set.
            d.remove(0, 1L << 48);
            assertThat(d.pageCount()).isZero();
            assertThat(d.digest()).isEqualTo(new PageSetDigest(p).digest());
        }
    }

    @Test
    void twoPagesSwappedBetweenAddressesChangeTheDigest() {
        PageSetDigest x = new PageSetDigest(4096);
        PageSetDigest y = new PageSetDigest(4096);
        x.put(0x1000, 11);
        x.put(0x2000, 22);
        y.put(0x1000, 22);
        y.put(0x2000, 11);
        assertThat(x.digest()).isNotEqualTo(y.digest());
        y.put(0x2000, 22);
        y.put(0x1000, 11);
        assertThat(x.digest()).isEqualTo(y.digest());
    }

    /**
     * A chunk's data arrives on the target as a rope of direct buffers cut wherever HTTP/2 frames
     * and socket reads fell (pieces of one byte included), or as one heap array; the page CRCs,
     * and so the digest and the chunk checksum, must not depend on where the cuts are.
     */
    @Property(tries = 60)
    void theDigestAndChecksumOfAChunkDoNotDependOnHowItsDataIsCut(@ForAll long seed,
            @ForAll @IntRange(min = 1, max = 24) int pages) {
        Random r = new Random(seed);
        int ps = 4096;
        byte[] bitmap = new byte[(pages + 7) / 8];
        int nonZero = 0;
        for (int i = 0; i < pages; i++) {
            if (r.nextInt(4) == 0) {
                bitmap[i / 8] |= (byte) (1 << (i % 8));
            } else {
                nonZero++;
            }
        }
        if (nonZero == 0) {
            bitmap[0] &= (byte) ~1;
            nonZero = 1;
        }
        byte[] data = new byte[nonZero * ps];
        r.nextBytes(data);
        List<com.google.protobuf.ByteString> cuts = new ArrayList<>();
        for (int at = 0; at < data.length; ) {
            int n = Math.min(data.length - at, switch (r.nextInt(4)) {
                case 0 -> 1;
                case 1 -> 1 + r.nextInt(127);
                case 2 -> ps - 1 + r.nextInt(3);
                default -> 1 + r.nextInt(3 * ps);
            });
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(n);
            b.put(data, at, n).flip();
            cuts.add(com.google.protobuf.UnsafeByteOperations.unsafeWrap(b));
            at += n;
        }
        dev.pagehop.proto.migration.v1.Chunk.Builder c = dev.pagehop.proto.migration.v1.Chunk.newBuilder()
                .setMigrationId("m").setSequence(5).setKind(ChunkKind.CHUNK_KIND_PAGES).setAddress(0x40000)
                .setLengthBytes((long) pages * ps).setZeroBitmap(com.google.protobuf.ByteString.copyFrom(bitmap));
        dev.pagehop.proto.migration.v1.Chunk flat = c.setData(com.google.protobuf.ByteString.copyFrom(data)).build();
        dev.pagehop.proto.migration.v1.Chunk rope = c.setData(com.google.protobuf.ByteString.copyFrom(cuts)).build();

        PageSetDigest fromFlat = new PageSetDigest(ps);
        fromFlat.apply(flat);
        PageSetDigest fromRope = new PageSetDigest(ps);
        fromRope.apply(rope);
        PageSetDigest pageByPage = new PageSetDigest(ps);
        for (int i = 0, d = 0; i < pages; i++) {
            long a = 0x40000 + (long) i * ps;
            if ((bitmap[i / 8] & (1 << (i % 8))) != 0) {
                pageByPage.putZero(a, ps);
            } else {
                pageByPage.put(a, data, d);
                d += ps;
            }
        }
        assertThat(fromRope.digest()).isEqualTo(fromFlat.digest()).isEqualTo(pageByPage.digest());
        assertThat(ChunkChecksum.of(rope)).isEqualTo(ChunkChecksum.of(flat));
        java.util.zip.CRC32C whole = new java.util.zip.CRC32C();
        whole.update(java.nio.ByteBuffer.allocate(32).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(5)
                .putLong(ChunkKind.CHUNK_KIND_PAGES_VALUE).putLong(0x40000).putLong((long) pages * ps).flip());
        whole.update(bitmap);
        whole.update(data);
        assertThat(ChunkChecksum.of(flat)).isEqualTo((int) whole.getValue());
    }

    /** The primitive table behaves as a map under random puts, removals and range removals. */
    @Property(tries = 50)
    void thePageTableMatchesAMap(@ForAll long seed) {
        Random r = new Random(seed);
        PageSetDigest.PageHashTable t = new PageSetDigest.PageHashTable();
        java.util.TreeMap<Long, Long> model = new java.util.TreeMap<>();
        for (int op = 0; op < 5000; op++) {
            long key = r.nextInt(3000) + (r.nextBoolean() ? 0 : (1L << 35));
            switch (r.nextInt(10)) {
                case 0, 1, 2, 3, 4, 5 -> {
                    long v = r.nextLong();
                    t.put(key, v);
                    model.put(key, v);
                }
                case 6, 7, 8 -> {
                    if (model.containsKey(key)) {
                        assertThat(t.remove(key)).isEqualTo(model.remove(key));
                    } else {
                        assertThat(t.contains(key)).isFalse();
                    }
                }
                default -> {
                    long from = key;
                    long to = key + r.nextInt(400);
                    long[] sum = {0};
                    long expected = 0;
                    for (long v : model.subMap(from, true, to, true).values()) {
                        expected += v;
                    }
                    t.removeIf(from, to, v -> sum[0] += v);
                    model.subMap(from, true, to, true).clear();
                    assertThat(sum[0]).isEqualTo(expected);
                }
            }
            assertThat(t.size()).isEqualTo(model.size());
        }
        for (var e : model.entrySet()) {
            assertThat(t.get(e.getKey())).isEqualTo(e.getValue());
        }
    }
}
