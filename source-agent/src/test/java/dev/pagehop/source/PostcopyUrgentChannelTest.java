package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.proto.migration.v1.MigrationGrpc;
import dev.pagehop.proto.migration.v1.PageDemand;
import dev.pagehop.proto.migration.v1.PageStreamKind;
import dev.pagehop.proto.migration.v1.PageSupply;
import dev.pagehop.xfer.UrgentPageStream;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Post-copy's urgent stream goes on a connection of its own, marked so the target can handle it
 * on the transport's thread, and its demands are answered by the thread that delivers them (no
 * queue and no serving thread between a fault's request and its page).
 */
class PostcopyUrgentChannelTest {
    private final List<Server> servers = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    /** One target endpoint: the greetings it got, with the stream header, and the open streams. */
    private static final class Endpoint extends MigrationGrpc.MigrationImplBase {
        final BlockingQueue<String> greetings = new LinkedBlockingQueue<>();
        final BlockingQueue<PageSupply> supplies = new LinkedBlockingQueue<>();
        final List<StreamObserver<PageDemand>> outs = new CopyOnWriteArrayList<>();
        final ThreadLocal<String> header = new ThreadLocal<>();

        @Override
        public StreamObserver<PageSupply> pageRequests(StreamObserver<PageDemand> out) {
            String h = String.valueOf(header.get());
            outs.add(out);
            return new StreamObserver<>() {
                @Override
                public void onNext(PageSupply s) {
                    if (s.getRequestId() == 0) {
                        greetings.add(s.getStreamKind() + " header=" + h);
                    } else {
                        supplies.add(s);
                    }
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            };
        }
    }

    private ManagedChannel serve(String name, Endpoint e) throws Exception {
        ServerInterceptor readHeader = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                e.header.set(headers.get(UrgentPageStream.HEADER));
                try {
                    return next.startCall(call, headers);
                } finally {
                    e.header.remove();
                }
            }
        };
        servers.add(InProcessServerBuilder.forName(name).directExecutor()
                .addService(ServerInterceptors.intercept(e, readHeader)).build().start());
        ManagedChannel c = InProcessChannelBuilder.forName(name).directExecutor().build();
        channels.add(c);
        return c;
    }

    @AfterEach
    void tearDown() {
        channels.forEach(ManagedChannel::shutdownNow);
        servers.forEach(Server::shutdownNow);
        scheduler.shutdownNow();
    }

    @Test
    void theUrgentStreamGoesOnItsOwnChannelMarkedUrgentAndIsAnsweredByTheDeliveringThread() throws Exception {
        Endpoint bulkEnd = new Endpoint();
        Endpoint urgentEnd = new Endpoint();
        String suffix = Long.toString(System.nanoTime());
        ManagedChannel bulk = serve("bulk-" + suffix, bulkEnd);
        ManagedChannel urgent = serve("urgent-" + suffix, urgentEnd);
        List<Thread> readers = new CopyOnWriteArrayList<>();
        PostcopyServer server = new PostcopyServer("m-1", 4096, (address, dst, off, len) -> {
            readers.add(Thread.currentThread());
            Arrays.fill(dst, off, off + len, (byte) 0x5a);
        }, MigrationGrpc.newStub(bulk), MigrationGrpc.newStub(urgent), scheduler, () -> { });
        server.start();
        try {
            assertThat(urgentEnd.greetings.poll(10, TimeUnit.SECONDS)).isEqualTo(PageStreamKind.PAGE_STREAM_KIND_URGENT
                    + " header=" + UrgentPageStream.URGENT);
            assertThat(bulkEnd.greetings.poll(10, TimeUnit.SECONDS)).isEqualTo(PageStreamKind.PAGE_STREAM_KIND_BULK
                    + " header=null");
            assertThat(urgentEnd.greetings).isEmpty();
            assertThat(bulkEnd.greetings).isEmpty();

            // Both transports run everything inline, so the demand reaches the source on this
            // thread: answered here means no queue and no serving thread in between.
            urgentEnd.outs.get(0).onNext(PageDemand.newBuilder().setMigrationId("m-1").setRequestId(7)
                    .setAddress(0x10000).setPageCount(1).build());
            PageSupply s = urgentEnd.supplies.poll(10, TimeUnit.SECONDS);
            assertThat(s).isNotNull();
            assertThat(s.getRequestId()).isEqualTo(7);
            assertThat(s.getChunk().getAddress()).isEqualTo(0x10000);
            assertThat(s.getChunk().getData().byteAt(4095)).isEqualTo((byte) 0x5a);
            assertThat(readers).containsExactly(Thread.currentThread());
            assertThat(server.urgentPagesServed()).isEqualTo(1);
            assertThat(bulkEnd.supplies).isEmpty();
        } finally {
            server.stop();
        }
    }
}
