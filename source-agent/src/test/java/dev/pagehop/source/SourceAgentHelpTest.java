package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SourceAgentHelpTest {

    @Test
    void helpDocumentsEveryFlagWithItsEnvironmentVariable() {
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new SourceAgent()).setOut(new PrintWriter(out));
        assertThat(cl.execute("--help")).isZero();
        String help = out.toString();
        for (String flag : new String[] {"--listen", "--port", "--metrics-host", "--metrics-port", "--name",
                "--max-process-memory", "--max-threads", "--ack-timeout-ms", "--rpc-timeout-ms", "--shutdown-grace-ms",
                "--tls-cert", "--tls-key", "--tls-ca", "--tls-peer-name", "--plaintext",
                "--allow-plaintext-non-loopback", "--health-port", "--fault"}) {
            assertThat(help).contains(flag);
        }
        for (String env : new String[] {"PAGEHOP_LISTEN", "PAGEHOP_PORT", "PAGEHOP_METRICS_PORT", "PAGEHOP_ACK_TIMEOUT_MS",
                "PAGEHOP_TLS_CERT", "PAGEHOP_TLS_CA", "PAGEHOP_ALLOW_PLAINTEXT_NON_LOOPBACK", "PAGEHOP_HEALTH_PORT",
                "PAGEHOP_FAULTS"}) {
            assertThat(help).contains(env);
        }
    }

    @Test
    void halfGivenTlsFilesAreRefusedAtStartupNamingTheMissingOnes() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new SourceAgent()).setErr(new PrintWriter(err));
        assertThat(cl.execute("--tls-cert", "/nonexistent.pem", "--port", "0", "--metrics-port", "-1")).isEqualTo(2);
        assertThat(err.toString().strip()).isEqualTo("source-agent: mutual TLS needs --tls-cert, --tls-key and --tls-ca; "
                + "missing --tls-key, --tls-ca (or pass --plaintext on loopback)");
    }

    @Test
    void anUnknownFaultPointIsRefusedNamingIt() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new SourceAgent()).setErr(new PrintWriter(err));
        assertThat(cl.execute("--fault", "explode", "--port", "0", "--metrics-port", "-1")).isNotZero();
        assertThat(err.toString()).contains("'explode'");
    }
}
