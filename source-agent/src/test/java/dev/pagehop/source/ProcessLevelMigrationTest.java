package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pagehop.proto.control.v1.AgentControlGrpc;
import dev.pagehop.proto.control.v1.GetMigrationRequest;
import dev.pagehop.proto.control.v1.InspectProcessRequest;
import dev.pagehop.proto.control.v1.KillProcessRequest;
import dev.pagehop.proto.control.v1.ListMigrationsRequest;
import dev.pagehop.proto.control.v1.ListProcessesRequest;
import dev.pagehop.proto.control.v1.MigrationEvent;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.ProcessInspection;
import dev.pagehop.proto.control.v1.ProcessState;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.control.v1.WatchMigrationRequest;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.TargetPhase;
import dev.pagehop.proto.types.v1.Tracker;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Both agents as separate OS processes on loopback, driven only through their gRPC and HTTP
 * ports, as the CLI and a Prometheus scraper would.
 */
@Tag("slow")
@Timeout(600)
class ProcessLevelMigrationTest {

    private static ManagedChannel channel(AgentProcess a) {
        return NettyChannelBuilder.forTarget(a.address()).usePlaintext().build();
    }

    private static MigrationInfo awaitEnd(AgentControlGrpc.AgentControlBlockingStub stub, String id) {
        Iterator<MigrationEvent> it = stub.withDeadlineAfter(120, TimeUnit.SECONDS)
                .watchMigration(WatchMigrationRequest.newBuilder().setMigrationId(id).setProgressIntervalMs(100).build());
        while (it.hasNext()) {
            MigrationEvent e = it.next();
            if (e.getKind() == MigrationEvent.Kind.KIND_END) {
                return e.getInfo();
            }
        }
        throw new AssertionError("watch of " + id + " ended without END");
    }

    private static long pageSize(Granule g) {
        return switch (g) {
            case GRANULE_16K -> 16384;
            case GRANULE_64K -> 65536;
            default -> 4096;
        };
    }

    @Test
    void everyWorkloadTrackerAndGranuleMigratesBetweenTwoAgentProcesses() throws Exception {
        try (AgentProcess target = AgentProcess.start("dev.pagehop.target.TargetAgent");
                AgentProcess source = AgentProcess.start("dev.pagehop.source.SourceAgent")) {
            ManagedChannel sc = channel(source);
            ManagedChannel tc = channel(target);
            try {
                AgentControlGrpc.AgentControlBlockingStub src = AgentControlGrpc.newBlockingStub(sc);
                AgentControlGrpc.AgentControlBlockingStub dst = AgentControlGrpc.newBlockingStub(tc);
                List<String> done = new ArrayList<>();
                for (Granule g : new Granule[] {Granule.GRANULE_4K, Granule.GRANULE_16K, Granule.GRANULE_64K}) {
                    // uffd-wp-sync is in the in-process matrix, which checks the workload after
                    // running it on the target: here the check runs on the paused target, and a
                    // thread frozen in a sync WP fault holds the rest of its step until thaw.
                    for (Tracker t : new Tracker[] {Tracker.TRACKER_UFFD_WP_ASYNC, Tracker.TRACKER_SOFT_DIRTY}) {
                        for (String w : new String[] {"kv", "uniform", "zipf", "sequential", "phase", "churn", "idle"}) {
                            migrateAndCompare(src, dst, target, w, t, g);
                            done.add(w + "/" + t + "/" + g);
                        }
                    }
                }
                assertThat(done).hasSize(42);
            } finally {
                sc.shutdownNow();
                tc.shutdownNow();
            }
        }
    }

    private static void migrateAndCompare(AgentControlGrpc.AgentControlBlockingStub src,
            AgentControlGrpc.AgentControlBlockingStub dst, AgentProcess target, String workload, Tracker t, Granule g) {
        String what = workload + "/" + t + "/" + g;
        ProcessInfo p = src.spawn(SpawnRequest.newBuilder().setWorkload(workload).setGranule(g)
                .setMemoryBytes(64 * pageSize(g)).setThreads(2).setSeed(3).setSoftDirty(t == Tracker.TRACKER_SOFT_DIRTY)
                .build());
        await().atMost(Duration.ofSeconds(30)).until(() -> src.listProcesses(ListProcessesRequest.getDefaultInstance())
                .getProcessesList().stream().anyMatch(x -> x.getPid() == p.getPid() && x.getProgress() > 200));
        MigrationInfo started = src.startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                .setTarget(target.address()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY).setTracker(t)
                .setPolicy(MigrationPolicy.newBuilder().setChunkBytes((int) Math.max(65536, 16 * pageSize(g))))
                .setLeavePausedOnTarget(true).setKeepSource(true).build());
        MigrationInfo end = awaitEnd(src, started.getMigrationId());
        assertThat(end.getSourcePhase()).as(what + ": " + end.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
        ProcessInspection before = src.inspectProcess(InspectProcessRequest.newBuilder().setPid(p.getPid()).build());
        assertThat(before.getProcess().getState()).isEqualTo(ProcessState.PROCESS_STATE_MIGRATED);
        ProcessInspection after = dst.inspectProcess(InspectProcessRequest.newBuilder().setPid(end.getPeerPid())
                .setCheckIntegrity(true).build());
        assertThat(after.getMemoryDigest()).as(what + ": memory at freeze vs on the target")
                .isEqualTo(before.getMemoryDigest()).isEqualTo(end.getStats().getSourceDigest());
        assertThat(after.getCpuStatesList()).as(what + ": CPU state").isEqualTo(before.getCpuStatesList());
        assertThat(after.getIntegrityOk()).as(what + ": " + after.getIntegrityDetail()).isTrue();
        dst.killProcess(KillProcessRequest.newBuilder().setPid(end.getPeerPid()).build());
        src.killProcess(KillProcessRequest.newBuilder().setPid(p.getPid()).build());
    }

    @Test
    void theMigratedKeyValueProcessRunsOnOnTheTargetAndTheAgentsAnswerProbesAndScrapes() throws Exception {
        try (AgentProcess target = AgentProcess.start("dev.pagehop.target.TargetAgent");
                AgentProcess source = AgentProcess.start("dev.pagehop.source.SourceAgent")) {
            ManagedChannel sc = channel(source);
            ManagedChannel tc = channel(target);
            try {
                for (ManagedChannel c : List.of(sc, tc)) {
                    assertThat(HealthGrpc.newBlockingStub(c).check(HealthCheckRequest.getDefaultInstance()).getStatus())
                            .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
                }
                assertThat(services(tc)).contains("pagehop.migration.v1.Migration", "pagehop.control.v1.AgentControl",
                        "grpc.health.v1.Health");
                assertThat(services(sc)).contains("pagehop.control.v1.AgentControl");

                AgentControlGrpc.AgentControlBlockingStub src = AgentControlGrpc.newBlockingStub(sc);
                AgentControlGrpc.AgentControlBlockingStub dst = AgentControlGrpc.newBlockingStub(tc);
                ProcessInfo p = src.spawn(SpawnRequest.newBuilder().setWorkload("kv").setGranule(Granule.GRANULE_4K)
                        .setMemoryBytes(8 << 20).setThreads(2).setSeed(5).build());
                MigrationInfo started = src.startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                        .setTarget(target.address()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY).build());
                MigrationInfo end = awaitEnd(src, started.getMigrationId());
                assertThat(end.getSourcePhase()).as(end.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
                assertThat(end.getStats().getDowntimeMs()).isPositive();
                assertThat(end.getStats().getPerRoundList()).isNotEmpty();
                assertThat(src.listProcesses(ListProcessesRequest.getDefaultInstance()).getProcessesList())
                        .noneMatch(x -> x.getPid() == p.getPid());
                ProcessInfo moved = dst.listProcesses(ListProcessesRequest.getDefaultInstance()).getProcesses(0);
                assertThat(moved.getPid()).isEqualTo(end.getPeerPid());
                assertThat(moved.getState()).isEqualTo(ProcessState.PROCESS_STATE_RUNNING);
                long progress = moved.getProgress();
                await().atMost(Duration.ofSeconds(30)).until(() -> dst.listProcesses(ListProcessesRequest
                        .getDefaultInstance()).getProcesses(0).getProgress() > progress + 1000);
                ProcessInspection check = dst.inspectProcess(InspectProcessRequest.newBuilder().setPid(moved.getPid())
                        .setCheckIntegrity(true).build());
                assertThat(check.getIntegrityOk()).as(check.getIntegrityDetail()).isTrue();
                assertThat(dst.listMigrations(ListMigrationsRequest.getDefaultInstance()).getMigrations(0)
                        .getTargetPhase()).isEqualTo(TargetPhase.TARGET_PHASE_RUNNING);

                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + source.metricsPort + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics).contains("pagehop_migration_succeeded_total 1.0", "pagehop_migration_downtime_seconds",
                        "pagehop_migration_postcopy_bytes_total", "pagehop_migration_postcopy_fault_latency_p99_seconds");
                String tm = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + target.metricsPort + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertThat(tm).contains("pagehop_target_migrations_completed_total 1.0",
                        "pagehop_target_postcopy_fault_latency_seconds_bucket{le=\"2.0E-4\"} 0",
                        "pagehop_target_postcopy_pages_total{how=\"on_demand\"} 0.0", "pagehop_target_postcopy_pages_missing 0.0");
            } finally {
                sc.shutdownNow();
                tc.shutdownNow();
            }
        }
    }

    private static List<String> services(ManagedChannel c) throws Exception {
        CompletableFuture<List<String>> out = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> req = ServerReflectionGrpc.newStub(c).serverReflectionInfo(
                new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse r) {
                        out.complete(r.getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName)
                                .toList());
                    }

                    @Override
                    public void onError(Throwable t) {
                        out.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        req.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        req.onCompleted();
        return out.get(10, TimeUnit.SECONDS);
    }

    @Test
    void targetProcessKilledMidRoundAndAConnectionCutMidChunkEachFailCleanly() throws Exception {
        try (AgentProcess source = AgentProcess.start("dev.pagehop.source.SourceAgent", "--ack-timeout-ms", "10000")) {
            ManagedChannel sc = channel(source);
            try {
                AgentControlGrpc.AgentControlBlockingStub src = AgentControlGrpc.newBlockingStub(sc);
                ProcessInfo p = src.spawn(SpawnRequest.newBuilder().setWorkload("kv").setGranule(Granule.GRANULE_4K)
                        .setMemoryBytes(16 << 20).setThreads(2).setSeed(9).build());
                // The kv workload writes flat out; what converges it is auto-converge's throttle,
                // which needs more than the default 3x amplification cap to get there. This test is
                // about the failures, so the cap is out of its way.
                MigrationPolicy small = MigrationPolicy.newBuilder().setChunkBytes(65536).setMaxAmplification(100).build();

                // 1. The target JVM halts (no shutdown hooks) after applying 300 pages of round 0.
                try (AgentProcess dying = AgentProcess.start("dev.pagehop.target.TargetAgent", "--fault",
                        "kill-target-after-pages=300")) {
                    MigrationInfo m = awaitEnd(src, src.startMigration(StartMigrationRequest.newBuilder()
                            .setPid(p.getPid()).setTarget(dying.address()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                            .setPolicy(small).build()).getMigrationId());
                    assertThat(m.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
                    assertThat(m.getFailure()).contains("bulk stream failed", "UNAVAILABLE");
                    assertThat(dying.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
                    assertThat(dying.process.exitValue()).isEqualTo(137);
                }
                assertRunsOn(src, p.getPid());

                // 2. The TCP connection is cut 200 KB into the bulk stream: in the middle of a 64 KiB chunk.
                try (AgentProcess target = AgentProcess.start("dev.pagehop.target.TargetAgent");
                        CuttingProxy proxy = new CuttingProxy(target.port)) {
                    proxy.cutAfter(200_000);
                    MigrationInfo m = awaitEnd(src, src.startMigration(StartMigrationRequest.newBuilder()
                            .setPid(p.getPid()).setTarget("127.0.0.1:" + proxy.port())
                            .setMode(MigrationMode.MIGRATION_MODE_PRECOPY).setPolicy(small).build()).getMigrationId());
                    assertThat(m.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
                    assertThat(m.getFailure()).contains("UNAVAILABLE");
                    assertRunsOn(src, p.getPid());
                    ManagedChannel tc = channel(target);
                    try {
                        AgentControlGrpc.AgentControlBlockingStub dst = AgentControlGrpc.newBlockingStub(tc);
                        await().atMost(Duration.ofSeconds(30)).until(() -> dst.listMigrations(
                                ListMigrationsRequest.getDefaultInstance()).getMigrations(0).getTargetPhase()
                                == TargetPhase.TARGET_PHASE_FAILED);

                        // 3. And then the same process migrates, through the healed path.
                        proxy.heal();
                        MigrationInfo ok = awaitEnd(src, src.startMigration(StartMigrationRequest.newBuilder()
                                .setPid(p.getPid()).setTarget("127.0.0.1:" + proxy.port())
                                .setMode(MigrationMode.MIGRATION_MODE_PRECOPY).setPolicy(small).build()).getMigrationId());
                        assertThat(ok.getSourcePhase()).as(ok.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
                        ProcessInspection check = dst.inspectProcess(InspectProcessRequest.newBuilder()
                                .setPid(ok.getPeerPid()).setCheckIntegrity(true).build());
                        assertThat(check.getIntegrityOk()).as(check.getIntegrityDetail()).isTrue();
                    } finally {
                        tc.shutdownNow();
                    }
                }
            } finally {
                sc.shutdownNow();
            }
        }
    }

    private static void assertRunsOn(AgentControlGrpc.AgentControlBlockingStub src, int pid) {
        ProcessInfo now = src.listProcesses(ListProcessesRequest.getDefaultInstance()).getProcessesList().stream()
                .filter(x -> x.getPid() == pid).findFirst().orElseThrow();
        assertThat(now.getState()).isEqualTo(ProcessState.PROCESS_STATE_RUNNING);
        await().atMost(Duration.ofSeconds(30)).until(() -> src.listProcesses(ListProcessesRequest.getDefaultInstance())
                .getProcessesList().stream().anyMatch(x -> x.getPid() == pid && x.getProgress() > now.getProgress() + 100));
        ProcessInspection i = src.inspectProcess(InspectProcessRequest.newBuilder().setPid(pid).setCheckIntegrity(true)
                .build());
        assertThat(i.getIntegrityOk()).as(i.getIntegrityDetail()).isTrue();
    }

    @Test
    void sigtermOnTheSourceCancelsAMigrationInFlightAndTheTargetDiscardsIt() throws Exception {
        try (AgentProcess target = AgentProcess.start("dev.pagehop.target.TargetAgent")) {
            AgentProcess source = AgentProcess.start("dev.pagehop.source.SourceAgent");
            ManagedChannel sc = channel(source);
            ManagedChannel tc = channel(target);
            try {
                AgentControlGrpc.AgentControlBlockingStub src = AgentControlGrpc.newBlockingStub(sc);
                ProcessInfo p = src.spawn(SpawnRequest.newBuilder().setWorkload("zipf").setGranule(Granule.GRANULE_4K)
                        .setMemoryBytes(8 << 20).setThreads(1).build());
                String id = src.startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                        .setTarget(target.address()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                        .setPolicy(MigrationPolicy.newBuilder().setMaxBandwidthBytesPerSec(1_000_000)).build())
                        .getMigrationId();
                await().atMost(Duration.ofSeconds(30)).until(() -> src.getMigration(GetMigrationRequest.newBuilder()
                        .setMigrationId(id).build()).getStats().getTransferredBytes() > 0);
                // 143 = 128 + SIGTERM: the JVM's status after a signal, once the shutdown hook has run.
                assertThat(source.terminate()).isEqualTo(143);
                AgentControlGrpc.AgentControlBlockingStub dst = AgentControlGrpc.newBlockingStub(tc);
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    TargetPhase ph = dst.getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build())
                            .getTargetPhase();
                    return ph == TargetPhase.TARGET_PHASE_ABORTED || ph == TargetPhase.TARGET_PHASE_FAILED;
                });
                assertThat(dst.listProcesses(ListProcessesRequest.getDefaultInstance()).getProcessesList()).isEmpty();
            } finally {
                sc.shutdownNow();
                tc.shutdownNow();
                source.close();
            }
        }
    }

    private static SourcePhase sourcePhase(AgentControlGrpc.AgentControlBlockingStub src, String id) {
        return src.getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build()).getSourcePhase();
    }

    private static MigrationInfo onTarget(AgentControlGrpc.AgentControlBlockingStub dst, String id) {
        return dst.getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build());
    }

    /**
     * Spawns a 16 MiB key-value process and migrates it post-copy through {@code proxy}: the
     * layout, the commit and the first 4 MiB of pages get through, so the cut lands mid post-copy.
     * Returns the migration id once the source reports the migration paused.
     */
    private static String postcopyCutMidway(AgentControlGrpc.AgentControlBlockingStub src, CuttingProxy proxy,
            long seed) {
        ProcessInfo p = src.spawn(SpawnRequest.newBuilder().setWorkload("kv").setGranule(Granule.GRANULE_4K)
                .setMemoryBytes(16 << 20).setThreads(2).setSeed(seed).build());
        proxy.cutAfter(4 << 20);
        String id = src.startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                .setTarget("127.0.0.1:" + proxy.port()).setMode(MigrationMode.MIGRATION_MODE_POSTCOPY)
                .setPolicy(MigrationPolicy.newBuilder().setChunkBytes(65536)).build()).getMigrationId();
        await().atMost(Duration.ofSeconds(60)).until(() -> sourcePhase(src, id)
                == SourcePhase.SOURCE_PHASE_POSTCOPY_PAUSED);
        return id;
    }

    /**
     * Post-copy across a TCP connection cut by a proxy: both agents report paused while the
     * source's reconnects are refused; once the path heals, the source's own backoff reconnects
     * and the migration completes, with the key-value process intact on the target.
     */
    @Test
    void aNetworkCutDuringPostcopyPausesBothAgentsAndTheHealedPathCompletesIt() throws Exception {
        try (AgentProcess source = AgentProcess.start("dev.pagehop.source.SourceAgent");
                AgentProcess target = AgentProcess.start("dev.pagehop.target.TargetAgent");
                CuttingProxy proxy = new CuttingProxy(target.port)) {
            ManagedChannel sc = channel(source);
            ManagedChannel tc = channel(target);
            try {
                AgentControlGrpc.AgentControlBlockingStub src = AgentControlGrpc.newBlockingStub(sc);
                AgentControlGrpc.AgentControlBlockingStub dst = AgentControlGrpc.newBlockingStub(tc);
                String id = postcopyCutMidway(src, proxy, 12);
                await().atMost(Duration.ofSeconds(60)).until(() -> onTarget(dst, id).getTargetPhase()
                        == TargetPhase.TARGET_PHASE_POSTCOPY_PAUSED);
                assertThat(onTarget(dst, id).getFailure()).contains("pages missing");

                proxy.heal();
                MigrationInfo end = awaitEnd(src, id);
                assertThat(end.getSourcePhase()).as(end.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
                await().atMost(Duration.ofSeconds(30)).until(() -> onTarget(dst, id).getTargetPhase()
                        == TargetPhase.TARGET_PHASE_RUNNING);
                ProcessInspection check = dst.inspectProcess(InspectProcessRequest.newBuilder()
                        .setPid(end.getPeerPid()).setCheckIntegrity(true).build());
                assertThat(check.getIntegrityOk()).as(check.getIntegrityDetail()).isTrue();
            } finally {
                sc.shutdownNow();
                tc.shutdownNow();
            }
        }
    }

    /**
     * The source agent's JVM is killed (SIGKILL) while post-copy is paused: the target waits its
     * --postcopy-source-lost-ms, then reports that the migration cannot complete and keeps the
     * process frozen; it never fills the missing pages with zeros.
     */
    @Test
    void theSourceAgentKilledDuringPostcopyLeavesTheTargetFrozenReportingItCannotComplete() throws Exception {
        try (AgentProcess target = AgentProcess.start("dev.pagehop.target.TargetAgent", "--postcopy-source-lost-ms",
                "1000"); CuttingProxy proxy = new CuttingProxy(target.port)) {
            AgentProcess source = AgentProcess.start("dev.pagehop.source.SourceAgent");
            ManagedChannel sc = channel(source);
            ManagedChannel tc = channel(target);
            try {
                AgentControlGrpc.AgentControlBlockingStub src = AgentControlGrpc.newBlockingStub(sc);
                AgentControlGrpc.AgentControlBlockingStub dst = AgentControlGrpc.newBlockingStub(tc);
                String id = postcopyCutMidway(src, proxy, 13);
                int peer = src.getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build()).getPeerPid();

                source.process.destroyForcibly();
                assertThat(source.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
                proxy.heal();

                await().atMost(Duration.ofSeconds(60)).until(() -> onTarget(dst, id).getTargetPhase()
                        == TargetPhase.TARGET_PHASE_FAILED);
                assertThat(onTarget(dst, id).getFailure()).contains("can never arrive").contains("stays frozen");
                ProcessInfo there = dst.listProcesses(ListProcessesRequest.getDefaultInstance()).getProcessesList()
                        .stream().filter(x -> x.getPid() == peer).findFirst().orElseThrow();
                assertThat(there.getState()).isEqualTo(ProcessState.PROCESS_STATE_FROZEN);
            } finally {
                sc.shutdownNow();
                tc.shutdownNow();
                source.close();
            }
        }
    }
}
