package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.proto.control.v1.AgentControlGrpc;
import dev.pagehop.proto.control.v1.CancelMigrationRequest;
import dev.pagehop.proto.control.v1.FailureKind;
import dev.pagehop.proto.control.v1.GetMigrationRequest;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.migration.v1.AbortRequest;
import dev.pagehop.proto.migration.v1.AbortResponse;
import dev.pagehop.proto.migration.v1.ChunkAck;
import dev.pagehop.proto.migration.v1.MigrationGrpc;
import dev.pagehop.proto.migration.v1.PrepareRequest;
import dev.pagehop.proto.migration.v1.PrepareResponse;
import dev.pagehop.proto.migration.v1.TransferRequest;
import dev.pagehop.proto.migration.v1.TransferResponse;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Remaining bytes move within a round: a target that acknowledges the first chunks of round 0 and
 * then holds every further acknowledgment freezes the round part-way, deterministically, and the
 * source's record must show exactly the acknowledged bytes as no longer remaining.
 */
@Timeout(60)
class ProgressWithinRoundTest {
    private static final int ACKED_CHUNKS = 3;

    private final String targetName = "stalling-target-" + UUID.randomUUID();
    private final String sourceName = "source-" + UUID.randomUUID();
    private final AtomicLong ackedBytes = new AtomicLong();
    private final AtomicLong chunksSeen = new AtomicLong();
    private Server target;
    private SourceAgentServer source;
    private ManagedChannel control;
    private AgentControlGrpc.AgentControlBlockingStub stub;

    /** Prepares anything; acknowledges the first {@link #ACKED_CHUNKS} chunks, then never another. */
    private final class StallingTarget extends MigrationGrpc.MigrationImplBase {
        @Override
        public void prepare(PrepareRequest r, StreamObserver<PrepareResponse> out) {
            out.onNext(PrepareResponse.newBuilder().setProtocolVersion(r.getProtocolVersion()).setMaxChunksInFlight(4)
                    .setTargetPid(1).build());
            out.onCompleted();
        }

        @Override
        public StreamObserver<TransferRequest> transfer(StreamObserver<TransferResponse> out) {
            return new StreamObserver<>() {
                @Override
                public void onNext(TransferRequest r) {
                    if (r.hasChunk() && chunksSeen.incrementAndGet() <= ACKED_CHUNKS) {
                        ackedBytes.addAndGet(r.getChunk().getLengthBytes());
                        out.onNext(TransferResponse.newBuilder().setChunkAck(ChunkAck.newBuilder()
                                .setMigrationId(r.getChunk().getMigrationId()).setSequence(r.getChunk().getSequence()))
                                .build());
                    }
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    out.onCompleted();
                }
            };
        }

        @Override
        public void abort(AbortRequest r, StreamObserver<AbortResponse> out) {
            out.onNext(AbortResponse.newBuilder().setWasActive(true).build());
            out.onCompleted();
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        target = InProcessServerBuilder.forName(targetName).addService(new StallingTarget()).build().start();
        source = new SourceAgentServer(InProcessServerBuilder.forName(sourceName),
                t -> InProcessChannelBuilder.forName(t).build(),
                new SourceAgentServer.Options("source", SourceConfig.defaults(),
                        new SourceMigration.Settings(TimeUnit.SECONDS.toNanos(60), 20_000, "source", new FaultInjector(),
                                System::nanoTime),
                        "127.0.0.1", -1, 5_000));
        control = InProcessChannelBuilder.forName(sourceName).build();
        stub = AgentControlGrpc.newBlockingStub(control);
    }

    @AfterEach
    void tearDown() {
        control.shutdownNow();
        source.close();
        target.shutdownNow();
    }

    @Test
    void remainingBytesShrinkAsChunksOfTheRoundAreAcknowledged() {
        int pid = stub.spawn(SpawnRequest.newBuilder().setWorkload("kv").setGranule(Granule.GRANULE_4K)
                .setMemoryBytes(1 << 20).setThreads(1).setSeed(3).build()).getPid();
        MigrationInfo started = stub.startMigration(StartMigrationRequest.newBuilder().setPid(pid).setTarget(targetName)
                .setMode(MigrationMode.MIGRATION_MODE_PRECOPY).setTracker(Tracker.TRACKER_UFFD_WP_ASYNC)
                .setPolicy(MigrationPolicy.newBuilder().setChunkBytes(16 * 4096).setMaxChunksInFlight(4)).build());
        String id = started.getMigrationId();
        GetMigrationRequest get = GetMigrationRequest.newBuilder().setMigrationId(id).build();
        // The window is 4 chunks: once a 4th past the acknowledged ones went out, the round is stuck for good.
        await().atMost(Duration.ofSeconds(30)).until(() -> chunksSeen.get() >= ACKED_CHUNKS + 4);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            MigrationInfo m = stub.getMigration(get);
            return m.getStats().getMemoryBytes() - m.getStats().getRemainingBytes() == ackedBytes.get();
        });
        MigrationInfo mid = stub.getMigration(get);
        assertThat(mid.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_ITERATING);
        assertThat(mid.getStats().getPerRoundCount()).as("still in round 0").isZero();
        assertThat(mid.getStats().getRemainingBytes()).isEqualTo(mid.getStats().getMemoryBytes() - ackedBytes.get())
                .isLessThan(mid.getStats().getMemoryBytes());

        stub.cancelMigration(CancelMigrationRequest.newBuilder().setMigrationId(id).build());
        await().atMost(Duration.ofSeconds(20)).until(() -> stub.getMigration(get).getSourcePhase()
                == SourcePhase.SOURCE_PHASE_CANCELLED);
        assertThat(stub.getMigration(get).getFailureKind()).isEqualTo(FailureKind.FAILURE_KIND_CANCELLED);
    }
}
