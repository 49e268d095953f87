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
                "--max-memory", "--max-migrations", "--shutdown-grace-ms", "--tls-cert", "--tls-key", "--tls-ca",
                "--fault"}) {
            assertThat(help).contains(flag);
        }
        assertThat(help).contains("PAGEHOP_PORT", "PAGEHOP_MAX_MEMORY", "PAGEHOP_FAULTS", "kill-target-after-pages");
    }
}
