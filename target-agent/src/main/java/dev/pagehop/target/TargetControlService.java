package dev.pagehop.target;

import com.google.protobuf.ByteString;
import dev.pagehop.migrate.PolicyWire;
import dev.pagehop.migrate.ProcessWire;
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
import dev.pagehop.proto.control.v1.MigrationStats;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.ProcessInspection;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.control.v1.WatchMigrationRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;

/**
 * AgentControl on the target agent: what it received and runs. A target only receives, so
 * Spawn and StartMigration are refused with FAILED_PRECONDITION; WatchMigration answers with
 * the current state and ends.
 */
final class TargetControlService extends AgentControlGrpc.AgentControlImplBase {
    private final TargetState state;
    private final String name;

    TargetControlService(TargetState state, String name) {
        this.state = state;
        this.name = name;
    }

    @Override
    public void getAgentInfo(GetAgentInfoRequest r, StreamObserver<AgentInfo> out) {
        unary(out, () -> {
            AgentInfo.Builder b = AgentInfo.newBuilder().setRole(AgentRole.AGENT_ROLE_TARGET).setName(name)
                    .setVersion(TargetAgent.VERSION).setProtocolVersion(MigrationService.PROTOCOL_VERSION);
            for (Granule g : Granule.values()) {
                b.addGranules(PolicyWire.granule(g));
            }
            return b.build();
        });
    }

    @Override
    public void spawn(SpawnRequest r, StreamObserver<ProcessInfo> out) {
        out.onError(Status.FAILED_PRECONDITION.withDescription("a target agent only receives processes; spawn on a "
                + "source agent").asRuntimeException());
    }

    @Override
    public void startMigration(StartMigrationRequest r, StreamObserver<MigrationInfo> out) {
        out.onError(Status.FAILED_PRECONDITION.withDescription("a target agent does not start migrations; call "
                + "StartMigration on the source agent").asRuntimeException());
    }

    @Override
    public void listProcesses(ListProcessesRequest r, StreamObserver<ListProcessesResponse> out) {
        unary(out, () -> {
            ListProcessesResponse.Builder b = ListProcessesResponse.newBuilder();
            for (TargetState.Received p : state.processes()) {
                b.addProcesses(info(p));
            }
            return b.build();
        });
    }

    @Override
    public void inspectProcess(InspectProcessRequest r, StreamObserver<ProcessInspection> out) {
        unary(out, () -> {
            TargetState.Received p = require(r.getPid());
            return ProcessWire.inspect(p.process(), info(p), r.getCheckIntegrity());
        });
    }

    @Override
    public void killProcess(KillProcessRequest r, StreamObserver<ProcessInfo> out) {
        unary(out, () -> {
            TargetState.Received p = require(r.getPid());
            ProcessInfo i = info(p);
            state.removeProcess(r.getPid());
            p.process().kill();
            if (p.migration() != null) {
                // Still in post-copy, the migration can never complete now; it must not hold a
                // slot of the concurrent-migration limit for ever.
                p.migration().processKilled("process pid " + r.getPid() + " killed on this target");
            }
            p.process().close();
            p.process().mm().close();
            return i;
        });
    }

    @Override
    public void getMigration(GetMigrationRequest r, StreamObserver<MigrationInfo> out) {
        unary(out, () -> info(requireMigration(r.getMigrationId())));
    }

    @Override
    public void listMigrations(ListMigrationsRequest r, StreamObserver<ListMigrationsResponse> out) {
        unary(out, () -> {
            ListMigrationsResponse.Builder b = ListMigrationsResponse.newBuilder();
            for (TargetMigration m : state.migrations()) {
                b.addMigrations(info(m));
            }
            return b.build();
        });
    }

    @Override
    public void recoverMigration(dev.pagehop.proto.control.v1.RecoverMigrationRequest r,
            StreamObserver<MigrationInfo> out) {
        unary(out, () -> {
            TargetMigration m = requireMigration(r.getMigrationId());
            throw Status.FAILED_PRECONDITION.withDescription("migration " + m.id + " (phase " + m.phase()
                    + " here): RecoverMigration is served by the source agent, which reopens the page streams")
                    .asRuntimeException();
        });
    }

    @Override
    public void cancelMigration(CancelMigrationRequest r, StreamObserver<MigrationInfo> out) {
        unary(out, () -> {
            TargetMigration m = requireMigration(r.getMigrationId());
            if (!m.abort("cancelled on the target")) {
                throw Status.FAILED_PRECONDITION.withDescription("migration " + m.id + " already ended in "
                        + m.phase()).asRuntimeException();
            }
            state.countFailure();
            return info(m);
        });
    }

    @Override
    public void watchMigration(WatchMigrationRequest r, StreamObserver<MigrationEvent> out) {
        unary(out, () -> {
            TargetMigration m = requireMigration(r.getMigrationId());
            MigrationInfo i = info(m);
            return MigrationEvent.newBuilder().setKind(MigrationEvent.Kind.KIND_SNAPSHOT)
                    .setTimeMs(System.currentTimeMillis()).setMigrationId(m.id).setTargetPhase(i.getTargetPhase())
                    .setRound((int) Math.max(0, m.lastRound())).setPagesSent(m.pagesApplied()).setInfo(i).build();
        });
    }

    private MigrationInfo info(TargetMigration m) {
        MigrationStats.Builder st = MigrationStats.newBuilder().setRounds((int) (m.lastRound() + 1))
                .setPageSize(m.pageSize).setNormalPages(m.pagesApplied()).setTargetDigest(ByteString.copyFrom(m.digest()));
        dev.pagehop.proto.types.v1.PostcopyStats pc = m.postcopyStats();
        if (pc != null) {
            st.setPostcopy(pc).setPostcopyTimeMs(pc.getDurationNs() / 1_000_000).setPostcopyBytes(pc.getBytesReceived())
                    .setRemainingBytes(pc.getPagesMissing() * m.pageSize);
        }
        return MigrationInfo.newBuilder().setMigrationId(m.id).setPid(m.process() == null ? 0 : m.process().pid())
                .setMode(PolicyWire.mode(m.mode)).setTargetPhase(TargetWire.phase(m.phase())).setFailure(m.failure())
                .setFailureKind(m.failureKind())
                .setStartTimeMs(m.startMillis).setEndTimeMs(m.endMillis()).setPeerPid(m.sourcePid)
                .setTarget(m.sourceAgent)
                .setStats(st)
                .build();
    }

    private ProcessInfo info(TargetState.Received p) {
        return ProcessWire.received(p.process(), ProcessWire.state(p.process().state()), p.migration().id);
    }

    private TargetState.Received require(int pid) {
        TargetState.Received p = state.process(pid);
        if (p == null) {
            throw Status.NOT_FOUND.withDescription("no received process " + pid + " on this target").asRuntimeException();
        }
        return p;
    }

    private TargetMigration requireMigration(String id) {
        TargetMigration m = state.migration(id);
        if (m == null) {
            throw Status.NOT_FOUND.withDescription("no migration '" + id + "' on this target").asRuntimeException();
        }
        return m;
    }

    private static <T> void unary(StreamObserver<T> out, Supplier<T> body) {
        T result;
        try {
            result = body.get();
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (RuntimeException e) {
            out.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
            return;
        }
        out.onNext(result);
        out.onCompleted();
    }
}
