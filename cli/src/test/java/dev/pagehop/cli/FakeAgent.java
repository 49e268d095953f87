package dev.pagehop.cli;

import com.google.protobuf.ByteString;
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
import dev.pagehop.proto.control.v1.MappedRange;
import dev.pagehop.proto.control.v1.MigrationEvent;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.ProcessInspection;
import dev.pagehop.proto.control.v1.ProcessState;
import dev.pagehop.proto.control.v1.RecoverMigrationRequest;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.control.v1.WatchMigrationRequest;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * An AgentControl service with scripted migrations, for testing the command line's requests,
 * output and error mapping without the migration engine. It answers like the agents do
 * (agent_control.proto's error contract): NOT_FOUND naming the pid or id, FAILED_PRECONDITION
 * naming the state, INVALID_ARGUMENT naming the field.
 */
final class FakeAgent extends AgentControlGrpc.AgentControlImplBase {
    final AgentRole role;
    final String name;
    final Map<Integer, ProcessInfo> processes = new ConcurrentHashMap<>();
    final Map<Integer, ByteString> digests = new ConcurrentHashMap<>();
    final Map<String, MigrationInfo> migrations = new ConcurrentHashMap<>();
    final Map<String, List<MigrationEvent>> scripts = new ConcurrentHashMap<>();
    final List<Object> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger nextPid = new AtomicInteger(1);
    private final AtomicInteger nextMigration = new AtomicInteger(1);

    /** What StartMigration does: by default, a migration that completes in three rounds. */
    volatile Function<StartMigrationRequest, MigrationInfo> outcome;
    /** When set, StartMigration fails with this status (a refusal passed on from the target). */
    volatile Status startStatus;
    /** When set, InspectProcess reports a failed integrity check. */
    volatile String integrityFailure;

    FakeAgent(AgentRole role, String name) {
        this.role = role;
        this.name = name;
        this.outcome = r -> Migrations.completed("", r.getPid(), r.getTarget());
    }

    ProcessInfo addProcess(String workload, long memoryBytes, ProcessState state) {
        int pid = nextPid.getAndIncrement();
        ProcessInfo p = ProcessInfo.newBuilder().setPid(pid).setWorkload(workload).setMemoryBytes(memoryBytes)
                .setGranule(Granule.GRANULE_4K).setState(state).setThreads(1).setMappedBytes(memoryBytes + 8192)
                .setResidentBytes(memoryBytes / 2).setProgress(12_345).setWriteRateBytesPerSec(16L << 20).build();
        processes.put(pid, p);
        digests.put(pid, ByteString.copyFrom(Migrations.DIGEST));
        return p;
    }

    @Override
    public void getAgentInfo(GetAgentInfoRequest r, StreamObserver<AgentInfo> out) {
        requests.add(r);
        reply(out, AgentInfo.newBuilder().setRole(role).setName(name).setVersion("0.1.0").setProtocolVersion(1)
                .addWorkloads("kv").addWorkloads("zipf").addTrackers(Tracker.TRACKER_UFFD_WP_ASYNC)
                .addTrackers(Tracker.TRACKER_SOFT_DIRTY).addGranules(Granule.GRANULE_4K).addGranules(Granule.GRANULE_16K)
                .build());
    }

    @Override
    public void spawn(SpawnRequest r, StreamObserver<ProcessInfo> out) {
        requests.add(r);
        if (role != AgentRole.AGENT_ROLE_SOURCE) {
            out.onError(Status.FAILED_PRECONDITION.withDescription("a target agent only receives processes").asRuntimeException());
            return;
        }
        if (!r.getWorkload().equals("kv") && !r.getWorkload().equals("zipf")) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("workload '" + r.getWorkload()
                    + "' is unknown (known: kv, zipf)").asRuntimeException());
            return;
        }
        ProcessInfo p = addProcess(r.getWorkload(), r.getMemoryBytes(), ProcessState.PROCESS_STATE_RUNNING).toBuilder()
                .setGranule(r.getGranule()).setThreads(r.getThreads()).build();
        processes.put(p.getPid(), p);
        reply(out, p);
    }

    @Override
    public void listProcesses(ListProcessesRequest r, StreamObserver<ListProcessesResponse> out) {
        requests.add(r);
        reply(out, ListProcessesResponse.newBuilder().addAllProcesses(processes.values()).build());
    }

    @Override
    public void inspectProcess(InspectProcessRequest r, StreamObserver<ProcessInspection> out) {
        requests.add(r);
        ProcessInfo p = processes.get(r.getPid());
        if (p == null) {
            out.onError(notFoundPid(r.getPid()));
            return;
        }
        ProcessInspection.Builder b = ProcessInspection.newBuilder().setProcess(p).setMemoryDigest(digests.get(r.getPid()))
                .addCpuStates(ByteString.copyFrom(new byte[16]))
                .addLayout(MappedRange.newBuilder().setStart(0x400000).setEnd(0x400000 + p.getMemoryBytes()).setProt(3));
        if (r.getCheckIntegrity()) {
            b.setIntegrityChecked(true).setIntegrityOk(integrityFailure == null)
                    .setIntegrityDetail(integrityFailure == null ? "4096 keys, checksums ok" : integrityFailure);
        }
        reply(out, b.build());
    }

    @Override
    public void killProcess(KillProcessRequest r, StreamObserver<ProcessInfo> out) {
        requests.add(r);
        ProcessInfo p = processes.remove(r.getPid());
        if (p == null) {
            out.onError(notFoundPid(r.getPid()));
            return;
        }
        reply(out, p.toBuilder().setState(ProcessState.PROCESS_STATE_STOPPED).setStopReason("killed").build());
    }

    @Override
    public void startMigration(StartMigrationRequest r, StreamObserver<MigrationInfo> out) {
        requests.add(r);
        if (!processes.containsKey(r.getPid())) {
            out.onError(notFoundPid(r.getPid()));
            return;
        }
        if (startStatus != null) {
            out.onError(startStatus.asRuntimeException());
            return;
        }
        String id = "m-" + nextMigration.getAndIncrement();
        MigrationInfo end = outcome.apply(r).toBuilder().setMigrationId(id).setPid(r.getPid()).setTarget(r.getTarget())
                .setMode(r.getMode()).build();
        migrations.put(id, end);
        scripts.put(id, Migrations.script(end));
        reply(out, Migrations.running(end));
    }

    @Override
    public void watchMigration(WatchMigrationRequest r, StreamObserver<MigrationEvent> out) {
        requests.add(r);
        List<MigrationEvent> script = scripts.get(r.getMigrationId());
        if (script == null) {
            out.onError(notFoundMigration(r.getMigrationId()));
            return;
        }
        script.forEach(out::onNext);
        out.onCompleted();
    }

    @Override
    public void getMigration(GetMigrationRequest r, StreamObserver<MigrationInfo> out) {
        requests.add(r);
        MigrationInfo m = migrations.get(r.getMigrationId());
        if (m == null) {
            out.onError(notFoundMigration(r.getMigrationId()));
            return;
        }
        reply(out, m);
    }

    @Override
    public void listMigrations(ListMigrationsRequest r, StreamObserver<ListMigrationsResponse> out) {
        requests.add(r);
        reply(out, ListMigrationsResponse.newBuilder().addAllMigrations(new ArrayList<>(migrations.values())).build());
    }

    @Override
    public void cancelMigration(CancelMigrationRequest r, StreamObserver<MigrationInfo> out) {
        requests.add(r);
        MigrationInfo m = migrations.get(r.getMigrationId());
        if (m == null) {
            out.onError(notFoundMigration(r.getMigrationId()));
            return;
        }
        if (m.getSourcePhase() != SourcePhase.SOURCE_PHASE_ITERATING) {
            out.onError(Status.FAILED_PRECONDITION.withDescription("migration " + m.getMigrationId() + " is "
                    + m.getSourcePhase() + "; it can be cancelled only before switchover").asRuntimeException());
            return;
        }
        MigrationInfo c = m.toBuilder().setSourcePhase(SourcePhase.SOURCE_PHASE_CANCELLED)
                .setFailure("cancelled by the user in round 1").build();
        migrations.put(c.getMigrationId(), c);
        reply(out, c);
    }

    /** False: this agent predates RecoverMigration and answers UNIMPLEMENTED, as the generated base does. */
    volatile boolean servesRecover = true;

    @Override
    public void recoverMigration(RecoverMigrationRequest req, StreamObserver<MigrationInfo> out) {
        if (!servesRecover) {
            super.recoverMigration(req, out);
            return;
        }
        requests.add(req);
        MigrationInfo m = migrations.get(req.getMigrationId());
        if (m == null) {
            out.onError(notFoundMigration(req.getMigrationId()));
        } else if (m.getSourcePhase() != SourcePhase.SOURCE_PHASE_POSTCOPY_PAUSED) {
            out.onError(Status.FAILED_PRECONDITION.withDescription("migration " + m.getMigrationId()
                    + " is " + m.getSourcePhase() + ", not POSTCOPY_PAUSED").asRuntimeException());
        } else {
            MigrationInfo done = m.toBuilder().setSourcePhase(SourcePhase.SOURCE_PHASE_COMPLETED).build();
            migrations.put(done.getMigrationId(), done);
            scripts.put(done.getMigrationId(), Migrations.script(done));
            out.onNext(m.toBuilder().setSourcePhase(SourcePhase.SOURCE_PHASE_POSTCOPY).build());
            out.onCompleted();
        }
    }

    private static RuntimeException notFoundPid(int pid) {
        return Status.NOT_FOUND.withDescription("no process with pid " + pid).asRuntimeException();
    }

    private static RuntimeException notFoundMigration(String id) {
        return Status.NOT_FOUND.withDescription("no migration '" + id + "'").asRuntimeException();
    }

    private static <T> void reply(StreamObserver<T> out, T value) {
        out.onNext(value);
        out.onCompleted();
    }
}
