package dev.pagehop.target;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.migrate.TargetPhase;
import dev.pagehop.mm.Prot;
import dev.pagehop.proto.migration.v1.AbortRequest;
import dev.pagehop.proto.migration.v1.Chunk;
import dev.pagehop.proto.migration.v1.ChunkKind;
import dev.pagehop.proto.migration.v1.Layout;
import dev.pagehop.proto.migration.v1.MigrationGrpc;
import dev.pagehop.proto.migration.v1.PrepareRequest;
import dev.pagehop.proto.migration.v1.RoundBegin;
import dev.pagehop.proto.migration.v1.RoundEnd;
import dev.pagehop.proto.migration.v1.SwitchoverRequest;
import dev.pagehop.proto.migration.v1.TransferRequest;
import dev.pagehop.proto.migration.v1.TransferResponse;
import dev.pagehop.proto.migration.v1.Vma;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.xfer.ChunkEncoder;
import dev.pagehop.xfer.ChunkSpec;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every malformed or out-of-order message is refused with a status naming what was wrong, and
 * the target's state stays consistent: the migration is failed and discarded, nothing half-applied
 * survives, and a fresh migration on the same target works.
 */
class TargetProtocolTest {
    private static final long BASE = 0x40_0000L;
    private static final int PAGES = 16;

    private TargetAgentServer server;
    private ManagedChannel channel;
    private MigrationGrpc.MigrationBlockingStub blocking;
    private MigrationGrpc.MigrationStub async;

    @BeforeEach
    void start() throws Exception {
        String name = "t-" + UUID.randomUUID();
        server = new TargetAgentServer(InProcessServerBuilder.forName(name), new TargetAgentServer.Options("t", 1L << 30,
                4, new FaultInjector(), () -> { }, System::nanoTime, "127.0.0.1", -1, 1000));
        channel = InProcessChannelBuilder.forName(name).build();
        blocking = MigrationGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        async = MigrationGrpc.newStub(channel);
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.close();
    }

    private static Layout layout() {
        return Layout.newBuilder().addVmas(Vma.newBuilder().setStart(BASE).setEnd(BASE + PAGES * 4096L)
                .setProt(Prot.READ | Prot.WRITE).setVmFlags(0x73)).build();
    }

    private static PrepareRequest.Builder prepare(String id) {
        return PrepareRequest.newBuilder().setProtocolVersion(1).setMigrationId(id)
                .setMode(MigrationMode.MIGRATION_MODE_PRECOPY).setGranule(Granule.GRANULE_4K).setLayout(layout())
                .setMaxChunkBytes(1 << 20).setThpMode("MADVISE");
    }

    private static Status refusal(Runnable call) {
        try {
            call.run();
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        }
        throw new AssertionError("the call was accepted");
    }

    @Test
    void prepareRefusesBadVersionsEnumsLayoutsAndDuplicates() {
        Status v = refusal(() -> blocking.prepare(prepare("m1").setProtocolVersion(7).build()));
        assertThat(v.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(v.getDescription()).contains("protocol version 7", "1..1");
        Status g = refusal(() -> blocking.prepare(prepare("m1").setGranule(Granule.GRANULE_UNSPECIFIED).build()));
        assertThat(g.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(g.getDescription()).contains("granule 0");
        Status mode = refusal(() -> blocking.prepare(prepare("m1").setMode(MigrationMode.MIGRATION_MODE_UNSPECIFIED).build()));
        assertThat(mode.getDescription()).contains("mode 0");
        Status overlap = refusal(() -> blocking.prepare(prepare("m1").setLayout(layout().toBuilder()
                .addVmas(Vma.newBuilder().setStart(BASE + 4096).setEnd(BASE + 8192).setProt(1))).build()));
        assertThat(overlap.getDescription()).contains("VMA 1 [0x401000, 0x402000)", "overlaps");
        Status unaligned = refusal(() -> blocking.prepare(prepare("m1").setLayout(Layout.newBuilder()
                .addVmas(Vma.newBuilder().setStart(BASE + 100).setEnd(BASE + 8192))).build()));
        assertThat(unaligned.getDescription()).contains("not aligned to the page size 4096");
        Status big = refusal(() -> blocking.prepare(prepare("m1").setMaxChunkBytes(64 << 20).build()));
        assertThat(big.getDescription()).contains("67108864");
        Status badId = refusal(() -> blocking.prepare(prepare("a b").build()));
        assertThat(badId.getDescription()).contains("'a b'");
        blocking.prepare(prepare("m1").build());
        Status dup = refusal(() -> blocking.prepare(prepare("m1").build()));
        assertThat(dup.getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
        assertThat(dup.getDescription()).contains("m1", "already prepared");
    }

    /** Sends messages on one bulk stream and returns how it ended. */
    private Status stream(List<TransferRequest> messages, List<TransferResponse> responses) throws Exception {
        CompletableFuture<Status> done = new CompletableFuture<>();
        StreamObserver<TransferRequest> req = async.transfer(new StreamObserver<>() {
            @Override
            public void onNext(TransferResponse value) {
                synchronized (responses) {
                    responses.add(value);
                }
            }

            @Override
            public void onError(Throwable t) {
                done.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                done.complete(Status.OK);
            }
        });
        for (TransferRequest m : messages) {
            req.onNext(m);
        }
        req.onCompleted();
        return done.get(10, TimeUnit.SECONDS);
    }

    private static TransferRequest begin(String id, long round) {
        return TransferRequest.newBuilder().setRoundBegin(RoundBegin.newBuilder().setMigrationId(id).setRound(round)
                .setLayout(layout())).build();
    }

    private static Chunk pages(String id, long round, long seq, long addr, int pages) {
        return ChunkEncoder.pages(id, round, seq, new ChunkSpec(addr, pages * 4096L, 4096), (a, dst, off, len) -> {
            for (int i = 0; i < len; i++) {
                dst[off + i] = (byte) (a + i + 1);
            }
        }).chunk();
    }

    private static TransferRequest chunk(Chunk c) {
        return TransferRequest.newBuilder().setChunk(c).build();
    }

    private static TransferRequest end(String id, long round, long first, long next, long pages) {
        return TransferRequest.newBuilder().setRoundEnd(RoundEnd.newBuilder().setMigrationId(id).setRound(round)
                .setFirstSequence(first).setNextSequence(next).setPageCount(pages)).build();
    }

    /** Prepares a migration, plays {@code bad} after a good first chunk, and checks the refusal. */
    private void refused(String id, Consumer<List<TransferRequest>> bad, Status.Code code, String... words)
            throws Exception {
        blocking.prepare(prepare(id).build());
        List<TransferRequest> msgs = new ArrayList<>();
        msgs.add(begin(id, 0));
        msgs.add(chunk(pages(id, 0, 0, BASE, 2)));
        bad.accept(msgs);
        List<TransferResponse> acks = new ArrayList<>();
        Status s = stream(msgs, acks);
        assertThat(s.getCode()).as(String.valueOf(s)).isEqualTo(code);
        assertThat(s.getDescription()).contains(words);
        TargetMigration m = server.state().migration(id);
        assertThat(m.phase()).isEqualTo(TargetPhase.FAILED);
        assertThat(m.failure()).contains(words[0]);
        assertThat(server.activeMigrations()).isZero();
    }

    @Test
    void unknownMigrationOnTheStream() throws Exception {
        Status s = stream(List.of(begin("ghost", 0)), new ArrayList<>());
        assertThat(s.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(s.getDescription()).contains("unknown migration 'ghost'");
    }

    @Test
    void migrationsArrivingCountAgainstTheMemoryBudgetUntilTheyEnd() throws Exception {
        long one = PAGES * 4096L;
        String name = "budget-" + UUID.randomUUID();
        try (TargetAgentServer t = new TargetAgentServer(InProcessServerBuilder.forName(name),
                new TargetAgentServer.Options("t", 1L << 30, 4, new FaultInjector(), () -> { }, System::nanoTime,
                        "127.0.0.1", 0, 1000, 2 * one + 4096))) {
            ManagedChannel c = InProcessChannelBuilder.forName(name).build();
            try {
                MigrationGrpc.MigrationBlockingStub b = MigrationGrpc.newBlockingStub(c)
                        .withDeadlineAfter(10, TimeUnit.SECONDS);
                b.prepare(prepare("a").build());
                b.prepare(prepare("b").build());
                assertThat(metrics(t)).contains("pagehop_target_memory_held_bytes " + (double) (2 * one),
                        "pagehop_target_memory_budget_bytes " + (double) (2 * one + 4096));
                assertThatThrownBy(() -> b.prepare(prepare("c").build()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                            assertThat(e.getStatus().getDescription()).isEqualTo("migration c: " + one
                                    + " bytes mapped would bring this target's process memory to " + 3 * one
                                    + " bytes (0 processes running here hold 0 bytes resident, 2 migrations arriving "
                                    + "map " + 2 * one + " bytes), over its limit of " + (2 * one + 4096)
                                    + " bytes (--max-total-memory)");
                        });
                assertThat(t.state().migration("c")).as("a refused migration is not kept").isNull();
                b.abort(AbortRequest.newBuilder().setMigrationId("a").setReason("test").build());
                b.prepare(prepare("c").build());
                assertThat(t.state().migration("c").phase()).isEqualTo(TargetPhase.PREPARED);
            } finally {
                c.shutdownNow();
            }
        }
    }

    private static String metrics(TargetAgentServer t) throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + t.metricsPort()
                + "/metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void aRoundWhoseLayoutGrewPastTheTargetsLimitIsRefused() throws Exception {
        // The server admits 1 GiB per migration; Prepare declared 64 KiB, round 1 maps 2 GiB.
        long huge = 2L << 30;
        refused("m-grew", l -> {
            l.add(end("m-grew", 0, 0, 1, 2));
            l.add(TransferRequest.newBuilder().setRoundBegin(RoundBegin.newBuilder().setMigrationId("m-grew")
                    .setRound(1).setLayout(Layout.newBuilder().addVmas(Vma.newBuilder().setStart(BASE)
                            .setEnd(BASE + huge).setProt(Prot.READ | Prot.WRITE).setVmFlags(0x73)))).build());
        }, Status.Code.RESOURCE_EXHAUSTED, "round 1 layout maps " + huge + " bytes", "limit of " + (1L << 30),
                "--max-memory");
    }

    @Test
    void addressOutsideAnyVma() throws Exception {
        refused("m-out", l -> l.add(chunk(pages("m-out", 0, 1, BASE + PAGES * 4096L, 1))), Status.Code.OUT_OF_RANGE,
                "outside any VMA", "0x410000");
    }

    @Test
    void wrongLength() throws Exception {
        refused("m-len", l -> l.add(chunk(pages("m-len", 0, 1, BASE + 8192, 2).toBuilder().setLengthBytes(3 * 4096)
                .build())), Status.Code.INVALID_ARGUMENT, "data is 8192 bytes, expected 12288");
    }

    @Test
    void badChecksum() throws Exception {
        Chunk good = pages("m-crc", 0, 1, BASE + 8192, 2);
        byte[] data = good.getData().toByteArray();
        data[17] ^= 0x40;
        refused("m-crc", l -> l.add(chunk(good.toBuilder().setData(ByteString.copyFrom(data)).build())),
                Status.Code.DATA_LOSS, "checksum");
    }

    @Test
    void duplicateSequence() throws Exception {
        refused("m-dup", l -> l.add(chunk(pages("m-dup", 0, 0, BASE + 8192, 1))), Status.Code.INVALID_ARGUMENT,
                "duplicate sequence 0");
    }

    @Test
    void missingSequence() throws Exception {
        refused("m-gap", l -> l.add(chunk(pages("m-gap", 0, 3, BASE + 8192, 1))), Status.Code.DATA_LOSS,
                "missing sequence 1..2", "got 3");
    }

    @Test
    void roundGoingBackwards() throws Exception {
        refused("m-back", l -> {
            l.add(end("m-back", 0, 0, 1, 2));
            l.add(begin("m-back", 1));
            l.add(end("m-back", 1, 1, 1, 0));
            l.add(begin("m-back", 0));
        }, Status.Code.OUT_OF_RANGE, "round going backwards", "round 0 after round 1");
    }

    @Test
    void chunkOfAnotherRoundAndRoundEndTotalsThatDoNotAdd() throws Exception {
        refused("m-rnd", l -> l.add(chunk(pages("m-rnd", 5, 1, BASE, 1))), Status.Code.OUT_OF_RANGE,
                "says round 5 but round 0 is open");
        refused("m-tot", l -> l.add(end("m-tot", 0, 0, 2, 2)), Status.Code.DATA_LOSS, "sent sequences [0, 2)",
                "applied [0, 1)");
    }

    @Test
    void unspecifiedChunkKindAndAStreamForAnotherMigration() throws Exception {
        refused("m-kind", l -> l.add(chunk(pages("m-kind", 0, 1, BASE, 1).toBuilder()
                .setKind(ChunkKind.CHUNK_KIND_UNSPECIFIED).build())), Status.Code.INVALID_ARGUMENT, "kind 0");
        refused("m-mix", l -> l.add(chunk(pages("other", 0, 1, BASE, 1))), Status.Code.INVALID_ARGUMENT,
                "carries a message of migration 'other'");
    }

    @Test
    void unmappedRecordOverAMappedVmaIsRefused() throws Exception {
        refused("m-unm", l -> l.add(chunk(ChunkEncoder.range("m-unm", 0, 1, ChunkKind.CHUNK_KIND_UNMAPPED, BASE, 4096))),
                Status.Code.OUT_OF_RANGE, "unmapped, but VMA");
    }

    @Test
    void switchoverBeforeTheFinalRoundAndCommitBeforeSwitchoverAreRefused() throws Exception {
        blocking.prepare(prepare("m-early").build());
        Status s = refusal(() -> blocking.switchover(SwitchoverRequest.newBuilder().setMigrationId("m-early").build()));
        assertThat(s.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(s.getDescription()).contains("Switchover in phase PREPARED");
        Status c = refusal(() -> blocking.commit(dev.pagehop.proto.migration.v1.CommitRequest.newBuilder()
                .setMigrationId("m-early").build()));
        assertThat(c.getDescription()).contains("Commit in phase PREPARED");
        assertThat(blocking.abort(AbortRequest.newBuilder().setMigrationId("m-early").setReason("test").build())
                .getWasActive()).isTrue();
        assertThat(blocking.abort(AbortRequest.newBuilder().setMigrationId("m-early").build()).getWasActive()).isFalse();
        assertThat(server.state().migration("m-early").phase()).isEqualTo(TargetPhase.ABORTED);
    }

    @Test
    void aCompleteRoundIsAcknowledgedChunkByChunkAndAppliedToMemory() throws Exception {
        blocking.prepare(prepare("m-ok").build());
        List<TransferResponse> acks = new ArrayList<>();
        Status s = stream(List.of(begin("m-ok", 0), chunk(pages("m-ok", 0, 0, BASE, 4)),
                chunk(ChunkEncoder.range("m-ok", 0, 1, ChunkKind.CHUNK_KIND_ZERO, BASE + 4 * 4096, 12 * 4096)),
                end("m-ok", 0, 0, 2, 16)), acks);
        assertThat(s.isOk()).as(String.valueOf(s)).isTrue();
        assertThat(acks).hasSize(3);
        assertThat(acks.get(0).getChunkAck().getSequence()).isZero();
        assertThat(acks.get(1).getChunkAck().getSequence()).isEqualTo(1);
        assertThat(acks.get(2).getRoundAck().getPageCount()).isEqualTo(16);
        TargetMigration m = server.state().migration("m-ok");
        assertThat(m.phase()).isEqualTo(TargetPhase.RECEIVING);
        assertThat(m.pagesApplied()).isEqualTo(16);
        byte[] got = new byte[4096];
        // Kernel-side read of what the rebuilder wrote: byte i of page p is (BASE + p*4096 + i + 1).
        m.memoryForTest().peek(BASE + 4096, got, 0, 4096);
        assertThat(got[0]).isEqualTo((byte) (BASE + 4096 + 1));
    }
}
