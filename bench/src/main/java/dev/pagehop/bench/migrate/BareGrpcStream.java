package dev.pagehop.bench.migrate;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * What gRPC-Java alone can stream over loopback on this machine: opaque messages of the chunk
 * size, sent as pagehop's bulk stream sends (caller thread, a bounded number in flight, the
 * same ready threshold and HTTP/2 window), received as the target receives (manual flow
 * control, the transport's buffers detached and released without a copy), and nothing else
 * done with the bytes: no memory read, no checksum, no parse, no write into frames. It places
 * page streaming between raw TCP (the kernel's cost) and pagehop (everything a migration does).
 */
final class BareGrpcStream {
    private static final String SERVICE = "pagehop.bench.Bare";
    private static final int ACK_BYTES = 16;

    private BareGrpcStream() {
    }

    /** A marshaller over byte arrays whose receiving side only counts and releases what arrived. */
    private static final class Opaque implements MethodDescriptor.Marshaller<byte[]> {
        private static final byte[] RECEIVED = new byte[0];
        private final boolean discard;

        Opaque(boolean discard) {
            this.discard = discard;
        }

        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream in) {
            try {
                if (discard && in instanceof Detachable d && in instanceof HasByteBuffer h && h.byteBufferSupported()) {
                    try (InputStream detached = d.detach()) {
                        long left = detached.available();
                        while (left > 0) {
                            left -= detached.skip(left);
                        }
                    }
                    return RECEIVED;
                }
                return in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** MB/s and CPU seconds per GB (this process) of one stream of {@code bytes} in messages of {@code chunk}. */
    record Result(double mbPerSec, double cpuSecPerGb) {
    }

    static Result run(long bytes, int chunk, int inFlight, int window) throws Exception {
        MethodDescriptor<byte[], byte[]> method = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Transfer"))
                .setRequestMarshaller(new Opaque(true)).setResponseMarshaller(new Opaque(false)).build();
        ServerServiceDefinition service = ServerServiceDefinition.builder(SERVICE).addMethod(method,
                ServerCalls.asyncBidiStreamingCall(responses -> {
                    ServerCallStreamObserver<byte[]> out = (ServerCallStreamObserver<byte[]>) responses;
                    out.disableAutoRequest();
                    out.request(2);
                    return new StreamObserver<>() {
                        @Override
                        public void onNext(byte[] ignored) {
                            out.onNext(new byte[ACK_BYTES]);
                            out.request(1);
                        }

                        @Override
                        public void onError(Throwable t) {
                        }

                        @Override
                        public void onCompleted() {
                            out.onCompleted();
                        }
                    };
                })).build();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).flowControlWindow(window)
                .maxInboundMessageSize(chunk + 1024).addService(service).build().start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
                .flowControlWindow(window).build();
        try {
            byte[] message = new byte[chunk];
            new SplittableRandom(7).nextBytes(message);
            Semaphore room = new Semaphore(inFlight);
            Semaphore ready = new Semaphore(0);
            CountDownLatch closed = new CountDownLatch(1);
            Status[] status = new Status[1];
            ClientCall<byte[], byte[]> call = channel.newCall(method,
                    CallOptions.DEFAULT.withOnReadyThreshold(inFlight * chunk));
            call.start(new ClientCall.Listener<>() {
                @Override
                public void onMessage(byte[] ack) {
                    room.release();
                    call.request(1);
                }

                @Override
                public void onReady() {
                    ready.release();
                }

                @Override
                public void onClose(Status s, Metadata trailers) {
                    status[0] = s;
                    closed.countDown();
                }
            }, new Metadata());
            call.request(1);
            long messages = bytes / chunk;
            long cpu0 = MigrationBench.cpuNanos();
            long t0 = System.nanoTime();
            for (long i = 0; i < messages; i++) {
                room.acquire();
                while (!call.isReady()) {
                    ready.tryAcquire(10, TimeUnit.MILLISECONDS);
                }
                call.sendMessage(message);
            }
            call.halfClose();
            if (!closed.await(60, TimeUnit.SECONDS) || !status[0].isOk()) {
                throw new IllegalStateException("bare gRPC stream did not end cleanly: " + status[0]);
            }
            long t1 = System.nanoTime();
            long cpu = MigrationBench.cpuNanos() - cpu0;
            long moved = messages * chunk;
            return new Result(moved / ((t1 - t0) / 1e3), cpu / 1e9 / (moved / 1e9));
        } finally {
            channel.shutdownNow();
            server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }
}
