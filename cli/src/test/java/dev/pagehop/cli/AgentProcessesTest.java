package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.cli.agent.AgentChannels;
import dev.pagehop.cli.demo.AgentLauncher;
import dev.pagehop.cli.demo.LaunchedAgent;
import dev.pagehop.cli.demo.ProcessAgentLauncher;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands against a real source agent, started as its own JVM by the demo's launcher on a
 * loopback port, over TCP: what users see with agents they run themselves.
 */
@Tag("slow")
class AgentProcessesTest {
    @TempDir
    Path logs;

    private static CliHarness.Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Pagehop.commandLine(new CliContext(AgentChannels.tcp(), new Terminal(false, 160), null));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new CliHarness.Result(cl.execute(args), out.toString(), err.toString());
    }

    @Test
    void commandsAgainstASourceAgentProcess() throws Exception {
        ProcessAgentLauncher launcher = new ProcessAgentLauncher(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), System.getProperty("java.class.path"), logs);
        LaunchedAgent source = launcher.start(AgentLauncher.Role.SOURCE, "test-source");
        try {
            String a = source.address().toString();
            assertThat(source.address().host()).isEqualTo("127.0.0.1");
            assertThat(run("info", "-a", a).out()).startsWith(a + ": source agent test-source");

            CliHarness.Result spawned = run("spawn", "-a", a, "-w", "kv", "-m", "4MiB", "--write-rate", "1MiB/s");
            assertThat(spawned.exitCode()).as(spawned.err()).isZero();
            Matcher m = Pattern.compile("spawned pid (\\d+) on " + Pattern.quote(a)).matcher(spawned.out());
            assertThat(m.find()).as(spawned.out()).isTrue();
            String pid = m.group(1);

            assertThat(run("ps", "-a", a).out()).contains(pid).contains("running");
            CliHarness.Result inspected = run("inspect", pid, "-a", a, "--check");
            assertThat(inspected.exitCode()).as(inspected.err()).isZero();
            assertThat(inspected.out()).containsPattern("memory digest: [0-9a-f]{64}").contains("integrity: ok");

            // Nothing listens on port 1 of loopback: the source cannot reach the target.
            CliHarness.Result migrated = run("migrate", pid, "-a", a, "-t", "127.0.0.1:1", "--progress", "plain");
            assertThat(migrated.exitCode()).as(migrated.out() + migrated.err()).isEqualTo(ExitCode.UNREACHABLE.code());
            assertThat(migrated.err()).startsWith("pagehop: migration ").contains("127.0.0.1:1");
            assertThat(migrated.err().lines()).hasSize(1);
            // The source process kept running.
            assertThat(run("ps", "-a", a).out()).contains(pid).contains("running");

            assertThat(run("status", "-a", a).out()).contains("failed").contains("127.0.0.1:1");
            assertThat(run("stats", "-a", a).out()).containsPattern("Failed\\s+1");
            assertThat(run("inspect", "999999", "-a", a).exitCode()).isEqualTo(ExitCode.NOT_FOUND.code());
            assertThat(run("kill", pid, "-a", a).out()).startsWith("killed pid " + pid);
        } finally {
            assertThat(source.stop()).isEqualTo("stopped");
        }
        assertThat(Files.readString(logs.resolve("test-source.log"))).contains("listening grpc=127.0.0.1:");
    }

    @Test
    void anAgentThatExitsAtOnceIsReportedWithItsOutput() {
        ProcessAgentLauncher launcher = new ProcessAgentLauncher(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "/nonexistent-classpath", logs);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> launcher.start(AgentLauncher.Role.TARGET, "broken"))
                .hasMessageContaining("target agent broken exited with code 1 before listening")
                .hasMessageContaining("dev.pagehop.target.TargetAgent");
    }
}
