package dev.pagehop.xfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.pagehop.proto.migration.v1.Chunk;
import dev.pagehop.proto.migration.v1.ChunkKind;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ChunkCodecTest {
    private static final long BASE = 0x10_0000_0000L;

    /** A memory image where page i is zero when bit i of {@code zeroMask} is set. */
    private static byte[] image(int pages, int pageSize, long zeroMask, long seed) {
        byte[] mem = new byte[pages * pageSize];
        Random r = new Random(seed);
        for (int i = 0; i < pages; i++) {
            if ((zeroMask >>> (i % 64) & 1) == 0) {
                for (int b = 0; b < pageSize; b += 97) {
                    mem[i * pageSize + b] = (byte) (r.nextInt(255) + 1);
                }
            }
        }
        return mem;
    }

    private static ChunkEncoder.PageReader reader(byte[] mem) {
        return (addr, dst, off, len) -> System.arraycopy(mem, (int) (addr - BASE), dst, off, len);
    }

    @Property
    void encodeThenApplyRebuildsThePagesExactly(@ForAll @IntRange(min = 1, max = 40) int pages,
            @ForAll long zeroMask, @ForAll @IntRange(min = 0, max = 2) int granule) {
        int pageSize = 4096 << (2 * granule);
        byte[] mem = image(pages, pageSize, zeroMask, zeroMask);
        ChunkEncoder.Encoded enc = ChunkEncoder.pages("m", 2, 7, new ChunkSpec(BASE, (long) pages * pageSize, pageSize),
                reader(mem));
        Chunk c = enc.chunk();
        ChunkDecoder.validate(c, pageSize, (long) pages * pageSize);
        byte[] out = new byte[mem.length];
        Arrays.fill(out, (byte) 0x5a);
        ChunkDecoder.Applied applied = ChunkDecoder.apply(c, pageSize, new ChunkDecoder.PageSink() {
            @Override
            public void write(long address, ByteString data, int offset, int length) {
                data.copyTo(out, offset, (int) (address - BASE), length);
            }

            @Override
            public void zero(long address, long lengthBytes) {
                Arrays.fill(out, (int) (address - BASE), (int) (address - BASE + lengthBytes), (byte) 0);
            }
        });
        assertThat(out).isEqualTo(mem);
        assertThat(applied.normalPages() + applied.zeroPages()).isEqualTo(pages);
        assertThat(applied.normalPages()).isEqualTo(enc.normalPages());
        assertThat(c.getData().size()).isEqualTo(enc.normalPages() * pageSize);
        if (enc.normalPages() == 0) {
            assertThat(c.getKind()).isEqualTo(ChunkKind.CHUNK_KIND_ZERO);
        }
    }

    private static Chunk sample() {
        byte[] mem = image(8, 4096, 0b0010_0100L, 1);
        return ChunkEncoder.pages("m", 1, 3, new ChunkSpec(BASE, 8 * 4096, 4096), reader(mem)).chunk();
    }

    private static StatusRuntimeException refusal(Chunk c) {
        try {
            ChunkDecoder.validate(c, 4096, 1 << 20);
        } catch (StatusRuntimeException e) {
            return e;
        }
        throw new AssertionError("chunk was accepted: " + c.getSequence());
    }

    @Test
    void aFlippedPayloadByteIsDataLossNamingTheChunk() {
        Chunk c = sample();
        byte[] data = c.getData().toByteArray();
        data[100] ^= 1;
        StatusRuntimeException e = refusal(c.toBuilder().setData(ByteString.copyFrom(data)).build());
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DATA_LOSS);
        assertThat(e.getStatus().getDescription()).contains("chunk 3", "migration m", "round 1", "0x1000000000",
                "checksum");
    }

    @Test
    void aChunkMovedToAnotherAddressFailsItsChecksum() {
        StatusRuntimeException e = refusal(sample().toBuilder().setAddress(BASE + 4096).build());
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DATA_LOSS);
    }

    @Test
    void malformedChunksAreRefusedWithTheReason() {
        Chunk c = sample();
        assertThat(refusal(c.toBuilder().setKind(ChunkKind.CHUNK_KIND_UNSPECIFIED).build()).getStatus().getDescription())
                .contains("kind 0");
        assertThat(refusal(c.toBuilder().setLengthBytes(4095).build()).getStatus().getDescription())
                .contains("multiple of the page size 4096");
        assertThat(refusal(c.toBuilder().setAddress(BASE + 12).build()).getStatus().getDescription())
                .contains("not aligned");
        assertThat(refusal(c.toBuilder().setZeroBitmap(ByteString.copyFrom(new byte[2])).build()).getStatus()
                .getDescription()).contains("zero bitmap is 2 bytes, expected 1");
        assertThat(refusal(c.toBuilder().setData(c.getData().substring(0, 4096)).build()).getStatus().getDescription())
                .contains("data is 4096 bytes, expected 24576");
        Chunk big = c.toBuilder().setLengthBytes(2L << 20).build();
        assertThat(refusal(big).getStatus().getDescription()).contains("maximum chunk of 1048576");
        Chunk zeroWithData = ChunkEncoder.range("m", 1, 4, ChunkKind.CHUNK_KIND_ZERO, BASE, 4096).toBuilder()
                .setData(ByteString.copyFromUtf8("x")).build();
        assertThat(refusal(zeroWithData).getStatus().getDescription()).contains("carries 1 data");
        assertThat(refusal(c.toBuilder().setZeroBitmap(ByteString.copyFrom(new byte[] {(byte) 0x24})).setLengthBytes(4 * 4096)
                .build()).getStatus().getDescription()).contains("beyond the chunk's 4");
    }

    @Test
    void rangeRecordsAreValidAndCarryNothing() {
        Chunk z = ChunkEncoder.range("m", 0, 0, ChunkKind.CHUNK_KIND_UNMAPPED, BASE, 1 << 20);
        ChunkDecoder.validate(z, 4096, 4096);
        assertThat(z.getData().isEmpty()).isTrue();
        assertThatThrownBy(() -> ChunkEncoder.range("m", 0, 0, ChunkKind.CHUNK_KIND_PAGES, BASE, 4096))
                .hasMessageContaining("CHUNK_KIND_PAGES");
    }

    @Test
    void aReusedBufferCarriesEachChunkExactlyAndIsAliasedNotCopied() {
        int pageSize = 4096;
        byte[] mem = image(8, pageSize, 0b0010_0100L, 5);
        byte[] buffer = new byte[16 * pageSize];
        Arrays.fill(buffer, (byte) 0x77);
        ChunkEncoder.Encoded first = ChunkEncoder.pages("m", 0, 0, new ChunkSpec(BASE, 8L * pageSize, pageSize),
                reader(mem), buffer);
        assertThat(first.normalPages()).isEqualTo(6);
        assertThat(first.zeroPages()).isEqualTo(2);
        ChunkDecoder.validate(first.chunk(), pageSize, 8L * pageSize);
        // The chunk's data is the buffer itself: the non-zero pages compacted to its start.
        assertThat(first.chunk().getData().toByteArray()).isEqualTo(Arrays.copyOf(buffer, 6 * pageSize));
        buffer[0] ^= 1;
        assertThat(first.chunk().getData().byteAt(0)).isEqualTo(buffer[0]);

        byte[] other = image(3, pageSize, 0, 9);
        ChunkEncoder.Encoded second = ChunkEncoder.pages("m", 0, 1, new ChunkSpec(BASE, 3L * pageSize, pageSize),
                reader(other), buffer);
        ChunkDecoder.validate(second.chunk(), pageSize, 8L * pageSize);
        assertThat(second.chunk().getData().toByteArray()).isEqualTo(other);
    }

    @Test
    void aBufferSmallerThanTheChunkIsRefused() {
        assertThatThrownBy(() -> ChunkEncoder.pages("m", 0, 0, new ChunkSpec(BASE, 2L * 4096, 4096),
                reader(new byte[2 * 4096]), new byte[4096]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4096 bytes cannot hold a chunk of 8192");
    }
}
