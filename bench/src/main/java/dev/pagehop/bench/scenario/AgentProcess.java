package dev.pagehop.bench.scenario;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One agent as a separate OS process, started from the benchmark jar's classpath (which carries
 * both agents' mains). It binds port 0 and prints the port it got; the runner waits for that
 * line. Its standard output and error go to a log file per run.
 */
public final class AgentProcess implements AutoCloseable {
    public static final String SOURCE_MAIN = "dev.pagehop.source.SourceAgent";
    public static final String TARGET_MAIN = "dev.pagehop.target.TargetAgent";

    private static final Pattern LISTENING = Pattern.compile("listening grpc=(\\S+):(\\d+)");
    /** USER_HZ: what /proc/PID/stat counts CPU time in on every Linux architecture we run on. */
    static final long CLOCK_TICKS_PER_SECOND = 100;

    private final String role;
    private final Process process;
    private final int port;

    private AgentProcess(String role, Process process, int port) {
        this.role = role;
        this.process = process;
        this.port = port;
    }

    public static AgentProcess start(String role, String mainClass, List<String> prefix, String bind, String heap,
            String classpath, Path log, long startTimeoutMs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + heap);
        // As the agents run for real (deploy/image/Dockerfile): generational ZGC, whose pauses stay
        // under a millisecond where G1's young and remark pauses took 5-60 ms on a busy host, each
        // one stalling every post-copy fault in flight (BENCHMARKS.md, fault round trip).
        cmd.add("-XX:+UseZGC");
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("--sun-misc-unsafe-memory-access=allow");
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(mainClass);
        cmd.addAll(List.of("--listen", bind, "--port", "0", "--metrics-port", "-1", "--name", role));
        if (!bind.startsWith("127.")) {
            // The capped profiles' agents listen on a veth inside a private network namespace of
            // this host, which the agents cannot tell from a real network: say it is meant.
            cmd.add("--allow-plaintext-non-loopback");
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                    var w = Files.newBufferedWriter(log)) {
                String line;
                while ((line = r.readLine()) != null) {
                    w.write(line);
                    w.newLine();
                    w.flush();
                    Matcher m = LISTENING.matcher(line);
                    if (!port.isDone() && m.find()) {
                        port.complete(Integer.parseInt(m.group(2)));
                    }
                }
            } catch (IOException e) {
                port.completeExceptionally(e);
            }
            port.completeExceptionally(new IOException(role + " agent exited before it was listening (exit "
                    + (p.isAlive() ? "unknown" : p.exitValue()) + "); see " + log));
        }, role + "-agent-output");
        pump.setDaemon(true);
        pump.start();
        try {
            return new AgentProcess(role, p, port.get(startTimeoutMs, TimeUnit.MILLISECONDS));
        } catch (ExecutionException e) {
            p.destroyForcibly();
            throw new IOException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            p.destroyForcibly();
            throw new IOException(role + " agent printed no 'listening' line within " + startTimeoutMs + " ms; see " + log);
        }
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** CPU time (user + system) the agent used so far, in milliseconds, from /proc/PID/stat. */
    public long cpuMillis() {
        return cpuMillis(process.pid());
    }

    static long cpuMillis(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // The command name is in parentheses and may contain spaces: fields count from after it.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime (14), stime (15)
            return ticks * 1000 / CLOCK_TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** SIGKILL, for an agent that hangs a run; waits until it is gone. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM, then SIGKILL after 10 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return role + " agent pid " + process.pid() + " port " + port;
    }
}
