package dev.pagehop.cli.demo;

import dev.pagehop.cli.agent.AgentAddress;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Starts each agent as its own JVM on a loopback port the kernel picks ({@code --port 0}),
 * from the same jar or classpath the CLI runs from, so the demo needs nothing installed. The
 * agent's output goes to a log file; its "listening grpc=HOST:PORT" line tells the port.
 */
public final class ProcessAgentLauncher implements AgentLauncher {
    private static final Pattern READY = Pattern.compile("listening grpc=(\\S+):(\\d+)");
    /** A JVM with gRPC and Netty takes 1–3 s to start on a loaded 2-core machine; allow far more. */
    private static final long START_TIMEOUT_MS = 60_000;
    /** The agents' own shutdown grace is 10 s by default; give them that plus JVM exit. */
    private static final long STOP_TIMEOUT_MS = 15_000;

    private final String javaBin;
    private final String classpath;
    private Path logDir;

    public ProcessAgentLauncher(String javaBin, String classpath, Path logDir) {
        this.javaBin = javaBin;
        this.classpath = classpath;
        this.logDir = logDir;
    }

    /** The agents run on the same JVM binary and classpath as this CLI (the shaded jar holds both mains). */
    public static ProcessAgentLauncher fromRunningJvm() {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        return new ProcessAgentLauncher(java, System.getProperty("java.class.path"), null);
    }

    @Override
    public LaunchedAgent start(Role role, String name) throws IOException {
        Path log = logDir().resolve(name + ".log");
        List<String> cmd = List.of(javaBin,
                // protobuf and Netty still use sun.misc.Unsafe and restricted methods; JDK 25 warns otherwise.
                "--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED",
                // Sub-millisecond GC pauses, as in the agents' image: a pause stalls every
                // post-copy fault in flight (BENCHMARKS.md, fault round trip).
                "-XX:+UseZGC",
                "-Dlogback.configurationFile=logback-agent.xml",
                "-cp", classpath, role.mainClass(),
                "--listen", "127.0.0.1", "--port", "0", "--metrics-port", "0", "--name", name);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        CompletableFuture<AgentAddress> ready = new CompletableFuture<>();
        Deque<String> tail = new ArrayDeque<>();
        Thread pump = Thread.ofPlatform().daemon().name(name + "-output").start(() -> pump(p, log, ready, tail));
        try {
            AgentAddress address = ready.get(START_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            // Ctrl-C ends this JVM without running the demo's finally blocks; the agents must not outlive it.
            Thread reaper = new Thread(() -> stop(p), name + "-reaper");
            Runtime.getRuntime().addShutdownHook(reaper);
            return new Running(p, address, log, pump, reaper);
        } catch (ExecutionException e) {
            stop(p);
            throw new IOException(role.label() + " " + name + " " + e.getCause().getMessage() + "; last output: "
                    + lastLines(tail) + " (log " + log + ")");
        } catch (TimeoutException e) {
            stop(p);
            throw new IOException(role.label() + " " + name + " did not report listening within " + START_TIMEOUT_MS
                    + " ms; last output: " + lastLines(tail) + " (log " + log + ")");
        } catch (InterruptedException e) {
            stop(p);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + role.label() + " " + name);
        }
    }

    /** One directory per launcher, so a demo's two agents log side by side. */
    private synchronized Path logDir() throws IOException {
        if (logDir == null) {
            logDir = Files.createTempDirectory("pagehop-demo-");
        }
        return Files.createDirectories(logDir);
    }

    private static void pump(Process p, Path log, CompletableFuture<AgentAddress> ready, Deque<String> tail) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             BufferedWriter out = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.write(line);
                out.newLine();
                out.flush();
                synchronized (tail) {
                    tail.addLast(line);
                    if (tail.size() > 5) {
                        tail.removeFirst();
                    }
                }
                Matcher m = READY.matcher(line);
                if (!ready.isDone() && m.find()) {
                    ready.complete(new AgentAddress(m.group(1), Integer.parseInt(m.group(2))));
                }
            }
        } catch (IOException e) {
            ready.completeExceptionally(new UncheckedIOException("output could not be read: " + e.getMessage(), e));
        }
        if (!ready.isDone()) {
            ready.completeExceptionally(new IllegalStateException("exited with code " + exitCode(p)
                    + " before listening"));
        }
    }

    private static int exitCode(Process p) {
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static String lastLines(Deque<String> tail) {
        synchronized (tail) {
            return tail.isEmpty() ? "(none)" : String.join(" | ", tail);
        }
    }

    /** SIGTERM first: the agents' shutdown hooks cancel migrations cleanly. SIGKILL if that hangs. */
    private static String stop(Process p) {
        p.destroy();
        try {
            if (p.waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                // 143 = 128 + SIGTERM: the JVM ran its shutdown hooks and ended as asked.
                return p.exitValue() == 143 ? "stopped" : "exited " + p.exitValue();
            }
            p.destroyForcibly();
            p.waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            return "killed after not stopping within " + STOP_TIMEOUT_MS + " ms";
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return "killed (interrupted)";
        }
    }

    private record Running(Process process, AgentAddress address, Path log, Thread pump, Thread reaper)
            implements LaunchedAgent {
        @Override
        public String where() {
            return "pid " + process.pid() + ", log " + log;
        }

        @Override
        public String stop() {
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException e) {
                // Shutting down already: the reaper stops the process.
            }
            String how = ProcessAgentLauncher.stop(process);
            try {
                pump.join(STOP_TIMEOUT_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return how;
        }
    }
}
