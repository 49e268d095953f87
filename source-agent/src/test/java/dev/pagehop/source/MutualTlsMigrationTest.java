package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.ProcessState;
import dev.pagehop.proto.control.v1.AgentControlGrpc;
import dev.pagehop.proto.control.v1.MigrationEvent;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.control.v1.WatchMigrationRequest;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import dev.pagehop.security.TlsOptions;
import dev.pagehop.target.TargetAgent;
import dev.pagehop.target.TargetAgentServer;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The agents as their command lines start them, over TCP on loopback with mutual TLS, using
 * certificates from deploy/tls/dev-ca.sh: one trusted CA for both agents and the CLI, and a
 * stranger CA whose certificates nobody trusts.
 */
@Timeout(120)
class MutualTlsMigrationTest {
    static final Path DEV_CA = Path.of("..", "deploy", "tls", "dev-ca.sh");

    @TempDir
    static Path dir;
    static Path trusted;
    static Path stranger;

    final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void certificates() throws Exception {
        trusted = dir.resolve("trusted");
        stranger = dir.resolve("stranger");
        devCa(trusted, "source-agent", "target-agent", "cli");
        devCa(stranger, "source-agent", "cli");
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private static String[] tlsArgs(Path ca, String name) {
        return new String[] {"--tls-cert", ca.resolve(name + ".crt").toString(), "--tls-key", ca.resolve(name + ".key").toString(),
                "--tls-ca", ca.resolve("ca.crt").toString()};
    }

    private static String[] args(String[] tls, String... more) {
        List<String> all = new ArrayList<>(List.of("--listen=127.0.0.1", "--port=0", "--metrics-port=-1"));
        all.addAll(List.of(tls));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    private TargetAgentServer target(Path ca) throws IOException {
        TargetAgent agent = new TargetAgent();
        new CommandLine(agent).parseArgs(args(tlsArgs(ca, "target-agent"), "--name=tls-target"));
        TargetAgentServer server = agent.start(new FaultInjector());
        open.add(server);
        return server;
    }

    private SourceAgentServer source(Path ca, String... more) throws IOException {
        return source(tlsArgs(ca, "source-agent"), more);
    }

    private SourceAgentServer source(String[] tls, String... more) throws IOException {
        SourceAgent agent = new SourceAgent();
        List<String> extra = new ArrayList<>(List.of("--name=tls-source"));
        extra.addAll(List.of(more));
        new CommandLine(agent).parseArgs(args(tls, extra.toArray(String[]::new)));
        SourceAgentServer server = agent.start(new FaultInjector());
        open.add(server);
        return server;
    }

    private ManagedChannel dial(int port, ChannelCredentials credentials) {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port, credentials).build();
        open.add(channel::shutdownNow);
        return channel;
    }

    private static ChannelCredentials client(Path ca) {
        TlsOptions cli = TlsOptions.of(ca.resolve("cli.crt"), ca.resolve("cli.key"), ca.resolve("ca.crt"), null, false, false);
        cli.check("127.0.0.1", 1);
        return cli.channelCredentials();
    }

    @Test
    void aSourceMigratesToATargetOverMutualTls() throws Exception {
        TargetAgentServer target = target(trusted);
        SourceAgentServer source = source(trusted);
        var stub = AgentControlGrpc.newBlockingStub(dial(source.port(), client(trusted)));

        ProcessInfo p = stub.spawn(SpawnRequest.newBuilder().setWorkload("kv").setGranule(Granule.GRANULE_4K).setMemoryBytes(64 * 4096).setThreads(2)
                .setSeed(11).build());
        EmulatedProcess src = source.state().requireProcess(p.getPid()).process;
        await().atMost(Duration.ofSeconds(30)).until(() -> src.stats().steps() > 200);
        MigrationInfo started = stub.startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                .setTarget("127.0.0.1:" + target.port()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC).setLeavePausedOnTarget(true).setKeepSource(true).build());
        MigrationInfo end = awaitEnd(stub, started.getMigrationId());

        assertThat(end.getSourcePhase()).as(end.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
        assertThat(end.getStats().getSourceDigest()).isNotEmpty().isEqualTo(end.getStats().getTargetDigest());
        EmulatedProcess dst = target.receivedProcess(end.getPeerPid());
        assertThat(dst).isNotNull();
        InProcessAgents.assertSameMemory(src.mm(), dst.mm());
    }

    @Test
    void aTargetRefusesASourceFromAnotherCaAndTheProcessRunsOnAtTheSource() throws Exception {
        TargetAgentServer target = target(trusted);
        SourceAgentServer source = source(stranger);
        var stub = AgentControlGrpc.newBlockingStub(dial(source.port(), client(stranger)));

        ProcessInfo p = stub.spawn(SpawnRequest.newBuilder().setWorkload("kv").setGranule(Granule.GRANULE_4K).setMemoryBytes(64 * 4096).setThreads(1)
                .setSeed(3).build());
        EmulatedProcess src = source.state().requireProcess(p.getPid()).process;
        MigrationInfo end;
        try {
            MigrationInfo started = stub.startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                    .setTarget("127.0.0.1:" + target.port()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                    .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC).build());
            end = awaitEnd(stub, started.getMigrationId());
        } catch (StatusRuntimeException refusedAtStart) {
            // Refusing before a migration record exists is as good, provided it says why.
            assertThat(refusedAtStart.getStatus().getDescription()).as(refusedAtStart.toString()).isNotBlank();
            end = null;
        }
        if (end != null) {
            assertThat(end.getSourcePhase()).isNotEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
            // The stranger source trusts only its own CA, so it is the one refusing the target's certificate.
            assertThat(end.getFailure()).startsWith("migration " + end.getMigrationId() + ": TLS handshake with target 127.0.0.1:"
                    + target.port() + " failed: its certificate is not trusted here: ");
        }
        assertThat(target.activeMigrations()).isZero();
        assertThat(src.state()).isEqualTo(ProcessState.RUNNING);
        long before = src.stats().steps();
        await().atMost(Duration.ofSeconds(30)).until(() -> src.stats().steps() > before + 100);
    }

    @Test
    void aTargetRefusingTheSourcesCertificateIsReportedAsSuchNamingTheTarget() throws Exception {
        TargetAgentServer target = target(trusted);
        // Trusts the target's CA, but presents a certificate the target's CA never signed.
        SourceAgentServer source = source(new String[] {"--tls-cert", stranger.resolve("source-agent.crt").toString(),
                "--tls-key", stranger.resolve("source-agent.key").toString(), "--tls-ca", trusted.resolve("ca.crt").toString()});
        // The client, in turn, trusts the stranger CA that signed the source's certificate.
        var stub = AgentControlGrpc.newBlockingStub(dial(source.port(), TlsOptions.of(trusted.resolve("cli.crt"),
                trusted.resolve("cli.key"), stranger.resolve("ca.crt"), null, false, false).channelCredentials()));

        ProcessInfo p = stub.spawn(SpawnRequest.newBuilder().setWorkload("kv").setGranule(Granule.GRANULE_4K)
                .setMemoryBytes(64 * 4096).setThreads(1).setSeed(7).build());
        MigrationInfo end = awaitEnd(stub, stub.startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                .setTarget("127.0.0.1:" + target.port()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC).build()).getMigrationId());

        String peer = "target 127.0.0.1:" + target.port();
        assertThat(end.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
        assertThat(end.getFailure()).isEqualTo("migration " + end.getMigrationId() + ": TLS handshake with " + peer
                + " failed: it refused this source agent's certificate (alert certificate_unknown; is it signed by the CA "
                + peer + " trusts?)");
        assertThat(target.activeMigrations()).isZero();
        assertThat(source.state().requireProcess(p.getPid()).process.state()).isEqualTo(ProcessState.RUNNING);
    }

    @Test
    void aSourceRefusesATargetWhoseCertificateDoesNotNameThePeerAndSaysSo() throws Exception {
        TargetAgentServer target = target(trusted);
        SourceAgentServer source = source(trusted, "--tls-peer-name=not-an-agent");
        var stub = AgentControlGrpc.newBlockingStub(dial(source.port(), client(trusted)));

        ProcessInfo p = stub.spawn(SpawnRequest.newBuilder().setWorkload("kv").setGranule(Granule.GRANULE_4K)
                .setMemoryBytes(64 * 4096).setThreads(1).setSeed(5).build());
        MigrationInfo end = awaitEnd(stub, stub.startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                .setTarget("127.0.0.1:" + target.port()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC).build()).getMigrationId());

        assertThat(end.getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_FAILED);
        assertThat(end.getFailure()).startsWith("migration " + end.getMigrationId() + ": TLS handshake with target 127.0.0.1:"
                + target.port() + " failed: its certificate is not trusted here: ").contains("not-an-agent");
        assertThat(target.activeMigrations()).isZero();
        EmulatedProcess src = source.state().requireProcess(p.getPid()).process;
        assertThat(src.state()).isEqualTo(ProcessState.RUNNING);
    }

    @Test
    void clientsWithoutACertificateOrFromAnotherCaAreRefusedAndTheSourceServesOn() throws Exception {
        SourceAgentServer source = source(trusted);
        ChannelCredentials noCertificate = TlsChannelCredentials.newBuilder()
                .trustManager(trusted.resolve("ca.crt").toFile()).build();
        assertRefusedByTls(() -> health(dial(source.port(), noCertificate)));
        assertRefusedByTls(() -> health(dial(source.port(), client(stranger))));
        assertThatThrownBy(() -> health(dial(source.port(), InsecureChannelCredentials.create())))
                .isInstanceOf(StatusRuntimeException.class);

        assertThat(health(dial(source.port(), client(trusted)))).isEqualTo(ServingStatus.SERVING);
    }

    @Test
    void theHealthPortAnswersPlaintextProbesWithTheStatusesOfTheMutualTlsPort() throws Exception {
        SourceAgentServer source = source(trusted);
        io.grpc.Server health = SourceAgent.serveHealth("127.0.0.1", 0, source.healthService());
        open.add(health::shutdownNow);
        ManagedChannel probe = dial(health.getPort(), InsecureChannelCredentials.create());
        assertThat(health(probe)).isEqualTo(ServingStatus.SERVING);
        assertThat(HealthGrpc.newBlockingStub(probe).withDeadlineAfter(20, TimeUnit.SECONDS).check(HealthCheckRequest
                .newBuilder().setService("pagehop.control.v1.AgentControl").build()).getStatus()).isEqualTo(ServingStatus.SERVING);
        // Nothing but health there: the control service is not reachable without TLS.
        assertThatThrownBy(() -> AgentControlGrpc.newBlockingStub(probe).withDeadlineAfter(20, TimeUnit.SECONDS)
                .spawn(SpawnRequest.newBuilder().setWorkload("kv").build()))
                .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("UNIMPLEMENTED");

        source.close();
        assertThat(health(probe)).isEqualTo(ServingStatus.NOT_SERVING);
    }

    @Test
    void plaintextOnANonLoopbackAddressIsRefusedAtStartupWithoutTheOverride() {
        for (CommandLine cl : new CommandLine[] {new CommandLine(new SourceAgent()), new CommandLine(new TargetAgent())}) {
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err, true));
            assertThat(cl.execute("--listen=0.0.0.0", "--port=7999", "--metrics-port=-1")).isEqualTo(2);
            assertThat(err.toString().strip()).isEqualTo(cl.getCommandName() + ": refusing plaintext on non-loopback address "
                    + "0.0.0.0:7999; pass --allow-plaintext-non-loopback to override");
        }
    }

    @Test
    void aPlaintextSourceRefusesToDialANonLoopbackTargetWithoutTheOverride() {
        // Refused before any channel exists: nothing is dialled.
        assertThatThrownBy(() -> SourceAgent.channels(TlsOptions.of(null, null, null, null, true, false)).apply("192.0.2.7:7071"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("refusing plaintext on non-loopback address "
                        + "192.0.2.7:7071; pass --allow-plaintext-non-loopback to override");
        ManagedChannel loopback = SourceAgent.channels(TlsOptions.of(null, null, null, null, true, false)).apply("127.0.0.1:7071");
        loopback.shutdownNow();
        ManagedChannel allowed = SourceAgent.channels(TlsOptions.of(null, null, null, null, true, true)).apply("192.0.2.7:7071");
        allowed.shutdownNow();
    }

    @Test
    void anUnreadableCertificateIsRefusedAtStartupNamingTheFile() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new TargetAgent()).setErr(new PrintWriter(err, true));
        Path gone = dir.resolve("gone.crt");
        assertThat(cl.execute("--port=0", "--metrics-port=-1", "--tls-cert", gone.toString(), "--tls-key",
                trusted.resolve("target-agent.key").toString(), "--tls-ca", trusted.resolve("ca.crt").toString())).isEqualTo(2);
        assertThat(err.toString().strip()).isEqualTo("target-agent: --tls-cert " + gone + " is not a readable file");
    }

    private static ServingStatus health(ManagedChannel channel) {
        return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance()).getStatus();
    }

    private static MigrationInfo awaitEnd(AgentControlGrpc.AgentControlBlockingStub stub, String migrationId) {
        Iterator<MigrationEvent> events = stub.withDeadlineAfter(90, TimeUnit.SECONDS)
                .watchMigration(WatchMigrationRequest.newBuilder().setMigrationId(migrationId).build());
        while (events.hasNext()) {
            MigrationEvent e = events.next();
            if (e.getKind() == MigrationEvent.Kind.KIND_END) {
                return e.getInfo();
            }
        }
        throw new AssertionError("watch of " + migrationId + " ended without an END event");
    }

    private static void assertRefusedByTls(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(StatusRuntimeException.class)
                .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode().name()).isEqualTo("UNAVAILABLE"))
                .satisfies(e -> {
                    List<Throwable> chain = new ArrayList<>();
                    for (Throwable c = e; c != null && !chain.contains(c); c = c.getCause()) {
                        chain.add(c);
                    }
                    assertThat(chain).as("the cause chain names the TLS failure").anyMatch(SSLException.class::isInstance);
                });
    }

    private static void devCa(Path out, String... names) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(DEV_CA.toString(), out.toString()));
        cmd.addAll(List.of(names));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(log).isZero();
    }
}
