package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.cli.agent.AgentChannels;
import dev.pagehop.proto.control.v1.AgentRole;
import io.grpc.Grpc;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.testing.TlsTesting;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mutual TLS from the command line to an agent on loopback, with grpc-java's test certificates
 * (server1.pem names *.test.google.fr, hence --tls-peer-name).
 */
class TlsTest {
    @TempDir
    Path dir;
    Server server;
    String address;

    private Path cert(String name) throws Exception {
        Path p = dir.resolve(name);
        try (InputStream in = TlsTesting.loadCert(name)) {
            Files.copy(in, p);
        }
        return p;
    }

    @BeforeEach
    void start() throws Exception {
        ServerCredentials creds = TlsServerCredentials.newBuilder()
                .keyManager(cert("server1.pem").toFile(), cert("server1.key").toFile())
                .trustManager(cert("ca.pem").toFile())
                .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE).build();
        server = Grpc.newServerBuilderForPort(0, creds).addService(new FakeAgent(AgentRole.AGENT_ROLE_SOURCE, "tls-agent"))
                .build().start();
        address = "127.0.0.1:" + server.getPort();
        cert("client.pem");
        cert("client.key");
    }

    @AfterEach
    void stop() throws Exception {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private CliHarness.Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Pagehop.commandLine(new CliContext(AgentChannels.tcp(), new Terminal(false, 100), null));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new CliHarness.Result(cl.execute(args), out.toString(), err.toString());
    }

    /** The agents' flag names: one set of TLS settings serves an agent and the command line. */
    @Test
    void mutualTlsWithTheRightCaAndNameUnderTheAgentsFlagNames() {
        CliHarness.Result r = run("info", "-a", address, "--tls-cert", dir.resolve("client.pem").toString(),
                "--tls-key", dir.resolve("client.key").toString(), "--tls-ca", dir.resolve("ca.pem").toString(),
                "--tls-peer-name", "foo.test.google.fr");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith(address + ": source agent tls-agent");
    }

    @Test
    void theOlderFlagNamesStillWork() {
        CliHarness.Result r = run("info", "-a", address, "--tls-cert", dir.resolve("client.pem").toString(),
                "--tls-key", dir.resolve("client.key").toString(), "--tls-trust", dir.resolve("ca.pem").toString(),
                "--tls-server-name", "foo.test.google.fr");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith(address + ": source agent tls-agent");
    }

    @Test
    void theOlderEnvironmentVariablesCountOnlyWhereNothingNewerIsSet() throws Exception {
        Path ca = dir.resolve("ca.pem");
        java.util.Map<String, String> env = java.util.Map.of(TlsOptions.LEGACY_CA_ENV, ca.toString(),
                TlsOptions.LEGACY_PEER_NAME_ENV, "foo.test.google.fr");
        TlsOptions none = new TlsOptions();
        assertThat(none.settings(k -> null)).as("nothing set: plaintext").isNull();
        assertThat(none.settings(env::get)).isEqualTo(new dev.pagehop.cli.agent.ClientTls(null, null, ca, "foo.test.google.fr"));
        TlsOptions given = new TlsOptions();
        given.ca = dir.resolve("server1.pem");
        given.peerName = "pagehop-agent";
        assertThat(given.settings(env::get)).isEqualTo(
                new dev.pagehop.cli.agent.ClientTls(null, null, given.ca, "pagehop-agent"));
        TlsOptions plain = new TlsOptions();
        plain.plaintext = true;
        assertThat(plain.settings(env::get)).isNull();
    }

    @Test
    void helpNamesTheAgentsFlagsAndTheOlderOnes() {
        CliHarness.Result r = run("info", "--help");
        String help = r.out().replaceAll("\\s+", " ");
        assertThat(help).contains("--tls-ca, --tls-trust=PEM").contains("--tls-peer-name, --tls-server-name=NAME")
                .contains("env PAGEHOP_TLS_CA;").contains("env PAGEHOP_TLS_PEER_NAME;");
    }

    @Test
    void plaintextToATlsAgentIsUnreachableNamingTheAddress() {
        CliHarness.Result r = run("info", "-a", address);
        assertThat(r.exitCode()).isEqualTo(ExitCode.UNREACHABLE.code());
        assertThat(r.err().strip()).isEqualTo("pagehop: cannot reach agent at " + address
                + ": the agent closed the connection (does it require TLS? see --tls-ca)");
    }

    @Test
    void aWrongServerNameFailsTheHandshakeWithTheTlsCause() {
        CliHarness.Result r = run("info", "-a", address, "--tls-cert", dir.resolve("client.pem").toString(),
                "--tls-key", dir.resolve("client.key").toString(), "--tls-ca", dir.resolve("ca.pem").toString(),
                "--tls-peer-name", "pagehop-agent");
        assertThat(r.exitCode()).isEqualTo(ExitCode.UNREACHABLE.code());
        assertThat(r.err()).startsWith("pagehop: TLS handshake with agent at " + address + " failed: its certificate is "
                + "not trusted here: ").contains("pagehop-agent");
        assertThat(r.err().lines()).hasSize(1);
    }

    @Test
    void tlsFlagsAreCheckedBeforeConnecting() {
        CliHarness.Result onlyCert = run("info", "-a", address, "--tls-cert", dir.resolve("client.pem").toString());
        assertThat(onlyCert.exitCode()).isEqualTo(ExitCode.USAGE.code());
        assertThat(onlyCert.err()).contains("--tls-cert and --tls-key go together (got only --tls-cert ");
        CliHarness.Result missing = run("info", "-a", address, "--tls-ca", dir.resolve("nope.pem").toString());
        assertThat(missing.exitCode()).isEqualTo(ExitCode.USAGE.code());
        assertThat(missing.err()).contains("TLS file " + dir.resolve("nope.pem") + " does not exist or cannot be read");
    }
}
