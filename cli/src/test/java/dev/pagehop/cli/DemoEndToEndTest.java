package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.cli.agent.AgentChannels;
import dev.pagehop.cli.demo.ProcessAgentLauncher;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's demo as users run it: both agents as separate JVMs on loopback ports, a real
 * migration over TCP, the digest compared on the target, both agents stopped.
 */
@Tag("slow")
class DemoEndToEndTest {
    @TempDir
    Path logs;

    @Test
    void theDemoMigratesAndVerifies() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var launcher = new ProcessAgentLauncher(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                System.getProperty("java.class.path"), logs);
        var cl = Pagehop.commandLine(new CliContext(AgentChannels.tcp(), new Terminal(false, 160), launcher));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));

        int code = cl.execute("demo", "--memory", "16MiB");

        String o = out.toString();
        assertThat(code).as(o + err).isZero();
        assertThat(o).containsPattern("starting target agent \\.\\.\\. ready on 127\\.0\\.0\\.1:\\d+ \\(target 'demo-target'")
                .containsPattern("starting source agent \\.\\.\\. ready on 127\\.0\\.0\\.1:\\d+ \\(source 'demo-source'")
                .contains("spawned pid").contains("watching migration").contains("(final) done")
                .containsPattern("Memory digest\\s+match")
                .containsPattern("verify: target pid \\d+ memory digest [0-9a-f]{16}, source pid \\d+ at freeze [0-9a-f]{16} → identical")
                .contains("verify: kv self-check on the target: ok")
                .contains("pagehop demo: OK")
                .containsPattern("stopping agents: 127\\.0\\.0\\.1:\\d+ stopped, 127\\.0\\.0\\.1:\\d+ stopped");
        assertThat(Files.readString(logs.resolve("demo-source.log"))).contains("listening grpc=127.0.0.1:");
        assertThat(Files.readString(logs.resolve("demo-target.log"))).contains("listening grpc=127.0.0.1:");
    }
}
