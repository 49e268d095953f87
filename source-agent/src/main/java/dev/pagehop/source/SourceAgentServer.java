package dev.pagehop.source;

import dev.pagehop.migrate.MetricsEndpoint;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running source agent: the gRPC server (AgentControl, health, reflection), the HTTP metrics
 * endpoint and the state behind them. The transport is the caller's: Netty on a TCP port in
 * {@link SourceAgent}, in-process in tests.
 */
public final class SourceAgentServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SourceAgentServer.class);

    private final Server server;
    private final HealthStatusManager health = new HealthStatusManager();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final SourceState state;
    private final MetricsEndpoint metricsEndpoint;
    private final long shutdownGraceMs;
    private volatile boolean serving = true;

    public SourceAgentServer(ServerBuilder<?> builder, Function<String, ManagedChannel> channels, Options options)
            throws IOException {
        // Workload kind "a64": real AArch64 programs run by the interpreter.
        dev.pagehop.syscall.ElfWorkload.registerKind();
        this.shutdownGraceMs = options.shutdownGraceMs();
        this.state = new SourceState(options.name(), options.config(), options.settings(), channels,
                new SourceMetrics(registry));
        server = builder.addService(new ControlService(state)).addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance()).build().start();
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus("pagehop.control.v1.AgentControl", ServingStatus.SERVING);
        metricsEndpoint = options.metricsPort() < 0 ? null
                : new MetricsEndpoint(options.metricsHost(), options.metricsPort(), registry, () -> serving);
    }

    /** What a source agent is started with. metricsPort -1 disables the HTTP endpoint. */
    public record Options(String name, SourceConfig config, SourceMigration.Settings settings, String metricsHost,
            int metricsPort, long shutdownGraceMs) {
    }

    /** Options as the agent's flags default them, with the metrics endpoint off (embedders, benchmarks). */
    public static Options defaultOptions(String name) {
        return new Options(name, SourceConfig.defaults(), new SourceMigration.Settings(
                TimeUnit.SECONDS.toNanos(30), 60_000, name, new dev.pagehop.migrate.FaultInjector(), System::nanoTime),
                "127.0.0.1", -1, 10_000);
    }

    public int port() {
        return server.getPort();
    }

    public int metricsPort() {
        return metricsEndpoint == null ? -1 : metricsEndpoint.port();
    }

    /**
     * Takes over a process built elsewhere (benchmarks fill its memory before it runs) and
     * returns its pid for StartMigration.
     */
    public int adopt(dev.pagehop.proc.EmulatedProcess p, dev.pagehop.mm.Granule granule, long memoryBytes) {
        return state.adopt(p, granule, memoryBytes, p.mm().config().softDirty()).pid();
    }

    SourceState state() {
        return state;
    }

    PrometheusMeterRegistry registry() {
        return registry;
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /**
     * Graceful shutdown: reports NOT_SERVING, cancels migrations that can still be cancelled
     * (their processes keep their memory until stopped), waits for them, then stops serving.
     */
    @Override
    public void close() {
        serving = false;
        health.enterTerminalState();
        LOG.info("source agent shutting down: cancelling {} migrations", state.migrations().size());
        try {
            state.shutdown(shutdownGraceMs);
            server.shutdown();
            if (!server.awaitTermination(shutdownGraceMs, TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
        if (metricsEndpoint != null) {
            metricsEndpoint.close();
        }
    }
}
