package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.proto.migration.v1.ChunkAck;
import dev.pagehop.proto.migration.v1.TransferRequest;
import dev.pagehop.proto.migration.v1.TransferResponse;
import dev.pagehop.track.PageRange;
import dev.pagehop.xfer.ChunkSpec;
import io.grpc.stub.ClientCallStreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BulkStreamTest {
    private static final long BASE = 0x40_0000L;

    /** A transport that is always ready and records what it was given. */
    private static final class Recording extends ClientCallStreamObserver<TransferRequest> {
        final List<TransferRequest> sent = new ArrayList<>();

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setOnReadyHandler(Runnable onReadyHandler) {
        }

        @Override
        public void disableAutoInboundFlowControl() {
        }

        @Override
        public void request(int count) {
        }

        @Override
        public void setMessageCompression(boolean enable) {
        }

        @Override
        public void cancel(String message, Throwable cause) {
        }

        @Override
        public void onNext(TransferRequest value) {
            sent.add(value);
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onCompleted() {
        }
    }

    private static TransferResponse ack(long seq) {
        return TransferResponse.newBuilder().setChunkAck(ChunkAck.newBuilder().setMigrationId("m").setSequence(seq))
                .build();
    }

    @Test
    void aChunkBufferIsReusedOnlyAfterTheTargetAcknowledgedItsChunk() throws Exception {
        PendingPages pending = new PendingPages(4096);
        pending.add(List.of(new PageRange(BASE, BASE + 3 * 4096)));
        BulkStream b = new BulkStream("m", pending, System::nanoTime);
        Recording transport = new Recording();
        b.beforeStart(transport);
        long timeout = TimeUnit.SECONDS.toNanos(5);

        byte[] first = b.buffer(8192);
        b.send(TransferRequest.getDefaultInstance(), 0, new ChunkSpec(BASE, 8192, 4096), first, 4, timeout, () -> { });
        byte[] second = b.buffer(8192);
        assertThat(second).as("a buffer whose chunk is unacknowledged is never handed out").isNotSameAs(first);
        b.send(TransferRequest.getDefaultInstance(), 1, new ChunkSpec(BASE + 8192, 4096, 4096), second, 4, timeout,
                () -> { });

        b.onNext(ack(0));
        assertThat(pending.bytes()).isEqualTo(4096);
        byte[] third = b.buffer(8192);
        assertThat(third).isSameAs(first);
        assertThat(b.buffer(8192)).as("only acknowledged buffers come back").isNotSameAs(second);

        b.onNext(ack(1));
        assertThat(pending.bytes()).isZero();
        assertThat(b.buffer(8192)).isSameAs(second);
        // A larger chunk size than a returned buffer holds gets a fresh one.
        b.onNext(ack(1));
        assertThat(b.buffer(16384)).hasSize(16384);
    }
}
