package dev.pagehop.target;

import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.migrate.FaultPoint;
import dev.pagehop.migrate.MigrationMode;
import dev.pagehop.migrate.PolicyWire;
import dev.pagehop.migrate.TargetPhase;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.ThpMode;
import dev.pagehop.proto.migration.v1.AbortRequest;
import dev.pagehop.proto.migration.v1.AbortResponse;
import dev.pagehop.proto.migration.v1.ChunkAck;
import dev.pagehop.proto.migration.v1.CommitRequest;
import dev.pagehop.proto.migration.v1.CommitResponse;
import dev.pagehop.proto.migration.v1.MigrationGrpc;
import dev.pagehop.proto.migration.v1.PageDemand;
import dev.pagehop.proto.migration.v1.PageSupply;
import dev.pagehop.proto.migration.v1.PrepareRequest;
import dev.pagehop.proto.migration.v1.PrepareResponse;
import dev.pagehop.proto.migration.v1.RecoverRequest;
import dev.pagehop.proto.migration.v1.RecoverResponse;
import dev.pagehop.proto.migration.v1.StatusRequest;
import dev.pagehop.proto.migration.v1.StatusResponse;
import dev.pagehop.proto.migration.v1.SwitchoverRequest;
import dev.pagehop.proto.migration.v1.SwitchoverResponse;
import dev.pagehop.proto.migration.v1.TransferRequest;
import dev.pagehop.proto.migration.v1.TransferResponse;
import dev.pagehop.xfer.LayoutSpec;
import dev.pagehop.xfer.LayoutWire;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Locale;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target's side of the migration protocol (see migration.proto for the sequence). Every
 * message is checked before it has any effect; a refusal is a gRPC status naming the migration,
 * the message and the numbers, and a refused stream message fails the migration (the target
 * discards what it received and the source aborts or retries).
 */
final class MigrationService extends MigrationGrpc.MigrationImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationService.class);

    /** The protocol this build speaks; the previous one is accepted too (Cloud Hypervisor's rule). */
    static final int PROTOCOL_VERSION = 1;
    static final int OLDEST_SUPPORTED_VERSION = 1;
    /**
     * Messages the target asks for ahead of the one it is applying: one in the pipe while one is
     * applied keeps the link busy without letting parsed chunks pile up in memory.
     */
    static final int RECEIVE_AHEAD = 2;

    private final TargetState state;
    /** Bulk stream requests parse over the received buffers; each is released once applied. */
    private final AliasingMarshaller<TransferRequest> transferRequests =
            new AliasingMarshaller<>(TransferRequest.getDefaultInstance());

    MigrationService(TargetState state) {
        this.state = state;
    }

    /**
     * The generated definition, with the bulk stream's requests parsed by
     * {@link AliasingMarshaller}: page data is not copied between the socket buffers and the
     * target's frames. Same method names and schema, so clients and reflection see no difference.
     */
    ServerServiceDefinition definition() {
        ServerServiceDefinition plain = bindService();
        MethodDescriptor<TransferRequest, TransferResponse> transfer = MigrationGrpc.getTransferMethod().toBuilder()
                .setRequestMarshaller(transferRequests).build();
        ServiceDescriptor old = plain.getServiceDescriptor();
        ServiceDescriptor.Builder sd = ServiceDescriptor.newBuilder(old.getName()).setSchemaDescriptor(old.getSchemaDescriptor());
        for (MethodDescriptor<?, ?> m : old.getMethods()) {
            sd.addMethod(m.getFullMethodName().equals(transfer.getFullMethodName()) ? transfer : m);
        }
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(sd.build());
        for (ServerMethodDefinition<?, ?> m : plain.getMethods()) {
            if (m.getMethodDescriptor().getFullMethodName().equals(transfer.getFullMethodName())) {
                @SuppressWarnings("unchecked")
                ServerCallHandler<TransferRequest, TransferResponse> h =
                        (ServerCallHandler<TransferRequest, TransferResponse>) m.getServerCallHandler();
                b.addMethod(transfer, h);
            } else {
                b.addMethod(m);
            }
        }
        return b.build();
    }

    /** Bulk stream messages parsed and not yet released (tests: zero once streams are done). */
    int heldTransferBuffers() {
        return transferRequests.heldCount();
    }

    @Override
    public void prepare(PrepareRequest r, StreamObserver<PrepareResponse> out) {
        try {
            out.onNext(doPrepare(r));
            out.onCompleted();
        } catch (StatusRuntimeException e) {
            LOG.warn("Prepare of migration {} refused: {}", r.getMigrationId(), e.getStatus().getDescription());
            out.onError(e);
        }
    }

    private PrepareResponse doPrepare(PrepareRequest r) {
        TargetConfig cfg = state.config();
        String id = r.getMigrationId();
        if (r.getProtocolVersion() < OLDEST_SUPPORTED_VERSION || r.getProtocolVersion() > PROTOCOL_VERSION) {
            throw Status.FAILED_PRECONDITION.withDescription("migration " + id + ": protocol version "
                    + r.getProtocolVersion() + " is not supported; this target speaks " + OLDEST_SUPPORTED_VERSION + ".."
                    + PROTOCOL_VERSION).asRuntimeException();
        }
        if (id.isEmpty() || id.length() > 128 || !id.matches("[A-Za-z0-9._-]+")) {
            throw Status.INVALID_ARGUMENT.withDescription("migration id '" + id
                    + "' must be 1..128 characters of letters, digits, '.', '_' or '-'").asRuntimeException();
        }
        MigrationMode mode = PolicyWire.mode(r.getMode());
        Granule granule = PolicyWire.granule(r.getGranule());
        ThpMode thp;
        try {
            thp = r.getThpMode().isEmpty() ? ThpMode.MADVISE : ThpMode.valueOf(r.getThpMode().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw Status.INVALID_ARGUMENT.withDescription("migration " + id + ": THP mode '" + r.getThpMode()
                    + "' is not ALWAYS, MADVISE or NEVER").asRuntimeException();
        }
        if (r.getMaxChunkBytes() == 0 || r.getMaxChunkBytes() > cfg.maxChunkBytes()) {
            throw Status.INVALID_ARGUMENT.withDescription("migration " + id + ": chunks of " + r.getMaxChunkBytes()
                    + " bytes; this target accepts 1.." + cfg.maxChunkBytes()).asRuntimeException();
        }
        if (r.getMaxChunkBytes() < granule.pageSize()) {
            throw Status.INVALID_ARGUMENT.withDescription("migration " + id + ": chunks of " + r.getMaxChunkBytes()
                    + " bytes are smaller than one " + granule.pageSize() + "-byte page").asRuntimeException();
        }
        LayoutSpec layout = LayoutWire.fromWire(r.getLayout(), granule.pageSize(), "Prepare layout of migration " + id);
        if (layout.mappedBytes() > cfg.maxMemoryBytes()) {
            throw Status.RESOURCE_EXHAUSTED.withDescription("migration " + id + ": " + layout.mappedBytes()
                    + " bytes mapped, over this target's limit of " + cfg.maxMemoryBytes()).asRuntimeException();
        }
        if (state.process(r.getSourcePid()) != null) {
            // The process keeps its pid across the migration, as CRIU restores it.
            throw Status.ALREADY_EXISTS.withDescription("migration " + id + ": a process with pid " + r.getSourcePid()
                    + " already runs on this target").asRuntimeException();
        }
        if (state.faults().fireIfReached(FaultPoint.REFUSE_PREPARE, 0)) {
            throw Status.FAILED_PRECONDITION.withDescription("migration " + id
                    + ": target refuses to prepare (fault point refuse-prepare)").asRuntimeException();
        }
        MemoryManager mm = MemoryManager.create(new MmConfig(granule, thp, r.getSoftDirty()));
        TargetMigration m = new TargetMigration(id, mode, r.getSourcePid(), r.getWorkload(), r.getSourceAgent(), mm,
                r.getMaxChunkBytes(), state.faults(), state.killSwitch(), state.nanoTime());
        m.postcopyMeters(state.postcopyMeters());
        m.postcopyLimits(state.postcopyLimits());
        m.maxMappedBytes(cfg.maxMemoryBytes());
        try {
            m.applyInitialLayout(layout);
        } catch (RuntimeException e) {
            mm.close();
            throw Status.INVALID_ARGUMENT.withDescription("migration " + id + ": the layout cannot be mapped: "
                    + e.getMessage()).asRuntimeException();
        }
        state.admit(m);
        LOG.info("migration {}: prepared from {} pid {} ({} bytes mapped, {} granule)", id, r.getSourceAgent(),
                r.getSourcePid(), layout.mappedBytes(), granule);
        return PrepareResponse.newBuilder().setProtocolVersion(PROTOCOL_VERSION)
                .setMaxChunksInFlight(cfg.maxChunksInFlight()).setTargetPid(0).build();
    }

    @Override
    public StreamObserver<TransferRequest> transfer(StreamObserver<TransferResponse> responses) {
        ServerCallStreamObserver<TransferResponse> out = (ServerCallStreamObserver<TransferResponse>) responses;
        // Manual flow control: a message is requested only when the previous one is applied, so
        // a fast source cannot make the target buffer more than RECEIVE_AHEAD parsed chunks.
        out.disableAutoRequest();
        out.request(RECEIVE_AHEAD);
        return new StreamObserver<>() {
            private TargetMigration migration;
            private boolean closed;

            @Override
            public void onNext(TransferRequest req) {
                try {
                    handle(req);
                } finally {
                    transferRequests.release(req);
                }
            }

            private void handle(TransferRequest req) {
                if (closed) {
                    return;
                }
                try {
                    switch (req.getBodyCase()) {
                        case ROUND_BEGIN -> {
                            bind(req.getRoundBegin().getMigrationId());
                            migration.roundBegin(req.getRoundBegin());
                        }
                        case CHUNK -> {
                            bind(req.getChunk().getMigrationId());
                            long seq = migration.chunk(req.getChunk());
                            out.onNext(TransferResponse.newBuilder().setChunkAck(ChunkAck.newBuilder()
                                    .setMigrationId(migration.id).setSequence(seq)).build());
                        }
                        case ROUND_END -> {
                            bind(req.getRoundEnd().getMigrationId());
                            out.onNext(TransferResponse.newBuilder().setRoundAck(migration.roundEnd(req.getRoundEnd()))
                                    .build());
                        }
                        case BODY_NOT_SET -> throw Status.INVALID_ARGUMENT.withDescription(
                                "bulk stream message with no body (RoundBegin, Chunk or RoundEnd expected)")
                                .asRuntimeException();
                    }
                    out.request(1);
                } catch (StatusRuntimeException e) {
                    closed = true;
                    String why = e.getStatus().getCode() + ": " + e.getStatus().getDescription();
                    LOG.warn("bulk stream refused a message: {}", why);
                    if (migration != null) {
                        migration.fail("bulk stream refused a message: " + why);
                    }
                    out.onError(e);
                } catch (RuntimeException e) {
                    closed = true;
                    LOG.error("bulk stream failed applying a message", e);
                    if (migration != null) {
                        migration.fail("applying a message failed: " + e);
                    }
                    out.onError(Status.INTERNAL.withDescription("target failed applying a message: " + e)
                            .asRuntimeException());
                }
            }

            private void bind(String id) {
                if (migration == null) {
                    migration = state.migration(id);
                    if (migration == null) {
                        throw Status.NOT_FOUND.withDescription("unknown migration '" + id
                                + "' on the bulk stream; Prepare it first").asRuntimeException();
                    }
                } else if (!migration.id.equals(id)) {
                    throw Status.INVALID_ARGUMENT.withDescription("bulk stream of migration " + migration.id
                            + " carries a message of migration '" + id + "'").asRuntimeException();
                }
            }

            @Override
            public void onError(Throwable t) {
                closed = true;
                if (migration != null && migration.phase() != TargetPhase.FINAL_ROUND_RECEIVED) {
                    migration.fail("bulk stream broke: " + Status.fromThrowable(t));
                }
            }

            @Override
            public void onCompleted() {
                if (!closed) {
                    closed = true;
                    out.onCompleted();
                }
            }
        };
    }

    @Override
    public void switchover(SwitchoverRequest r, StreamObserver<SwitchoverResponse> out) {
        unary(out, () -> required(r.getMigrationId(), "Switchover").switchover(r));
    }

    @Override
    public void commit(CommitRequest r, StreamObserver<CommitResponse> out) {
        unary(out, () -> {
            TargetMigration m = required(r.getMigrationId(), "Commit");
            long nanos = m.commit(r.getMigrationId(), r.getLeavePaused());
            int pid = state.adoptProcess(m);
            if (state.faults().fireCounted(FaultPoint.LOSE_COMMIT_ANSWERS)) {
                throw Status.UNAVAILABLE.withDescription("migration " + m.id + ": the Commit answer was lost "
                        + "(fault point lose-commit-answers)").asRuntimeException();
            }
            return CommitResponse.newBuilder().setTargetPid(pid).setResumeNanos(nanos).build();
        });
    }

    @Override
    public void abort(AbortRequest r, StreamObserver<AbortResponse> out) {
        unary(out, () -> {
            TargetMigration m = state.migration(r.getMigrationId());
            boolean active = m != null && m.abort(r.getReason());
            return AbortResponse.newBuilder().setWasActive(active).build();
        });
    }

    @Override
    public void status(StatusRequest r, StreamObserver<StatusResponse> out) {
        unary(out, () -> {
            TargetMigration m = required(r.getMigrationId(), "Status");
            StatusResponse.Builder b = StatusResponse.newBuilder().setPhase(TargetWire.phase(m.phase()))
                    .setRound(Math.max(0, m.lastRound())).setNextSequence(m.nextSequence())
                    .setPagesApplied(m.pagesApplied()).setFailure(m.failure());
            dev.pagehop.proto.types.v1.PostcopyStats pc = m.postcopyStats();
            if (pc != null) {
                b.setPostcopy(pc);
            }
            return b.build();
        });
    }

    @Override
    public StreamObserver<PageSupply> pageRequests(StreamObserver<PageDemand> out) {
        // The first message names the migration; everything after goes to its post-copy endpoint.
        return new StreamObserver<>() {
            private StreamObserver<PageSupply> delegate;

            @Override
            public void onNext(PageSupply s) {
                if (delegate == null) {
                    TargetMigration m = state.migration(s.getMigrationId());
                    PostcopyEndpoint e = m == null ? null : m.postcopy();
                    if (e == null) {
                        out.onError((m == null ? Status.NOT_FOUND.withDescription("PageRequests: unknown migration '"
                                + s.getMigrationId() + "'") : Status.FAILED_PRECONDITION.withDescription("PageRequests: "
                                + "migration " + s.getMigrationId() + " is in phase " + m.phase()
                                + ", not post-copy")).asRuntimeException());
                        delegate = NOOP;
                        return;
                    }
                    delegate = e.open(out);
                }
                delegate.onNext(s);
            }

            @Override
            public void onError(Throwable t) {
                if (delegate != null) {
                    delegate.onError(t);
                }
            }

            @Override
            public void onCompleted() {
                if (delegate != null) {
                    delegate.onCompleted();
                }
            }
        };
    }

    private static final StreamObserver<PageSupply> NOOP = new StreamObserver<>() {
        @Override
        public void onNext(PageSupply value) {
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onCompleted() {
        }
    };

    @Override
    public void recover(RecoverRequest r, StreamObserver<RecoverResponse> out) {
        unary(out, () -> {
            if (r.getProtocolVersion() < OLDEST_SUPPORTED_VERSION || r.getProtocolVersion() > PROTOCOL_VERSION) {
                throw Status.FAILED_PRECONDITION.withDescription("migration " + r.getMigrationId() + ": protocol version "
                        + r.getProtocolVersion() + " is not supported; this target speaks " + OLDEST_SUPPORTED_VERSION
                        + ".." + PROTOCOL_VERSION).asRuntimeException();
            }
            TargetMigration m = required(r.getMigrationId(), "Recover");
            PostcopyEndpoint e = m.postcopy();
            if (e == null) {
                throw Status.FAILED_PRECONDITION.withDescription("Recover: migration " + m.id + " is in phase "
                        + m.phase() + " and never switched over to post-copy").asRuntimeException();
            }
            RecoverResponse.Builder b = RecoverResponse.newBuilder().setNextSequence(m.nextSequence())
                    .setPhase(TargetWire.phase(m.phase()));
            for (dev.pagehop.track.PageRange pr : e.missingRanges()) {
                b.addMissingRanges(pr.start()).addMissingRanges(pr.end());
            }
            LazyPager p = e.pager();
            if (p != null && p.state() != PostcopyState.RUNNING && p.state() != PostcopyState.COMPLETED) {
                b.setDetail(p.failure());
            }
            return b.build();
        });
    }

    private TargetMigration required(String id, String what) {
        TargetMigration m = state.migration(id);
        if (m == null) {
            throw Status.NOT_FOUND.withDescription(what + ": unknown migration '" + id + "'").asRuntimeException();
        }
        return m;
    }

    private static <T> void unary(StreamObserver<T> out, Supplier<T> body) {
        T result;
        try {
            result = body.get();
        } catch (StatusRuntimeException e) {
            LOG.warn("refused: {} {}", e.getStatus().getCode(), e.getStatus().getDescription());
            out.onError(e);
            return;
        } catch (RuntimeException e) {
            LOG.error("internal error", e);
            out.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
            return;
        }
        out.onNext(result);
        out.onCompleted();
    }

}
