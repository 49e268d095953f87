package dev.pagehop.target;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class TargetAgentHelpTest {

    @Test
    void helpDocumentsEveryFlagWithItsEnvironmentVariable() {
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new TargetAgent()).setOut(new PrintWriter(out));
        assertThat(cl.execute("--help")).isZero();
        String help = out.toString();
        for (String flag : new String[] {"--listen", "--port", "--metrics-host", "--metrics-port", "--name",
                "--max-memory", "--max-migrations", "--max-total-memory", "--shutdown-grace-ms", "--tls-cert", "--tls-key", "--tls-ca",
                "--tls-peer-name", "--plaintext", "--allow-plaintext-non-loopback", "--health-port", "--fault",
                "--postcopy-source-lost-ms", "--postcopy-request-timeout-ms"}) {
            assertThat(help).contains(flag);
        }
        assertThat(help).contains("PAGEHOP_PORT", "PAGEHOP_MAX_MEMORY", "PAGEHOP_MAX_TOTAL_MEMORY", "PAGEHOP_FAULTS", "kill-target-after-pages",
                "PAGEHOP_TLS_CA", "PAGEHOP_ALLOW_PLAINTEXT_NON_LOOPBACK", "PAGEHOP_HEALTH_PORT",
                "PAGEHOP_POSTCOPY_SOURCE_LOST_MS");
    }

    @Test
    void plaintextOnANonLoopbackAddressIsRefusedAtStartupNamingTheOverride() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new TargetAgent()).setErr(new PrintWriter(err, true));
        assertThat(cl.execute("--listen", "0.0.0.0", "--port", "7071", "--metrics-port", "-1")).isEqualTo(2);
        assertThat(err.toString().strip()).isEqualTo("target-agent: refusing plaintext on non-loopback address "
                + "0.0.0.0:7071; pass --allow-plaintext-non-loopback to override");
    }

    @Test
    void aNegativeMemoryBudgetIsRefusedAtStartup() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new TargetAgent()).setErr(new PrintWriter(err, true));
        assertThat(cl.execute("--port", "0", "--metrics-port", "-1", "--max-total-memory", "-5")).isEqualTo(2);
        assertThat(err.toString().strip()).isEqualTo("target-agent: --max-total-memory -5 must be >= 0 "
                + "(0 = --max-memory x --max-migrations)");
    }
}
