package dev.pagehop.source;

import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.migrate.FaultPoint;
import dev.pagehop.security.TlsOptions;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ServerCredentials;
import io.grpc.netty.NettyChannelBuilder;
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
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Entry point of the source agent. Every flag has an environment variable; flags win. */
@Command(name = "source-agent", mixinStandardHelpOptions = true, version = "pagehop source-agent " + SourceAgent.VERSION,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {"Runs emulated arm64 processes, tracks the pages they write and migrates them to target agents.",
                "Serves AgentControl, gRPC health and server reflection on the gRPC port, and Prometheus metrics",
                "on http://<metrics-host>:<metrics-port>/metrics (health at /healthz).",
                "SIGTERM shuts down gracefully: migrations still before their commit are cancelled, never left half-done."})
public final class SourceAgent implements Callable<Integer> {
    public static final String VERSION = "0.1.0";

    @Option(names = "--listen", defaultValue = "${env:PAGEHOP_LISTEN:-127.0.0.1}",
            description = "Address the gRPC server binds (env PAGEHOP_LISTEN, default ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--port", defaultValue = "${env:PAGEHOP_PORT:-7070}",
            description = "gRPC port; 0 picks a free one and prints it (env PAGEHOP_PORT, default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--metrics-host", defaultValue = "${env:PAGEHOP_METRICS_HOST:-127.0.0.1}",
            description = "Address of the HTTP metrics endpoint (env PAGEHOP_METRICS_HOST, default ${DEFAULT-VALUE}).")
    String metricsHost;

    @Option(names = "--metrics-port", defaultValue = "${env:PAGEHOP_METRICS_PORT:-9090}",
            description = "HTTP port for /metrics and /healthz; 0 picks a free one, -1 disables "
                    + "(env PAGEHOP_METRICS_PORT, default ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(names = "--name", defaultValue = "${env:PAGEHOP_NAME:-source}",
            description = "Name shown to targets and in listings (env PAGEHOP_NAME, default ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--max-process-memory", defaultValue = "${env:PAGEHOP_MAX_PROCESS_MEMORY:-8589934592}",
            description = "Largest memory a spawned workload may have, bytes (env PAGEHOP_MAX_PROCESS_MEMORY, "
                    + "default ${DEFAULT-VALUE}).")
    long maxProcessMemory;

    @Option(names = "--max-threads", defaultValue = "${env:PAGEHOP_MAX_THREADS:-64}",
            description = "Most threads per spawned process (env PAGEHOP_MAX_THREADS, default ${DEFAULT-VALUE}).")
    int maxThreads;

    @Option(names = "--ack-timeout-ms", defaultValue = "${env:PAGEHOP_ACK_TIMEOUT_MS:-30000}",
            description = "Fail a migration when the target acknowledges nothing for this long "
                    + "(env PAGEHOP_ACK_TIMEOUT_MS, default ${DEFAULT-VALUE}).")
    long ackTimeoutMs;

    @Option(names = "--rpc-timeout-ms", defaultValue = "${env:PAGEHOP_RPC_TIMEOUT_MS:-60000}",
            description = "Deadline of each Prepare, Switchover and Commit call (env PAGEHOP_RPC_TIMEOUT_MS, "
                    + "default ${DEFAULT-VALUE}).")
    long rpcTimeoutMs;

    @Option(names = "--shutdown-grace-ms", defaultValue = "${env:PAGEHOP_SHUTDOWN_GRACE_MS:-10000}",
            description = "How long shutdown waits for cancelled migrations to wind down (env "
                    + "PAGEHOP_SHUTDOWN_GRACE_MS, default ${DEFAULT-VALUE}).")
    long shutdownGraceMs;

    @CommandLine.Mixin
    TlsOptions tls = new TlsOptions();

    @Option(names = "--health-port", defaultValue = "${env:PAGEHOP_HEALTH_PORT:--1}",
            description = "Plaintext port serving only grpc.health.v1.Health, with the main port's statuses, for probes "
                    + "that cannot do mutual TLS (kubelet); binds --listen; 0 picks a free one, -1 disables "
                    + "(env PAGEHOP_HEALTH_PORT, default ${DEFAULT-VALUE}).")
    int healthPort;

    @Option(names = "--fault", split = ",", defaultValue = "${env:PAGEHOP_FAULTS}",
            description = "Arm fault points for failure testing, name[=value], comma separated or repeated: "
                    + "drop-chunk=SEQ, corrupt-chunk=SEQ, cut-stream-after-chunks=N, write-after-final-collect, cut-page-link-after-pages=N (post-copy; "
                    + "stays cut until RecoverMigration), hold-postcopy-after-pages=N (post-copy; the page link goes silent "
                    + "until it breaks) (env PAGEHOP_FAULTS). "
                    + "Never in production.")
    List<String> faults;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** 8 MiB HTTP/2 windows: large enough for 16 chunks of 256 KiB in flight on one stream. */
    static final int FLOW_CONTROL_WINDOW = 8 << 20;
    static final int MAX_MESSAGE_BYTES = 32 << 20;
    /** gRPC's floor for client keepalive is 10 s; a ping unanswered for 5 s more ends the connection. */
    public static final long KEEPALIVE_TIME_S = 10;
    static final long KEEPALIVE_TIMEOUT_S = 5;

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
        SourceAgentServer server;
        try {
            server = start(fi);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            spec.commandLine().getErr().println("source-agent: " + describe(e));
            return 2;
        }
        Server health;
        try {
            health = healthPort < 0 ? null : serveHealth(listen, healthPort, server.healthService());
        } catch (IOException e) {
            server.close();
            spec.commandLine().getErr().println("source-agent: cannot bind --health-port %s:%d: %s".formatted(listen, healthPort,
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
        // The line tests and scripts wait for: both ports, resolved.
        spec.commandLine().getOut().printf("source-agent %s listening grpc=%s:%d metrics=%d health=%d%n", name, listen,
                server.port(), server.metricsPort(), health == null ? -1 : health.getPort());
        spec.commandLine().getOut().flush();
        server.awaitTermination();
        stopped.await();
        return 0;
    }

    /**
     * Binds the server the flags describe. The TLS configuration is checked first, so a refused
     * one (half-given files, plaintext on a non-loopback address without the override, unreadable
     * PEM) fails here with IllegalArgumentException or UncheckedIOException and nothing is bound.
     */
    public SourceAgentServer start(FaultInjector fi) throws IOException {
        TlsOptions effective = tls.plaintextWhenNoFiles();
        effective.check(listen, port);
        ServerCredentials serverCredentials = effective.serverCredentials();
        // The same certificate identifies this source to targets; only targets the CA signed are trusted.
        Function<String, ManagedChannel> outbound = channels(effective);
        SourceMigration.Settings settings = new SourceMigration.Settings(TimeUnit.MILLISECONDS.toNanos(ackTimeoutMs),
                rpcTimeoutMs, name, fi, System::nanoTime);
        return new SourceAgentServer(
                NettyServerBuilder.forAddress(new InetSocketAddress(listen, port), serverCredentials)
                        .flowControlWindow(FLOW_CONTROL_WINDOW).maxInboundMessageSize(MAX_MESSAGE_BYTES),
                outbound,
                new SourceAgentServer.Options(name, new SourceConfig(maxProcessMemory, maxThreads), settings, metricsHost,
                        metricsPort, shutdownGraceMs));
    }

    static String describe(Exception e) {
        return e.getCause() != null && e.getCause().getMessage() != null
                ? e.getMessage() + ": " + e.getCause().getMessage() : e.getMessage();
    }

    /**
     * Channels to targets, with the agent's own credentials. With a peer name, that name is
     * verified in the target's certificate instead of the host dialled. Plaintext towards a target
     * that is not on loopback is refused (IllegalArgumentException, which StartMigration reports)
     * unless --allow-plaintext-non-loopback was given, as for listening.
     */
    static Function<String, ManagedChannel> channels(TlsOptions tls) {
        ChannelCredentials credentials = tls.channelCredentials();
        return target -> {
            if (tls.plaintext()) {
                int colon = target.lastIndexOf(':');
                String host = colon < 0 ? target : target.substring(0, colon);
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                int port;
                try {
                    port = colon < 0 ? -1 : Integer.parseInt(target.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("expected HOST:PORT, got port '" + target.substring(colon + 1) + "'");
                }
                tls.check(host, port);
            }
            // Keepalive: a link that goes silent (cable pulled, node gone) would otherwise hold a
            // post-copy page stream until TCP gives up, minutes later; pings find it in seconds so
            // the stream is reopened (targets permit pings this often: TargetAgent).
            NettyChannelBuilder b = NettyChannelBuilder.forTarget(target, credentials).flowControlWindow(FLOW_CONTROL_WINDOW)
                    .maxInboundMessageSize(MAX_MESSAGE_BYTES).keepAliveTime(KEEPALIVE_TIME_S, TimeUnit.SECONDS)
                    .keepAliveTimeout(KEEPALIVE_TIMEOUT_S, TimeUnit.SECONDS);
            tls.peerName().ifPresent(b::overrideAuthority);
            return b.build();
        };
    }

    /** The health-only plaintext server: it serves nothing but grpc.health.v1.Health, so TLS is not required of it. */
    static Server serveHealth(String listen, int port, BindableService health) throws IOException {
        return NettyServerBuilder.forAddress(new InetSocketAddress(listen, port), InsecureServerCredentials.create())
                .addService(health).build().start();
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new SourceAgent()).execute(args));
    }
}
