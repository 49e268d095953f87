package dev.pagehop.target;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.pagehop.proto.migration.v1.Chunk;
import dev.pagehop.proto.migration.v1.ChunkKind;
import dev.pagehop.proto.migration.v1.TransferRequest;
import io.grpc.StatusRuntimeException;
import io.grpc.internal.CompositeReadableBuffer;
import io.grpc.internal.ReadableBuffer;
import io.grpc.internal.ReadableBuffers;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AliasingMarshallerTest {
    private final AliasingMarshaller<TransferRequest> marshaller =
            new AliasingMarshaller<>(TransferRequest.getDefaultInstance());

    private static TransferRequest chunk(int dataBytes) {
        byte[] data = new byte[dataBytes];
        new SplittableRandom(dataBytes).nextBytes(data);
        return TransferRequest.newBuilder().setChunk(Chunk.newBuilder().setMigrationId("m").setRound(3).setSequence(9)
                .setKind(ChunkKind.CHUNK_KIND_PAGES).setAddress(0x1000).setLengthBytes(dataBytes)
                .setData(ByteString.copyFrom(data)).setChecksum(42)).build();
    }

    /** The wire bytes in direct buffers of {@code pieceBytes}, as Netty hands received HTTP/2 DATA frames to gRPC. */
    private static CompositeReadableBuffer pieces(byte[] wire, int pieceBytes, ByteBuffer[] keep) {
        CompositeReadableBuffer c = new CompositeReadableBuffer();
        for (int off = 0, i = 0; off < wire.length; off += pieceBytes, i++) {
            int n = Math.min(pieceBytes, wire.length - off);
            ByteBuffer b = ByteBuffer.allocateDirect(n);
            b.put(wire, off, n).flip();
            keep[i] = b;
            c.addBuffer(ReadableBuffers.wrap(b));
        }
        return c;
    }

    @Test
    void pageDataAliasesTheReceivedBuffersUntilReleased() throws Exception {
        TransferRequest sent = chunk(64 * 1024);
        byte[] wire = sent.toByteArray();
        ByteBuffer[] buffers = new ByteBuffer[wire.length / 16384 + 1];
        ReadableBuffer received = pieces(wire, 16384, buffers);
        InputStream stream = ReadableBuffers.openStream(received, true);

        TransferRequest got = marshaller.parse(stream);

        assertThat(got).isEqualTo(sent);
        assertThat(marshaller.heldCount()).isEqualTo(1);
        // Zero copies: a byte changed in the second received buffer shows in the parsed data.
        int dataStartsAt = indexOf(wire, sent.getChunk().getData().substring(0, 32).toByteArray());
        ByteBuffer second = buffers[1];
        int indexInData = 16384 + 100 - dataStartsAt;
        byte before = got.getChunk().getData().byteAt(indexInData);
        second.put(100, (byte) ~second.get(100));
        assertThat(got.getChunk().getData().byteAt(indexInData)).isEqualTo((byte) ~before);

        marshaller.release(got);
        assertThat(marshaller.heldCount()).isZero();
        marshaller.release(got);
        assertThat(marshaller.heldCount()).isZero();
    }

    @Test
    void piecesTooSmallToAliasAreCopiedOnceAndStillParseExactly() {
        // 100-byte pieces: protobuf flattens pieces under 128 bytes, so the data is copied once.
        TransferRequest sent = chunk(5000);
        byte[] wire = sent.toByteArray();
        TransferRequest got = marshaller.parse(ReadableBuffers.openStream(pieces(wire, 100,
                new ByteBuffer[wire.length / 100 + 1]), true));
        assertThat(got).isEqualTo(sent);
        marshaller.release(got);
        assertThat(marshaller.heldCount()).isZero();
    }

    @Test
    void aMessageEndingInTinyPiecesIsCopiedOnceAfterTheLentPiecesWereRead() {
        // As HTTP/2 hands them over: frame-sized pieces, 1-byte pieces between, and a short tail.
        // Protobuf would glue the last tiny pieces into a heap array, so the marshaller rewinds
        // the pieces it has read and copies the message once instead.
        TransferRequest sent = chunk(40000);
        byte[] wire = sent.toByteArray();
        CompositeReadableBuffer c = new CompositeReadableBuffer();
        int[] sizes = {16379, 1, 16384, 1, wire.length - 16379 - 1 - 16384 - 1 - 70, 1, 69};
        int off = 0;
        for (int n : sizes) {
            ByteBuffer b = ByteBuffer.allocateDirect(n);
            b.put(wire, off, n).flip();
            c.addBuffer(ReadableBuffers.wrap(b));
            off += n;
        }
        assertThat(off).isEqualTo(wire.length);

        TransferRequest got = marshaller.parse(ReadableBuffers.openStream(c, true));

        assertThat(got).isEqualTo(sent);
        assertThat(marshaller.heldCount()).isEqualTo(1);
        marshaller.release(got);
        assertThat(marshaller.heldCount()).isZero();
    }

    @Test
    void aStreamThatCannotLendItsBuffersIsCopiedIntoAPooledArray() {
        TransferRequest sent = chunk(8192);
        byte[] wire = sent.toByteArray();
        TransferRequest first = marshaller.parse(new KnownLengthStream(wire));
        assertThat(first).isEqualTo(sent);
        marshaller.release(first);
        // The array comes back to the pool and is reused: the next message overwrites it, so a
        // released message must not be read again (the receiver never does).
        TransferRequest second = marshaller.parse(new KnownLengthStream(chunk(8000).toByteArray()));
        assertThat(second).isEqualTo(chunk(8000));
        marshaller.release(second);
        assertThat(marshaller.heldCount()).isZero();
    }

    @Test
    void aMalformedMessageIsRefusedAndHoldsNothing() {
        byte[] garbage = {(byte) 0x12, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x0f, 1, 2, 3};
        assertThatThrownBy(() -> marshaller.parse(ReadableBuffers.openStream(pieces(garbage, 4,
                new ByteBuffer[2]), true)))
                .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("invalid protobuf");
        assertThatThrownBy(() -> marshaller.parse(new KnownLengthStream(garbage)))
                .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("invalid protobuf");
        assertThat(marshaller.heldCount()).isZero();
    }

    @Test
    void anEmptyMessageIsTheDefaultInstance() {
        assertThat(marshaller.parse(new KnownLengthStream(new byte[0]))).isSameAs(TransferRequest.getDefaultInstance());
        assertThat(marshaller.heldCount()).isZero();
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("data not found in the wire bytes");
    }

    /** A stream that knows its length but has no buffers to lend (like a heap-backed transport). */
    private static final class KnownLengthStream extends ByteArrayInputStream implements io.grpc.KnownLength {
        KnownLengthStream(byte[] b) {
            super(b);
        }
    }
}
