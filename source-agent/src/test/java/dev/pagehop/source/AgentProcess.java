package dev.pagehop.source;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An agent started as its own JVM on loopback with ports picked by the OS; the ports are read
 * from the line the agent prints once it serves. Output is kept for failure messages.
 */
final class AgentProcess implements AutoCloseable {
    private static final Pattern READY = Pattern.compile("listening grpc=([^:]+):(\\d+) metrics=(-?\\d+)");

    final Process process;
    final int port;
    final int metricsPort;
    private final List<String> output = new ArrayList<>();

    private AgentProcess(Process process, int port, int metricsPort) {
        this.process = process;
        this.port = port;
        this.metricsPort = metricsPort;
    }

    static AgentProcess start(String mainClass, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx768m", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"), mainClass,
                "--port", "0", "--metrics-port", "0"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        CompletableFuture<Matcher> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(line);
                    }
                    Matcher m = READY.matcher(line);
                    if (m.find()) {
                        ready.complete(m);
                    }
                }
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
            ready.completeExceptionally(new IllegalStateException(mainClass + " exited before serving: " + lines));
        }, "agent-output");
        reader.setDaemon(true);
        reader.start();
        Matcher m = ready.get(60, TimeUnit.SECONDS);
        AgentProcess a = new AgentProcess(p, Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)));
        synchronized (lines) {
            a.output.addAll(lines);
        }
        return a;
    }

    String address() {
        return "127.0.0.1:" + port;
    }

    /** SIGTERM and wait: the agent's graceful shutdown. */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            terminate();
        }
    }
}
