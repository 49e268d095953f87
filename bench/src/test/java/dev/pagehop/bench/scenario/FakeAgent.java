package dev.pagehop.bench.scenario;

import dev.pagehop.proto.control.v1.AgentControlGrpc;
import dev.pagehop.proto.control.v1.GetMigrationRequest;
import dev.pagehop.proto.control.v1.KillProcessRequest;
import dev.pagehop.proto.control.v1.ListMigrationsRequest;
import dev.pagehop.proto.control.v1.ListMigrationsResponse;
import dev.pagehop.proto.control.v1.ListProcessesRequest;
import dev.pagehop.proto.control.v1.ListProcessesResponse;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationStats;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.types.v1.SourcePhase;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stand-in agents for the runner's own tests, started as separate processes exactly like the real
 * ones (they print the same "listening" line). Each nested class is one behaviour of a migration.
 */
abstract class FakeAgent extends AgentControlGrpc.AgentControlImplBase {
    private final Map<Integer, ProcessInfo> processes = new ConcurrentHashMap<>();
    private final AtomicInteger pids = new AtomicInteger(100);

    /** The migration completes at once. */
    static final class Completing extends FakeAgent {
        public static void main(String[] args) throws Exception {
            serve(new Completing());
        }

        @Override
        MigrationInfo migration(String id) {
            return MigrationInfo.newBuilder().setMigrationId(id).setSourcePhase(SourcePhase.SOURCE_PHASE_COMPLETED)
                    .setStats(MigrationStats.newBuilder().setRounds(1).setTotalTimeMs(5)).build();
        }
    }

    /** The migration stays in post-copy with nothing moving, like a lazy pager that stalled. */
    static final class Stalling extends FakeAgent {
        public static void main(String[] args) throws Exception {
            serve(new Stalling());
        }

        @Override
        MigrationInfo migration(String id) {
            return MigrationInfo.newBuilder().setMigrationId(id).setSourcePhase(SourcePhase.SOURCE_PHASE_POSTCOPY)
                    .setStats(MigrationStats.newBuilder().setRounds(1).setTransferredBytes(4096)).build();
        }
    }

    /** StartMigration never answers: only the runner's own limit ends the run. */
    static final class Silent extends FakeAgent {
        public static void main(String[] args) throws Exception {
            serve(new Silent());
        }

        @Override
        public void startMigration(StartMigrationRequest r, StreamObserver<MigrationInfo> out) {
            // Never completes the call.
        }

        @Override
        MigrationInfo migration(String id) {
            throw new AssertionError("no migration was started");
        }
    }

    abstract MigrationInfo migration(String id);

    @Override
    public void spawn(SpawnRequest r, StreamObserver<ProcessInfo> out) {
        int pid = pids.incrementAndGet();
        ProcessInfo p = ProcessInfo.newBuilder().setPid(pid).setProgress(pid).build();
        processes.put(pid, p);
        out.onNext(p);
        out.onCompleted();
    }

    @Override
    public void listProcesses(ListProcessesRequest r, StreamObserver<ListProcessesResponse> out) {
        out.onNext(ListProcessesResponse.newBuilder().addAllProcesses(processes.values()).build());
        out.onCompleted();
    }

    @Override
    public void killProcess(KillProcessRequest r, StreamObserver<ProcessInfo> out) {
        ProcessInfo p = processes.remove(r.getPid());
        out.onNext(p == null ? ProcessInfo.getDefaultInstance() : p);
        out.onCompleted();
    }

    @Override
    public void listMigrations(ListMigrationsRequest r, StreamObserver<ListMigrationsResponse> out) {
        out.onNext(ListMigrationsResponse.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public void startMigration(StartMigrationRequest r, StreamObserver<MigrationInfo> out) {
        out.onNext(MigrationInfo.newBuilder().setMigrationId("m-" + r.getPid())
                .setSourcePhase(SourcePhase.SOURCE_PHASE_PREPARING).build());
        out.onCompleted();
    }

    @Override
    public void getMigration(GetMigrationRequest r, StreamObserver<MigrationInfo> out) {
        out.onNext(migration(r.getMigrationId()));
        out.onCompleted();
    }

    static void serve(FakeAgent agent) throws Exception {
        Server s = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(agent).build().start();
        System.out.println("fake-agent listening grpc=127.0.0.1:" + s.getPort());
        System.out.flush();
        s.awaitTermination();
    }
}
