package dev.pagehop.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pagehop.proto.control.v1.AgentControlGrpc;
import dev.pagehop.proto.control.v1.GetMigrationRequest;
import dev.pagehop.proto.control.v1.InspectProcessRequest;
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
import dev.pagehop.proto.types.v1.Tracker;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.fabric8.kubernetes.api.model.Probe;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import dev.pagehop.security.TlsFailures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Network;

/**
 * The two agents in two containers of the image the build produced, on a Docker network, started
 * with the dev overlay's arguments, environment, memory limits and TLS Secrets (certificates
 * from deploy/tls/dev-ca.sh, mounted where the manifests mount them); the test drives them over
 * AgentControl with mutual TLS like the migrate Job's client and migrates by container host name
 * ({@code target:7071}), the source verifying the target's certificate as the manifests say.
 * Memory is compared by digest between the frozen source and the (paused) rebuilt target.
 *
 * <p>Pre-copy, post-copy and hybrid; faults across the network: the target disconnected or
 * killed mid-round, and the link cut during post-copy, then restored.
 */
@Tag("slow")
@Tag("containers")
class ContainerMigrationIT {
    static final String OVERLAY = "overlays/dev";
    /** Lost targets must be noticed within seconds here, not the ConfigMap's 30 s. */
    static final Map<String, String> FAST_FAILURE = Map.of("PAGEHOP_ACK_TIMEOUT_MS", "4000", "PAGEHOP_RPC_TIMEOUT_MS", "10000");
    static final long MIB = 1 << 20;

    /** The manifests' Secrets, from deploy/tls/dev-ca.sh, created once for all tests. */
    @TempDir
    static Path tls;
    static Map<String, Path> secrets;

    @BeforeAll
    static void certificates() {
        secrets = DevCa.secrets(tls);
    }

    Network control;
    Network agents;
    AgentContainer source;
    AgentContainer target;

    @BeforeEach
    void start() {
        control = Network.newNetwork();
        // Internal: nothing but the agents on it, and Docker never makes an internal network the
        // container's gateway, so the ports published on "control" stay where they are.
        agents = Network.builder().createNetworkCmdModifier(cmd -> cmd.withInternal(true)).build();
        source = new AgentContainer(OVERLAY, "source-agent", "source", control, agents, FAST_FAILURE, secrets).start();
        target = newTarget();
    }

    @AfterEach
    void stop() {
        Stream.of(source, target).filter(Objects::nonNull).forEach(AgentContainer::close);
        control.close();
        agents.close();
    }

    private AgentContainer newTarget() {
        return new AgentContainer(OVERLAY, "target-agent", "target", control, agents, Map.of(), secrets).start();
    }

    @Test
    void precopyMigratesAProcessToTheTargetContainerByHostName() {
        ProcessInfo p = spawn("kv", 32 * MIB);
        MigrationInfo started = source.control().startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                .setTarget(target.address()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC).setPolicy(THROTTLED_TO_CONVERGENCE).setKeepSource(true)
                .setLeavePausedOnTarget(true).build());
        MigrationInfo done = awaitEnd(started.getMigrationId());

        assertThat(done.getSourcePhase()).as("failure: %s", done.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
        ProcessInspection onSource = source.control().inspectProcess(InspectProcessRequest.newBuilder().setPid(p.getPid()).build());
        ProcessInspection onTarget = target.control().inspectProcess(
                InspectProcessRequest.newBuilder().setPid(done.getPeerPid()).setCheckIntegrity(true).build());
        // Both copies are frozen (keep_source, leave_paused): the same bytes, page for page.
        assertThat(onTarget.getMemoryDigest()).isEqualTo(onSource.getMemoryDigest());
        assertThat(onTarget.getMemoryDigest()).isEqualTo(done.getStats().getSourceDigest());
        assertThat(onTarget.getCpuStatesList()).isEqualTo(onSource.getCpuStatesList());
        assertThat(onTarget.getIntegrityOk()).as(onTarget.getIntegrityDetail()).isTrue();
        assertThat(done.getStats().getRounds()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void theDashboardQueriesOnlyMetricsTheAgentsExport() throws Exception {
        Set<String> exposed = new TreeSet<>();
        try (HttpClient http = HttpClient.newHttpClient()) {
            for (AgentContainer agent : new AgentContainer[] {source, target}) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(agent.metricsUrl())).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as("%s /metrics", agent.program).isEqualTo(200);
                exposed.addAll(Dashboard.exposed(r.body()));
            }
        }
        assertThat(exposed).containsAll(Dashboard.pagehopMetrics(Dashboard.read()));
    }

    /** Plaintext, as kubelet probes: the health-only port answers, the mutual-TLS port does not. */
    @Test
    void theManifestsProbesGetServingFromThePlaintextHealthPortAndTheGrpcPortRequiresMutualTls() {
        for (AgentContainer agent : new AgentContainer[] {source, target}) {
            var c = agent.manifest.container();
            for (Probe probe : new Probe[] {c.getStartupProbe(), c.getReadinessProbe(), c.getLivenessProbe()}) {
                assertThat(probe.getGrpc().getPort()).isEqualTo(agent.healthPort());
                String service = Objects.requireNonNullElse(probe.getGrpc().getService(), "");
                var status = HealthGrpc.newBlockingStub(agent.health()).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
                assertThat(status).as("%s health of '%s'", agent.program, service).isEqualTo(ServingStatus.SERVING);
            }
            ManagedChannel plaintext = ManagedChannelBuilder.forAddress(agent.container.getHost(),
                    agent.container.getMappedPort(agent.grpcPort())).usePlaintext().build();
            try {
                assertThatThrownBy(() -> HealthGrpc.newBlockingStub(plaintext).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.getDefaultInstance()))
                        .as("%s: plaintext on the gRPC port", agent.program).isInstanceOf(StatusRuntimeException.class)
                        .extracting(e -> ((StatusRuntimeException) e).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            } finally {
                plaintext.shutdownNow();
            }
            // The health port serves health only: nothing of the agent is reachable without a certificate.
            assertThatThrownBy(() -> AgentControlGrpc.newBlockingStub(agent.health()).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .listProcesses(ListProcessesRequest.getDefaultInstance()))
                    .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("UNIMPLEMENTED");
        }
    }

    /** A client whose certificate another CA signed is refused in the handshake, and told so. */
    @Test
    void aClientFromAnotherCaIsRefusedByTheAgentsWithTheTlsReason() throws IOException {
        // The stranger's own certificate and key, but the agents' CA: the agent is trusted, the client is not.
        Path stranger = DevCa.secrets(tls.resolve("stranger")).get("pagehop-client-tls");
        Files.copy(secrets.get("pagehop-client-tls").resolve("ca.crt"), stranger.resolve("ca.crt"),
                StandardCopyOption.REPLACE_EXISTING);
        for (AgentContainer agent : new AgentContainer[] {source, target}) {
            ManagedChannel channel = agent.clientChannel(stranger);
            try {
                assertThatThrownBy(() -> AgentControlGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .listProcesses(ListProcessesRequest.getDefaultInstance()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(TlsFailures.describe(
                                e.getStatus(), agent.alias, "the client's certificate")).as(e.toString())
                                .hasValueSatisfying(m -> assertThat(m).startsWith("TLS handshake with " + agent.alias
                                        + " failed: it refused the client's certificate (alert ")));
            } finally {
                channel.shutdownNow();
            }
        }
        assertThat(source.control().listProcesses(ListProcessesRequest.getDefaultInstance())).as("trusted clients are served")
                .isNotNull();
    }

    @Test
    void targetDisconnectedMidRoundFailsTheMigrationAndTheSourceKeepsRunning() {
        ProcessInfo p = spawn("uniform", 32 * MIB);
        String id = startSlowMigration(p);
        awaitPagesSent(id);

        target.leaveAgents();

        MigrationInfo failed = awaitEnd(id);
        assertThat(failed.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
        assertThat(failed.getFailure()).as("the failure names the migration").contains(id);
        assertSourceProcessStillRuns(p.getPid());

        // The network comes back: the same process migrates, and nothing of the cut attempt lingers.
        target.joinAgents();
        assertMigratesCompletely(p.getPid(), target);
    }

    @Test
    void targetKilledMidRoundFailsTheMigrationAndTheSourceKeepsRunning() {
        ProcessInfo p = spawn("uniform", 32 * MIB);
        String id = startSlowMigration(p);
        awaitPagesSent(id);

        DockerClientFactory.instance().client().killContainerCmd(target.container.getContainerId()).exec();

        MigrationInfo failed = awaitEnd(id);
        assertThat(failed.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
        assertThat(failed.getFailure()).contains(id);
        assertSourceProcessStillRuns(p.getPid());

        // A replacement target under the same name takes the process.
        target.close();
        target = newTarget();
        assertMigratesCompletely(p.getPid(), target);
    }

    @Test
    void aTargetRefusesProcessesAboveItsMemoryLimitAndMigrationsAboveItsConcurrencyLimit() {
        try (AgentContainer small = new AgentContainer(OVERLAY, "target-agent", "small", control, agents,
                Map.of("PAGEHOP_MAX_MEMORY", String.valueOf(16 * MIB), "PAGEHOP_MAX_MIGRATIONS", "1"), secrets).start()) {
            ProcessInfo big = spawn("kv", 32 * MIB);
            MigrationInfo refused = awaitEnd(source.control().startMigration(StartMigrationRequest.newBuilder()
                    .setPid(big.getPid()).setTarget(small.address()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                    .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC).build()).getMigrationId());
            assertThat(refused.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
            assertThat(refused.getFailure()).as("the refusal carries the limit").contains(String.valueOf(16 * MIB));
            assertSourceProcessStillRuns(big.getPid());

            // One migration in flight to a target that takes one at a time: a second is refused.
            ProcessInfo first = spawn("uniform", 8 * MIB);
            ProcessInfo second = spawn("uniform", 8 * MIB);
            String running = source.control().startMigration(StartMigrationRequest.newBuilder().setPid(first.getPid())
                    .setTarget(small.address()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                    .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC)
                    .setPolicy(MigrationPolicy.newBuilder().setMaxBandwidthBytesPerSec(MIB / 4).setChunkBytes(64 * 1024)
                            .setMaxChunksInFlight(2))
                    .build()).getMigrationId();
            awaitPagesSent(running);
            MigrationInfo tooMany = awaitEnd(source.control().startMigration(StartMigrationRequest.newBuilder()
                    .setPid(second.getPid()).setTarget(small.address()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                    .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC).build()).getMigrationId());
            assertThat(tooMany.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
            assertThat(tooMany.getFailure()).as("the refusal names the limit").contains("limit");
            assertSourceProcessStillRuns(second.getPid());
            assertThat(source.control().getMigration(GetMigrationRequest.newBuilder().setMigrationId(running).build())
                    .getSourcePhase()).as("the migration already running goes on").isEqualTo(SourcePhase.SOURCE_PHASE_ITERATING);
        }
    }

    /**
     * Post-copy and hybrid between the containers, each left paused on the target with the frozen
     * source copy kept: after the lazy pager brought every page in, the two copies are equal.
     */
    @Test
    void postcopyAndHybridMigrateByHostNameAndTheTargetsMemoryEqualsTheSources() {
        for (MigrationMode mode : new MigrationMode[] {MigrationMode.MIGRATION_MODE_POSTCOPY,
                MigrationMode.MIGRATION_MODE_HYBRID}) {
            ProcessInfo p = spawn("kv", 32 * MIB);
            MigrationInfo done = awaitEnd(source.control().startMigration(postcopy(p, mode)).getMigrationId());

            assertThat(done.getSourcePhase()).as("%s failure: %s", mode, done.getFailure())
                    .isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
            assertThat(done.getStats().getPostcopyBytes()).as("%s: pages served after the switchover", mode).isPositive();
            if (mode == MigrationMode.MIGRATION_MODE_HYBRID) {
                assertThat(done.getStats().getPrecopyBytes()).as("hybrid: a pre-copy round first").isPositive();
            }
            assertSameMemory(p.getPid(), done);
        }
    }

    /**
     * The link to the target goes silent while the lazy pager is pulling (the source's fault point
     * holds the page stream once it has served a first request, so the cut always falls inside
     * post-copy, with pages installed before it and after it): the source
     * notices by keepalive and reports POSTCOPY_PAUSED, the frozen copy stays; once the target
     * is back on the network the source reopens the stream, the pager asks again for what it
     * lacks, and the migration completes with the same memory on both sides.
     */
    @Test
    void aNetworkCutDuringPostcopyPausesItAndAfterReconnectingNothingIsLost() {
        source.close();
        Map<String, String> env = new java.util.HashMap<>(FAST_FAILURE);
        env.put("PAGEHOP_FAULTS", "hold-postcopy-after-pages=1");
        source = new AgentContainer(OVERLAY, "source-agent", "source", control, agents, env, secrets).start();
        ProcessInfo p = spawn("kv", 32 * MIB);
        String id = source.control().startMigration(postcopy(p, MigrationMode.MIGRATION_MODE_POSTCOPY)).getMigrationId();
        // Pages have come in on demand of the pager; from the next request on the stream is held.
        awaitPhase(id, SourcePhase.SOURCE_PHASE_POSTCOPY);
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(() -> source.control().getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build()),
                        m -> m.getStats().getPostcopyBytes() > 0);

        target.leaveAgents();
        awaitPhase(id, SourcePhase.SOURCE_PHASE_POSTCOPY_PAUSED);
        assertThat(process(p.getPid()).getState()).as("the source holds its copy while paused")
                .isEqualTo(ProcessState.PROCESS_STATE_MIGRATING);

        target.joinAgents();
        MigrationInfo done = awaitEnd(id);
        assertThat(done.getSourcePhase()).as("failure: %s", done.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
        assertSameMemory(p.getPid(), done);
    }

    private StartMigrationRequest postcopy(ProcessInfo p, MigrationMode mode) {
        // Hybrid: one pre-copy round, then post-copy; the tight downtime keeps it from switching over plainly.
        return StartMigrationRequest.newBuilder().setPid(p.getPid()).setTarget(target.address()).setMode(mode)
                .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC).setKeepSource(true).setLeavePausedOnTarget(true)
                .setPolicy(MigrationPolicy.newBuilder().setChunkBytes(64 * 1024).setPostcopyAfterRounds(1)
                        .setDowntimeLimitMs(1).setStopPages(1))
                .build();
    }

    /** Both copies frozen (keep_source, leave_paused): the same bytes page for page, and a sound workload. */
    private void assertSameMemory(int pid, MigrationInfo done) {
        ProcessInspection onSource = source.control().inspectProcess(InspectProcessRequest.newBuilder().setPid(pid).build());
        ProcessInspection onTarget = target.control().inspectProcess(
                InspectProcessRequest.newBuilder().setPid(done.getPeerPid()).setCheckIntegrity(true).build());
        assertThat(onTarget.getMemoryDigest()).isEqualTo(onSource.getMemoryDigest());
        assertThat(onTarget.getCpuStatesList()).isEqualTo(onSource.getCpuStatesList());
        assertThat(onTarget.getIntegrityOk()).as(onTarget.getIntegrityDetail()).isTrue();
    }

    private MigrationInfo awaitPhase(String id, SourcePhase phase) {
        return await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(() -> source.control().getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build()),
                        m -> {
                            assertThat(m.getSourcePhase()).as("migration %s ended waiting for %s: %s", id, phase,
                                    m.getFailure()).isNotIn(SourcePhase.SOURCE_PHASE_COMPLETED,
                                    SourcePhase.SOURCE_PHASE_FAILED, SourcePhase.SOURCE_PHASE_CANCELLED);
                            return m.getSourcePhase() == phase;
                        });
    }

    /**
     * The workloads here write flat out; auto-converge's throttle converges them, but it needs
     * more rounds than the default 3x amplification cap allows (the cap wins over the throttle).
     * These tests are about containers, not convergence, so the cap is out of their way.
     */
    private static final MigrationPolicy THROTTLED_TO_CONVERGENCE = MigrationPolicy.newBuilder().setMaxAmplification(100)
            .build();

    private ProcessInfo spawn(String workload, long bytes) {
        return source.control().spawn(SpawnRequest.newBuilder().setWorkload(workload).setMemoryBytes(bytes)
                .setGranule(Granule.GRANULE_4K).setSeed(42).setThreads(2).build());
    }

    /** A migration capped at 1 MiB/s, so round 0 of a 32 MiB process lasts long enough to cut. */
    private String startSlowMigration(ProcessInfo p) {
        return source.control().startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                .setTarget(target.address()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC)
                .setPolicy(MigrationPolicy.newBuilder().setMaxBandwidthBytesPerSec(MIB).setChunkBytes(64 * 1024)
                        .setMaxChunksInFlight(2))
                .build()).getMigrationId();
    }

    /** Waits on the watch stream until page data has gone out: the migration is mid-round. */
    private void awaitPagesSent(String id) {
        Iterator<MigrationEvent> events = AgentControlGrpc.newBlockingStub(source.channel())
                .withDeadlineAfter(60, TimeUnit.SECONDS)
                .watchMigration(WatchMigrationRequest.newBuilder().setMigrationId(id).setProgressIntervalMs(100).build());
        while (events.hasNext()) {
            MigrationEvent e = events.next();
            assertThat(e.getKind()).as("migration %s ended before any page was sent: %s", id, e)
                    .isNotEqualTo(MigrationEvent.Kind.KIND_END);
            if (e.getPagesSent() > 0 && e.getSourcePhase() == SourcePhase.SOURCE_PHASE_ITERATING) {
                return;
            }
        }
        throw new AssertionError("watch of " + id + " ended without progress");
    }

    private MigrationInfo awaitEnd(String id) {
        return await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> source.control().getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build()),
                        m -> switch (m.getSourcePhase()) {
                            case SOURCE_PHASE_COMPLETED, SOURCE_PHASE_FAILED, SOURCE_PHASE_CANCELLED -> true;
                            default -> false;
                        });
    }

    /** RUNNING, and its progress counter still moves: the workload was never stopped. */
    private void assertSourceProcessStillRuns(int pid) {
        ProcessInfo before = process(pid);
        assertThat(before.getState()).isEqualTo(ProcessState.PROCESS_STATE_RUNNING);
        await().atMost(Duration.ofSeconds(30)).until(() -> process(pid).getProgress() > before.getProgress());
    }

    private ProcessInfo process(int pid) {
        return source.control().listProcesses(ListProcessesRequest.getDefaultInstance()).getProcessesList().stream()
                .filter(x -> x.getPid() == pid).findFirst().orElseThrow(() -> new AssertionError("pid " + pid + " is gone"));
    }

    private void assertMigratesCompletely(int pid, AgentContainer to) {
        MigrationInfo again = source.control().startMigration(StartMigrationRequest.newBuilder().setPid(pid)
                .setTarget(to.address()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC).setPolicy(THROTTLED_TO_CONVERGENCE).setKeepSource(true)
                .setLeavePausedOnTarget(true).build());
        MigrationInfo done = awaitEnd(again.getMigrationId());
        assertThat(done.getSourcePhase()).as("failure: %s", done.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
        ProcessInspection onSource = source.control().inspectProcess(InspectProcessRequest.newBuilder().setPid(pid).build());
        ProcessInspection onTarget = to.control().inspectProcess(
                InspectProcessRequest.newBuilder().setPid(done.getPeerPid()).build());
        assertThat(onTarget.getMemoryDigest()).isEqualTo(onSource.getMemoryDigest());
    }
}
