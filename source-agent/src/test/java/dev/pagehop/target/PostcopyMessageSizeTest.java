package dev.pagehop.target;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.proto.migration.v1.MigrationGrpc;
import dev.pagehop.proto.migration.v1.PageDemand;
import dev.pagehop.proto.migration.v1.PageStreamKind;
import dev.pagehop.proto.migration.v1.PageSupply;
import dev.pagehop.source.PostcopyServer;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The largest background pull the lazy pager makes must fit gRPC's default inbound message limit
 * (4 MiB) with its header and zero bitmap, over a real HTTP/2 transport on loopback: a pull of
 * {@link LazyPager#MAX_PULL_BYTES_DEFAULT_GRPC} arrives whole, while a pull of a full 4 MiB of
 * incompressible pages is refused by the transport (which is why pulls are capped below it).
 */
class PostcopyMessageSizeTest {
    private static final long BASE = 0x4000_0000L;
    private static final int PAGES = 1024;

    private MemoryManager source;
    private ScheduledExecutorService scheduler;
    private Server server;
    private ManagedChannel channel;
    private PostcopyServer pages;
    private final CompletableFuture<PageSupply> answer = new CompletableFuture<>();
    private volatile int demandPages;

    @BeforeEach
    void setUp() throws Exception {
        source = MemoryManager.create(MmConfig.arm64(Granule.K4));
        long ps = source.pageSize();
        source.mmap(BASE, PAGES * ps, Prot.READ | Prot.WRITE, MapFlags.FIXED | MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        byte[] page = new byte[(int) ps];
        Random rnd = new Random(3);
        for (int i = 0; i < PAGES; i++) {
            rnd.nextBytes(page);
            source.write(BASE + i * ps, page);
        }
        scheduler = Executors.newScheduledThreadPool(1);
        // A target-like server with gRPC's default limits: it asks for one background pull.
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new MigrationGrpc.MigrationImplBase() {
                    @Override
                    public StreamObserver<PageSupply> pageRequests(StreamObserver<PageDemand> out) {
                        return new StreamObserver<>() {
                            @Override
                            public void onNext(PageSupply s) {
                                if (s.getRequestId() == 0 && s.getStreamKind() == PageStreamKind.PAGE_STREAM_KIND_BULK) {
                                    out.onNext(PageDemand.newBuilder().setMigrationId("m-size").setRequestId(1)
                                            .setAddress(BASE).setPageCount(demandPages).setBackground(true).build());
                                } else if (s.getRequestId() == 1) {
                                    answer.complete(s);
                                }
                            }

                            @Override
                            public void onError(Throwable t) {
                                answer.completeExceptionally(t);
                            }

                            @Override
                            public void onCompleted() {
                            }
                        };
                    }
                }).build().start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        pages = new PostcopyServer("m-size", ps, source::peek, MigrationGrpc.newStub(channel), scheduler, () -> { });
    }

    @AfterEach
    void tearDown() throws Exception {
        pages.stop();
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        scheduler.shutdownNow();
        source.close();
    }

    @Test
    void theLargestPullFitsTheDefaultMessageLimit() throws Exception {
        demandPages = Math.toIntExact(LazyPager.MAX_PULL_BYTES_DEFAULT_GRPC / source.pageSize());
        pages.start();
        PageSupply s = answer.get(30, TimeUnit.SECONDS);
        assertThat(s.getUnreadable()).isEmpty();
        assertThat(s.getChunk().getLengthBytes()).isEqualTo(LazyPager.MAX_PULL_BYTES_DEFAULT_GRPC);
        byte[] want = new byte[s.getChunk().getData().size()];
        source.peek(BASE, want, 0, want.length);
        assertThat(s.getChunk().getData().toByteArray()).isEqualTo(want);
    }

    @Test
    void aFull4MiBPullIsRefusedByTheTransport() {
        demandPages = PAGES;
        pages.start();
        assertThatThrownBy(() -> answer.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .satisfies(e -> assertThat(Status.fromThrowable(e.getCause()).getCode())
                        .isIn(Status.Code.RESOURCE_EXHAUSTED, Status.Code.CANCELLED));
    }
}
