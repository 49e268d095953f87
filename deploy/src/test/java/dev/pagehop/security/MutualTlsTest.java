package dev.pagehop.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Mutual TLS as the agents use it, with certificates from deploy/tls/dev-ca.sh: a server built from
 * {@link TlsOptions} answers a client whose certificate its CA signed, and refuses one with no
 * certificate or with a certificate from another CA; a client refuses a server from another CA.
 */
class MutualTlsTest {
    static final Path DEV_CA = Path.of(System.getProperty("pagehop.deploy.dir", ".")).resolve("tls/dev-ca.sh");

    @TempDir
    static Path dir;
    static Path trusted;
    static Path rogue;
    static Server server;
    static int port;

    @BeforeAll
    static void startServer() throws Exception {
        trusted = dir.resolve("trusted");
        rogue = dir.resolve("rogue");
        devCa(trusted, "target-agent", "source-agent", "cli");
        devCa(rogue, "source-agent");
        TlsOptions serverTls = TlsOptions.of(trusted.resolve("target-agent.crt"), trusted.resolve("target-agent.key"),
                trusted.resolve("ca.crt"), null, false, false);
        serverTls.check("127.0.0.1", 0);
        HealthStatusManager health = new HealthStatusManager();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), serverTls.serverCredentials())
                .addService(health.getHealthService()).build().start();
        port = server.getPort();
    }

    @AfterAll
    static void stopServer() throws InterruptedException {
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    @Test
    void aClientWithACertificateFromTheTrustedCaIsServed() {
        TlsOptions client = TlsOptions.of(trusted.resolve("source-agent.crt"), trusted.resolve("source-agent.key"),
                trusted.resolve("ca.crt"), "pagehop-agent", false, false);
        assertThat(check(client.channelCredentials(), client.peerName().orElseThrow())).isEqualTo(ServingStatus.SERVING);
    }

    @Test
    void aClientWithoutACertificateIsRefusedInTheHandshake() throws IOException {
        ChannelCredentials noCert = TlsChannelCredentials.newBuilder().trustManager(trusted.resolve("ca.crt").toFile()).build();
        assertRefusedByTls(() -> check(noCert, "pagehop-agent"));
    }

    @Test
    void aClientWithACertificateFromAnotherCaIsRefused() {
        TlsOptions stranger = TlsOptions.of(rogue.resolve("source-agent.crt"), rogue.resolve("source-agent.key"),
                trusted.resolve("ca.crt"), "pagehop-agent", false, false);
        assertRefusedByTls(() -> check(stranger.channelCredentials(), "pagehop-agent"));
    }

    @Test
    void aClientRefusesAServerItsCaDidNotSign() {
        TlsOptions client = TlsOptions.of(rogue.resolve("source-agent.crt"), rogue.resolve("source-agent.key"),
                rogue.resolve("ca.crt"), "pagehop-agent", false, false);
        assertRefusedByTls(() -> check(client.channelCredentials(), "pagehop-agent"));
    }

    @Test
    void aClientRefusesAServerWhoseCertificateDoesNotNameThePeer() {
        TlsOptions client = TlsOptions.of(trusted.resolve("source-agent.crt"), trusted.resolve("source-agent.key"),
                trusted.resolve("ca.crt"), "some-other-agent", false, false);
        assertRefusedByTls(() -> check(client.channelCredentials(), client.peerName().orElseThrow()));
    }

    @Test
    void plaintextOnANonLoopbackAddressNeedsTheExplicitOverride() {
        assertThatThrownBy(() -> TlsOptions.of(null, null, null, null, true, false).check("0.0.0.0", 7071))
                .hasMessage("refusing plaintext on non-loopback address 0.0.0.0:7071; pass --allow-plaintext-non-loopback "
                        + "to override");
        TlsOptions.of(null, null, null, null, true, true).check("0.0.0.0", 7071);
        TlsOptions.of(null, null, null, null, true, false).check("127.0.0.1", 7071);
        TlsOptions.of(null, null, null, null, true, false).check("localhost", 7071);
    }

    @Test
    void halfConfiguredTlsIsRefusedNamingWhatIsMissing() {
        assertThatThrownBy(() -> TlsOptions.of(trusted.resolve("cli.crt"), null, null, null, false, false).check("127.0.0.1", 1))
                .hasMessage("mutual TLS needs --tls-cert, --tls-key and --tls-ca; missing --tls-key, --tls-ca "
                        + "(or pass --plaintext on loopback)");
        assertThatThrownBy(() -> TlsOptions.of(trusted.resolve("cli.crt"), null, null, null, true, false).check("127.0.0.1", 1))
                .hasMessage("--plaintext conflicts with --tls-cert: choose TLS or plaintext");
        Path gone = dir.resolve("gone.key");
        assertThatThrownBy(() -> TlsOptions.of(trusted.resolve("cli.crt"), gone, trusted.resolve("ca.crt"), null, false, false)
                .check("127.0.0.1", 1)).hasMessage("--tls-key " + gone + " is not a readable file");
    }

    @Command(name = "probe")
    static final class WithTls {
        @Mixin
        TlsOptions tls;
    }

    @Test
    void theMixinsOptionsEachHaveTheirEnvironmentVariable() {
        CommandLine raw = new CommandLine(new WithTls());
        raw.setInterpolateVariables(false);
        for (var o : raw.getCommandSpec().options()) {
            String expected = "PAGEHOP_" + o.longestName().substring(2).replace('-', '_').toUpperCase(java.util.Locale.ROOT);
            assertThat(o.defaultValue()).as(o.longestName()).startsWith("${env:" + expected);
        }
        WithTls parsed = new WithTls();
        new CommandLine(parsed).parseArgs("--plaintext", "--allow-plaintext-non-loopback");
        assertThat(parsed.tls.plaintext()).isTrue();
        parsed.tls.check("0.0.0.0", 7070);
    }

    private static ServingStatus check(ChannelCredentials credentials, String authority) {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port, credentials).overrideAuthority(authority)
                .build();
        try {
            return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus();
        } finally {
            channel.shutdownNow();
        }
    }

    private static void assertRefusedByTls(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(StatusRuntimeException.class)
                .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode().name()).isEqualTo("UNAVAILABLE"))
                .satisfies(e -> assertThat(causes(e)).as("the cause chain names the TLS failure")
                        .anyMatch(SSLException.class::isInstance));
    }

    private static java.util.List<Throwable> causes(Throwable t) {
        java.util.List<Throwable> out = new java.util.ArrayList<>();
        for (Throwable c = t; c != null && !out.contains(c); c = c.getCause()) {
            out.add(c);
        }
        return out;
    }

    private static void devCa(Path out, String... names) throws IOException, InterruptedException {
        String[] cmd = new String[names.length + 2];
        cmd[0] = DEV_CA.toString();
        cmd[1] = out.toString();
        System.arraycopy(names, 0, cmd, 2, names.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(log).isZero();
        assertThat(Files.readString(out.resolve(names[0] + ".key"))).startsWith("-----BEGIN PRIVATE KEY-----");
    }
}
