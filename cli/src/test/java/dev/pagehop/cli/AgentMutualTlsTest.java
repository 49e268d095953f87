package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.cli.agent.AgentChannels;
import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.source.SourceAgent;
import dev.pagehop.source.SourceAgentServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The command line against a real source agent serving mutual TLS on loopback, as
 * {@code source-agent --tls-cert/--tls-key/--tls-ca} starts it, with certificates from
 * deploy/tls/dev-ca.sh: one CA the agent trusts, and a stranger CA.
 */
@Timeout(60)
class AgentMutualTlsTest {
    static final Path DEV_CA = Path.of("..", "deploy", "tls", "dev-ca.sh");

    @TempDir
    static Path dir;
    static Path trusted;
    static Path stranger;
    static SourceAgentServer agent;
    static String address;

    @BeforeAll
    static void start() throws Exception {
        trusted = dir.resolve("trusted");
        stranger = dir.resolve("stranger");
        devCa(trusted, "source-agent", "cli");
        devCa(stranger, "cli");
        SourceAgent source = new SourceAgent();
        new CommandLine(source).parseArgs("--listen=127.0.0.1", "--port=0", "--metrics-port=-1", "--name=mtls-agent",
                "--tls-cert", trusted.resolve("source-agent.crt").toString(),
                "--tls-key", trusted.resolve("source-agent.key").toString(),
                "--tls-ca", trusted.resolve("ca.crt").toString());
        agent = source.start(new FaultInjector());
        address = "127.0.0.1:" + agent.port();
    }

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.close();
        }
    }

    private static CliHarness.Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Pagehop.commandLine(new CliContext(AgentChannels.tcp(), new Terminal(false, 100), null));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new CliHarness.Result(cl.execute(args), out.toString(), err.toString());
    }

    private static String[] info(Path ca, String... tls) {
        List<String> all = new ArrayList<>(List.of("info", "-a", address, "--tls-ca", trusted.resolve("ca.crt").toString()));
        if (ca != null) {
            all.addAll(List.of("--tls-cert", ca.resolve("cli.crt").toString(), "--tls-key", ca.resolve("cli.key").toString()));
        }
        all.addAll(List.of(tls));
        return all.toArray(String[]::new);
    }

    @Test
    void theRightFilesReachTheAgent() {
        CliHarness.Result r = run(info(trusted));
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith(address + ": source agent mtls-agent");
    }

    @Test
    void aCertificateFromAnotherCaIsRefusedInOneLineNamingTheAgent() {
        CliHarness.Result r = run(info(stranger));
        assertThat(r.exitCode()).isEqualTo(ExitCode.UNREACHABLE.code()).isEqualTo(3);
        assertThat(r.err().strip()).isEqualTo("pagehop: TLS handshake with agent at " + address + " failed: it refused this "
                + "client's certificate (--tls-cert) (alert certificate_unknown; is it signed by the CA agent at " + address
                + " trusts?)");
        // The agent keeps serving the clients it trusts.
        assertThat(run(info(trusted)).exitCode()).isZero();
    }

    @Test
    void noClientCertificateIsRefusedInOneLineNamingTheAgent() {
        CliHarness.Result r = run(info(null));
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err()).startsWith("pagehop: TLS handshake with agent at " + address + " failed: it refused this "
                + "client's certificate (--tls-cert) (alert certificate_required;");
        assertThat(r.err().lines()).hasSize(1);
    }

    @Test
    void anAgentCertificateFromAnUntrustedCaFailsTheHandshakeWithTheTlsCause() {
        CliHarness.Result r = run("info", "-a", address, "--tls-cert", stranger.resolve("cli.crt").toString(),
                "--tls-key", stranger.resolve("cli.key").toString(), "--tls-ca", stranger.resolve("ca.crt").toString());
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err()).startsWith("pagehop: TLS handshake with agent at " + address + " failed: its certificate is "
                + "not trusted here: ");
        assertThat(r.err().lines()).hasSize(1);
    }

    private static void devCa(Path out, String... names) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(DEV_CA.toString(), out.toString()));
        cmd.addAll(List.of(names));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(log).isZero();
    }
}
