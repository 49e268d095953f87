package dev.pagehop.target;

import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.migrate.FaultPoint;
import dev.pagehop.security.TlsOptions;
import io.grpc.BindableService;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Entry point of the target agent. Every flag has an environment variable; flags win. */
@Command(name = "target-agent", mixinStandardHelpOptions = true, version = "pagehop target-agent " + TargetAgent.VERSION,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {"Receives migrating processes from source agents, rebuilds their memory and resumes them.",
                "Serves the Migration protocol, AgentControl (listing), gRPC health and server reflection on the gRPC",
                "port, and Prometheus metrics on http://<metrics-host>:<metrics-port>/metrics (health at /healthz).",
                "SIGTERM shuts down gracefully: incoming migrations before their commit are aborted and discarded."})
public final class TargetAgent implements Callable<Integer> {
    public static final String VERSION = "0.1.0";

    @Option(names = "--listen", defaultValue = "${env:PAGEHOP_LISTEN:-127.0.0.1}",
            description = "Address the gRPC server binds (env PAGEHOP_LISTEN, default ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--port", defaultValue = "${env:PAGEHOP_PORT:-7071}",
            description = "gRPC port; 0 picks a free one and prints it (env PAGEHOP_PORT, default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--metrics-host", defaultValue = "${env:PAGEHOP_METRICS_HOST:-127.0.0.1}",
            description = "Address of the HTTP metrics endpoint (env PAGEHOP_METRICS_HOST, default ${DEFAULT-VALUE}).")
    String metricsHost;

    @Option(names = "--metrics-port", defaultValue = "${env:PAGEHOP_METRICS_PORT:-9091}",
            description = "HTTP port for /metrics and /healthz; 0 picks a free one, -1 disables "
                    + "(env PAGEHOP_METRICS_PORT, default ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(names = "--name", defaultValue = "${env:PAGEHOP_NAME:-target}",
            description = "Name shown in listings (env PAGEHOP_NAME, default ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--max-memory", defaultValue = "${env:PAGEHOP_MAX_MEMORY:-8589934592}",
            description = "Largest mapped size one incoming migration may bring, bytes (env PAGEHOP_MAX_MEMORY, "
                    + "default ${DEFAULT-VALUE}).")
    long maxMemory;

    @Option(names = "--max-migrations", defaultValue = "${env:PAGEHOP_MAX_MIGRATIONS:-4}",
            description = "Incoming migrations at once (env PAGEHOP_MAX_MIGRATIONS, default ${DEFAULT-VALUE}).")
    int maxMigrations;

    @Option(names = "--max-total-memory", defaultValue = "${env:PAGEHOP_MAX_TOTAL_MEMORY:-0}",
            description = "Most process memory this target holds at once, bytes: the resident memory of the "
                    + "processes running here plus the mapped size of each migration arriving; a migration that "
                    + "would go over it is refused at Prepare (env PAGEHOP_MAX_TOTAL_MEMORY, default 0 = "
                    + "--max-memory x --max-migrations).")
    long maxTotalMemory;

    @Option(names = "--shutdown-grace-ms", defaultValue = "${env:PAGEHOP_SHUTDOWN_GRACE_MS:-10000}",
            description = "How long shutdown waits for calls to drain (env PAGEHOP_SHUTDOWN_GRACE_MS, "
                    + "default ${DEFAULT-VALUE}).")
    long shutdownGraceMs;

    @CommandLine.Mixin
    TlsOptions tls = new TlsOptions();

    @Option(names = "--health-port", defaultValue = "${env:PAGEHOP_HEALTH_PORT:--1}",
            description = "Plaintext port serving only grpc.health.v1.Health, with the main port's statuses, for probes "
                    + "that cannot do mutual TLS (kubelet); binds --listen; 0 picks a free one, -1 disables "
                    + "(env PAGEHOP_HEALTH_PORT, default ${DEFAULT-VALUE}).")
    int healthPort;

    @Option(names = "--postcopy-source-lost-ms", defaultValue = "${env:PAGEHOP_POSTCOPY_SOURCE_LOST_MS:-150000}",
            description = "Post-copy: how long a lost source may stay away before the migration cannot complete (the "
                    + "process stays frozen, never zero-filled); 0 waits forever (env PAGEHOP_POSTCOPY_SOURCE_LOST_MS, "
                    + "default ${DEFAULT-VALUE}).")
    long postcopySourceLostMs;

    @Option(names = "--postcopy-request-timeout-ms", defaultValue = "${env:PAGEHOP_POSTCOPY_REQUEST_TIMEOUT_MS:-10000}",
            description = "Post-copy: an answer to a page request later than this abandons the page streams, which the "
                    + "source then reopens (env PAGEHOP_POSTCOPY_REQUEST_TIMEOUT_MS, default ${DEFAULT-VALUE}).")
    long postcopyRequestTimeoutMs;

    @Option(names = "--fault", split = ",", defaultValue = "${env:PAGEHOP_FAULTS}",
            description = "Arm fault points for failure testing, name[=value]: kill-target-after-pages=N, "
                    + "refuse-prepare, fail-final-state, lose-chunk=INDEX (env PAGEHOP_FAULTS). Never in production.")
    List<String> faults;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Below the sources' keepalive interval (SourceAgent.KEEPALIVE_TIME_S). */
    static final long PERMIT_KEEPALIVE_S = 5;

    @Override
    public Integer call() throws Exception {
        FaultInjector fi = new FaultInjector();
        if (faults != null) {
            for (String f : faults) {
                if (!f.isBlank()) {
                    Map.Entry<FaultPoint, Long> e = FaultInjector.parse(f);
                    fi.arm(e.getKey(), e.getValue());
                }
            }
        }
        TargetAgentServer server;
        try {
            server = start(fi);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            spec.commandLine().getErr().println("target-agent: " + (e.getCause() != null && e.getCause().getMessage() != null
                    ? e.getMessage() + ": " + e.getCause().getMessage() : e.getMessage()));
            return 2;
        }
        Server health;
        try {
            health = healthPort < 0 ? null : serveHealth(listen, healthPort, server.healthService());
        } catch (IOException e) {
            server.close();
            spec.commandLine().getErr().println("target-agent: cannot bind --health-port %s:%d: %s".formatted(listen, healthPort,
                    e.getMessage()));
            return 2;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                // NOT_SERVING stays visible on the health port while the main server drains.
                server.close();
            } finally {
                if (health != null) {
                    health.shutdownNow();
                }
                stopped.countDown();
            }
        }, "shutdown"));
        spec.commandLine().getOut().printf("target-agent %s listening grpc=%s:%d metrics=%d health=%d%n", name, listen,
                server.port(), server.metricsPort(), health == null ? -1 : health.getPort());
        spec.commandLine().getOut().flush();
        server.awaitTermination();
        stopped.await();
        return 0;
    }

    /**
     * Binds the server the flags describe. With TLS files, only clients (sources, CLIs) whose
     * certificate --tls-ca signed complete the handshake. A refused configuration fails here with
     * IllegalArgumentException or UncheckedIOException and nothing is bound.
     */
    public TargetAgentServer start(FaultInjector fi) throws IOException {
        TlsOptions effective = tls.plaintextWhenNoFiles();
        effective.check(listen, port);
        if (maxTotalMemory < 0) {
            throw new IllegalArgumentException("--max-total-memory " + maxTotalMemory
                    + " must be >= 0 (0 = --max-memory x --max-migrations)");
        }
        if (postcopySourceLostMs < 0 || postcopyRequestTimeoutMs < 1) {
            throw new IllegalArgumentException("--postcopy-source-lost-ms " + postcopySourceLostMs
                    + " must be >= 0 and --postcopy-request-timeout-ms " + postcopyRequestTimeoutMs + " >= 1");
        }
        TargetAgentServer server = new TargetAgentServer(
                NettyServerBuilder.forAddress(new InetSocketAddress(listen, port), effective.serverCredentials())
                        .flowControlWindow(8 << 20).maxInboundMessageSize(32 << 20)
                        // Sources ping every 10 s to find a dead link (the default would answer
                        // pings that frequent on an idle stream with GOAWAY too_many_pings).
                        .permitKeepAliveTime(PERMIT_KEEPALIVE_S, TimeUnit.SECONDS),
                new TargetAgentServer.Options(name, maxMemory, maxMigrations, fi,
                        // A crash, not a shutdown: no hooks, no goodbyes, as the fault point promises.
                        () -> Runtime.getRuntime().halt(137), System::nanoTime, metricsHost, metricsPort,
                        shutdownGraceMs, maxTotalMemory == 0 ? TargetConfig.defaultTotal(maxMemory, maxMigrations)
                                : maxTotalMemory));
        server.postcopyTimeouts(postcopySourceLostMs, postcopyRequestTimeoutMs);
        return server;
    }

    /** The health-only plaintext server: it serves nothing but grpc.health.v1.Health, so TLS is not required of it. */
    static Server serveHealth(String listen, int port, BindableService health) throws IOException {
        return NettyServerBuilder.forAddress(new InetSocketAddress(listen, port), InsecureServerCredentials.create())
                .addService(health).build().start();
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new TargetAgent()).execute(args));
    }
}
