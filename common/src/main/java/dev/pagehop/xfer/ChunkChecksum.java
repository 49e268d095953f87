package dev.pagehop.xfer;

import com.google.protobuf.ByteString;
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

    private static void update(CRC32C crc, ByteString bytes) {
        // asReadOnlyByteBufferList shares the ByteString's storage: no copy of page data.
        for (ByteBuffer b : bytes.asReadOnlyByteBufferList()) {
            crc.update(b);
        }
    }
}
