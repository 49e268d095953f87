package dev.pagehop.xfer;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.pagehop.proto.migration.v1.Chunk;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * CRC32C (Castagnoli, hardware-accelerated by the JDK) over a chunk's identity and payload:
 * sequence, kind, address and length as little-endian 64-bit words, then the zero bitmap and
 * the data. Covering the header catches a chunk applied at the wrong place, not only a flipped
 * payload bit. The migration id and round are checked by the receiver's state instead.
 */
public final class ChunkChecksum {
    private ChunkChecksum() {
    }

    public static int of(long sequence, int kind, long address, long lengthBytes, ByteString zeroBitmap, ByteString data) {
        CRC32C crc = new CRC32C();
        ByteBuffer header = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(sequence).putLong(kind).putLong(address).putLong(lengthBytes).flip();
        crc.update(header);
        update(crc, zeroBitmap);
        update(crc, data);
        return (int) crc.getValue();
    }

    public static int of(Chunk c) {
        return of(c.getSequence(), c.getKindValue(), c.getAddress(), c.getLengthBytes(), c.getZeroBitmap(), c.getData());
    }

    /**
     * Feeds {@code bytes} to {@code crc} where they lie: {@link UnsafeByteOperations#unsafeWriteTo}
     * hands over the arrays or buffers the byte string is made of. Its read-only buffer views
     * would not do: a read-only heap buffer has no accessible array, so {@link CRC32C} would copy
     * it piece by piece into a scratch array.
     */
    private static void update(CRC32C crc, ByteString bytes) {
        try {
            UnsafeByteOperations.unsafeWriteTo(bytes, new ByteOutput() {
                @Override
                public void write(byte value) {
                    crc.update(value);
                }

                @Override
                public void write(byte[] value, int offset, int length) {
                    crc.update(value, offset, length);
                }

                @Override
                public void writeLazy(byte[] value, int offset, int length) {
                    crc.update(value, offset, length);
                }

                @Override
                public void write(ByteBuffer value) {
                    crc.update(value.duplicate());
                }

                @Override
                public void writeLazy(ByteBuffer value) {
                    crc.update(value.duplicate());
                }
            });
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
