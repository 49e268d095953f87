package dev.pagehop.source;

import dev.pagehop.migrate.MigrationPolicy;
import dev.pagehop.migrate.PolicyWire;
import dev.pagehop.migrate.ProcessWire;
import dev.pagehop.migrate.SourcePhase;
import dev.pagehop.mm.Granule;
import dev.pagehop.proto.control.v1.AgentControlGrpc;
import dev.pagehop.proto.control.v1.AgentInfo;
import dev.pagehop.proto.control.v1.AgentRole;
import dev.pagehop.proto.control.v1.CancelMigrationRequest;
import dev.pagehop.proto.control.v1.GetAgentInfoRequest;
import dev.pagehop.proto.control.v1.GetMigrationRequest;
import dev.pagehop.proto.control.v1.InspectProcessRequest;
import dev.pagehop.proto.control.v1.KillProcessRequest;
import dev.pagehop.proto.control.v1.ListMigrationsRequest;
import dev.pagehop.proto.control.v1.ListMigrationsResponse;
import dev.pagehop.proto.control.v1.ListProcessesRequest;
import dev.pagehop.proto.control.v1.ListProcessesResponse;
import dev.pagehop.proto.control.v1.MigrationEvent;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.ProcessInspection;
import dev.pagehop.proto.control.v1.ProcessState;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.control.v1.WatchMigrationRequest;
import dev.pagehop.proto.types.v1.Tracker;
import dev.pagehop.track.DirtyTrackers;
import dev.pagehop.workload.Workloads;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** AgentControl on the source agent: processes, migrations, statistics, cancel. */
final class ControlService extends AgentControlGrpc.AgentControlImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(ControlService.class);
    private static final long DEFAULT_PROGRESS_INTERVAL_MS = 500;

    private final SourceState state;

    ControlService(SourceState state) {
        this.state = state;
    }

    @Override
    public void getAgentInfo(GetAgentInfoRequest r, StreamObserver<AgentInfo> out) {
        unary(out, () -> {
            AgentInfo.Builder b = AgentInfo.newBuilder().setRole(AgentRole.AGENT_ROLE_SOURCE).setName(state.name())
                    .setVersion(SourceAgent.VERSION).setProtocolVersion(SourceMigration.PROTOCOL_VERSION)
                    .addAllWorkloads(Workloads.kinds());
            for (String t : DirtyTrackers.NAMES) {
                b.addTrackers(PolicyWire.tracker(t));
            }
            for (Granule g : Granule.values()) {
                b.addGranules(PolicyWire.granule(g));
            }
            return b.build();
        });
    }

    @Override
    public void spawn(SpawnRequest r, StreamObserver<ProcessInfo> out) {
        unary(out, () -> info(state.spawn(r)));
    }

    @Override
    public void listProcesses(ListProcessesRequest r, StreamObserver<ListProcessesResponse> out) {
        unary(out, () -> {
            ListProcessesResponse.Builder b = ListProcessesResponse.newBuilder();
            for (ManagedProcess p : state.processes()) {
                b.addProcesses(info(p));
            }
            return b.build();
        });
    }

    @Override
    public void inspectProcess(InspectProcessRequest r, StreamObserver<ProcessInspection> out) {
        unary(out, () -> {
            ManagedProcess p = state.requireProcess(r.getPid());
            if (p.migrating()) {
                throw Status.FAILED_PRECONDITION.withDescription("process " + p.pid() + " is migrating ("
                        + p.migrationId() + "); inspect it when the migration ends").asRuntimeException();
            }
            return ProcessWire.inspect(p.process, info(p), r.getCheckIntegrity());
        });
    }

    @Override
    public void killProcess(KillProcessRequest r, StreamObserver<ProcessInfo> out) {
        unary(out, () -> info(state.kill(r.getPid())));
    }

    @Override
    public void startMigration(StartMigrationRequest r, StreamObserver<MigrationInfo> out) {
        unary(out, () -> {
            if (r.getTarget().isBlank()) {
                throw Status.INVALID_ARGUMENT.withDescription("target is empty; give host:port of a target agent")
                        .asRuntimeException();
            }
            MigrationPolicy policy = PolicyWire.fromWire(r.getPolicy(), r.getMode());
            String tracker = r.getTracker() == Tracker.TRACKER_UNSPECIFIED ? DirtyTrackers.DEFAULT
                    : PolicyWire.trackerName(r.getTracker());
            SourceMigration m = state.startMigration(r.getPid(), r.getTarget(), policy, tracker,
                    r.getLeavePausedOnTarget(), r.getKeepSource());
            return SourceWire.info(m.snapshot());
        });
    }

    @Override
    public void getMigration(GetMigrationRequest r, StreamObserver<MigrationInfo> out) {
        unary(out, () -> SourceWire.info(state.requireMigration(r.getMigrationId()).snapshot()));
    }

    @Override
    public void listMigrations(ListMigrationsRequest r, StreamObserver<ListMigrationsResponse> out) {
        unary(out, () -> {
            ListMigrationsResponse.Builder b = ListMigrationsResponse.newBuilder();
            for (SourceMigration m : state.migrations()) {
                b.addMigrations(SourceWire.info(m.snapshot()));
            }
            return b.build();
        });
    }

    @Override
    public void cancelMigration(CancelMigrationRequest r, StreamObserver<MigrationInfo> out) {
        unary(out, () -> {
            SourceMigration m = state.requireMigration(r.getMigrationId());
            if (!m.cancel()) {
                throw Status.FAILED_PRECONDITION.withDescription("migration " + m.id + " is " + m.phase()
                        + "; it can be cancelled only before the commit").asRuntimeException();
            }
            return SourceWire.info(m.snapshot());
        });
    }

    @Override
    public void recoverMigration(dev.pagehop.proto.control.v1.RecoverMigrationRequest r,
            StreamObserver<MigrationInfo> out) {
        unary(out, () -> {
            SourceMigration m = state.requireMigration(r.getMigrationId());
            try {
                m.recover();
            } catch (MigrationException e) {
                throw Status.fromCode(e.status().getCode()).withDescription(e.getMessage()).asRuntimeException();
            }
            return SourceWire.info(m.snapshot());
        });
    }

    @Override
    public void watchMigration(WatchMigrationRequest r, StreamObserver<MigrationEvent> responses) {
        SourceMigration m;
        try {
            m = state.requireMigration(r.getMigrationId());
        } catch (StatusRuntimeException e) {
            responses.onError(e);
            return;
        }
        ServerCallStreamObserver<MigrationEvent> out = (ServerCallStreamObserver<MigrationEvent>) responses;
        long intervalMs = r.getProgressIntervalMs() == 0 ? DEFAULT_PROGRESS_INTERVAL_MS : r.getProgressIntervalMs();
        Watcher w = new Watcher(m, out, intervalMs);
        out.setOnCancelHandler(() -> m.removeListener(w));
        synchronized (w) {
            w.send(MigrationEvent.Kind.KIND_SNAPSHOT, m.snapshot());
        }
        m.addListener(w);
        // The migration may have ended between the snapshot and the registration.
        w.accept(m);
        state.progressTicker().register(w, intervalMs);
    }

    /**
     * One watcher: phase changes, round ends and the end always go out (bounded by the number of
     * rounds); progress only while the stream is ready, so a slow watcher never queues without bound.
     */
    final class Watcher implements Consumer<SourceMigration> {
        private final SourceMigration m;
        private final ServerCallStreamObserver<MigrationEvent> out;
        private final long intervalMs;
        private SourcePhase lastPhase;
        private int lastRounds;
        private boolean ended;
        private long lastProgressMs;

        Watcher(SourceMigration m, ServerCallStreamObserver<MigrationEvent> out, long intervalMs) {
            this.m = m;
            this.out = out;
            this.intervalMs = intervalMs;
        }

        @Override
        public synchronized void accept(SourceMigration mig) {
            if (ended || out.isCancelled()) {
                return;
            }
            SourceMigration.Snapshot s = m.snapshot();
            if (s.phase().terminal()) {
                // Always an END, even when the snapshot at the start of the watch already showed the end.
                send(MigrationEvent.Kind.KIND_END, s);
            } else if (s.phase() != lastPhase) {
                send(MigrationEvent.Kind.KIND_PHASE, s);
            } else if (s.rounds().size() != lastRounds) {
                send(MigrationEvent.Kind.KIND_ROUND_END, s);
            }
            if (s.phase().terminal()) {
                ended = true;
                m.removeListener(this);
                out.onCompleted();
            }
        }

        synchronized boolean progress() {
            if (ended || out.isCancelled()) {
                return false;
            }
            long now = System.currentTimeMillis();
            if (out.isReady() && now - lastProgressMs >= intervalMs) {
                send(MigrationEvent.Kind.KIND_PROGRESS, m.snapshot());
            }
            return true;
        }

        void send(MigrationEvent.Kind kind, SourceMigration.Snapshot s) {
            lastPhase = s.phase();
            lastRounds = s.rounds().size();
            lastProgressMs = System.currentTimeMillis();
            MigrationInfo info = SourceWire.info(s);
            MigrationEvent.Builder e = MigrationEvent.newBuilder().setKind(kind).setTimeMs(lastProgressMs)
                    .setMigrationId(s.id()).setSourcePhase(SourceWire.phase(s.phase())).setRound(s.currentRound())
                    .setPagesSent(s.normalPages() + s.zeroPages() + s.roundPagesSent())
                    .setTransferredBytes(s.transferredBytes()).setRemainingBytes(s.remainingBytes())
                    .setDirtyRateBytesPerSec(info.getStats().getDirtyRateBytesPerSec())
                    .setBandwidthBytesPerSec(info.getStats().getBandwidthBytesPerSec())
                    .setExpectedDowntimeMs(info.getStats().getExpectedDowntimeMs())
                    .setThrottlePercent(s.throttlePercent());
            if (kind != MigrationEvent.Kind.KIND_PROGRESS) {
                e.setInfo(info);
            }
            out.onNext(e.build());
        }
    }

    private ProcessInfo info(ManagedProcess p) {
        ProcessState st = p.migrated() ? ProcessState.PROCESS_STATE_MIGRATED
                : p.migrating() ? ProcessState.PROCESS_STATE_MIGRATING : ProcessWire.state(p.process.state());
        return ProcessWire.info(p.process, p.memoryBytes, st, p.migrationId());
    }

    static <T> void unary(StreamObserver<T> out, Supplier<T> body) {
        T result;
        try {
            result = body.get();
        } catch (StatusRuntimeException e) {
            LOG.info("refused: {} {}", e.getStatus().getCode(), e.getStatus().getDescription());
            out.onError(e);
            return;
        } catch (IllegalArgumentException | IllegalStateException e) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
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
