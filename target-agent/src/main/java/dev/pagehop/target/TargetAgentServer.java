package dev.pagehop.target;

import com.google.common.util.concurrent.MoreExecutors;
import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.migrate.MetricsEndpoint;
import dev.pagehop.proto.migration.v1.MigrationGrpc;
import dev.pagehop.xfer.UrgentPageStream;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running target agent: the Migration and AgentControl services, health and reflection on
 * the gRPC server, and the HTTP metrics endpoint. The transport is the caller's (Netty in
 * {@link TargetAgent}, in-process in tests); so is what "killed" means for the fault point
 * kill-target-after-pages (halt the JVM in the agent, stop the server at once in tests).
 */
public final class TargetAgentServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TargetAgentServer.class);

    private final Server server;
    private final HealthStatusManager health = new HealthStatusManager();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final TargetState state;
    private final MetricsEndpoint metricsEndpoint;
    private final long shutdownGraceMs;
    private volatile boolean serving = true;

    /** What a target agent is started with. metricsPort -1 disables the HTTP endpoint. */
    public record Options(String name, long maxMemoryBytes, int maxMigrations, FaultInjector faults,
            Runnable killSwitch, LongSupplier nanoTime, String metricsHost, int metricsPort, long shutdownGraceMs,
            long maxTotalMemoryBytes) {
        /** With the default memory budget: room for {@code maxMigrations} migrations of the largest size. */
        public Options(String name, long maxMemoryBytes, int maxMigrations, FaultInjector faults, Runnable killSwitch,
                LongSupplier nanoTime, String metricsHost, int metricsPort, long shutdownGraceMs) {
            this(name, maxMemoryBytes, maxMigrations, faults, killSwitch, nanoTime, metricsHost, metricsPort,
                    shutdownGraceMs, TargetConfig.defaultTotal(maxMemoryBytes, maxMigrations));
        }
    }

    public TargetAgentServer(ServerBuilder<?> builder, Options o) throws IOException {
        // Workload kind "a64": a migrated AArch64 program continues under the interpreter here.
        dev.pagehop.syscall.ElfWorkload.registerKind();
        this.shutdownGraceMs = o.shutdownGraceMs();
        TargetConfig d = TargetConfig.defaults();
        this.state = new TargetState(new TargetConfig(o.maxMemoryBytes(), o.maxMigrations(), o.maxTotalMemoryBytes(),
                d.maxChunkBytes(), d.maxChunksInFlight()), o.faults(), o.killSwitch(), o.nanoTime(), registry);
        // Post-copy's urgent page stream is handled on the transport's thread: a faulting thread
        // waits for the supply, and a hand-off to the call executor is one more wake-up that, on
        // a busy host, waits for a core. Its messages are one page each; handling one is a copy
        // and a queue insert (StreamPageLink.supplied), never a wait. Everything else, the bulk
        // stream's megabytes included, keeps the default executor.
        builder.callExecutor(new ServerCallExecutorSupplier() {
            @Override
            public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
                return call.getMethodDescriptor().getFullMethodName().equals(MigrationGrpc.getPageRequestsMethod()
                        .getFullMethodName()) && UrgentPageStream.isUrgent(headers) ? MoreExecutors.directExecutor() : null;
            }
        });
        server = builder.addService(new MigrationService(state).definition()).addService(new TargetControlService(state, o.name()))
                .addService(health.getHealthService()).addService(ProtoReflectionServiceV1.newInstance()).build().start();
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus("pagehop.migration.v1.Migration", ServingStatus.SERVING);
        health.setStatus("pagehop.control.v1.AgentControl", ServingStatus.SERVING);
        metricsEndpoint = o.metricsPort() < 0 ? null : new MetricsEndpoint(o.metricsHost(), o.metricsPort(), registry,
                () -> serving);
    }

    public int port() {
        return server.getPort();
    }

    /**
     * The gRPC health service of this server, to be served again on a plaintext health-only port
     * (kubelet's grpc probes cannot present a client certificate). Its statuses are this server's.
     */
    public io.grpc.BindableService healthService() {
        return health.getHealthService();
    }

    public int metricsPort() {
        return metricsEndpoint == null ? -1 : metricsEndpoint.port();
    }

    TargetState state() {
        return state;
    }

    /** A process this target received, or null (tests and benchmarks compare it with the source's). */
    public dev.pagehop.proc.EmulatedProcess receivedProcess(int pid) {
        TargetState.Received r = state.process(pid);
        return r == null ? null : r.process();
    }

    /** Incoming migrations not yet ended (tests check that a failure left nothing behind). */
    public int activeMigrations() {
        return state.activeCount();
    }

    /** The target's fault points, to arm from tests. */
    public FaultInjector faults() {
        return state.faults();
    }

    /**
     * Post-copy timeouts for migrations prepared from now on: how long a lost source may stay
     * away before the migration cannot complete (0 waits forever, as QEMU's postcopy-paused), and
     * how late an answer to a page request may be before the page link is abandoned and reopened.
     */
    public void postcopyTimeouts(long sourceLostAfterMs, long requestTimeoutMs) {
        state.postcopyLimits(state.postcopyLimits().withSourceLostAfterMs(sourceLostAfterMs)
                .withRequestTimeoutMs(requestTimeoutMs));
    }

    /** Stops serving at once, as a crash would (fault point kill-target-after-pages in tests). */
    public void kill() {
        serving = false;
        server.shutdownNow();
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /**
     * Graceful shutdown: NOT_SERVING first, then every migration before its commit is aborted
     * (its memory discarded), received processes stop, and the server drains.
     */
    @Override
    public void close() {
        serving = false;
        health.enterTerminalState();
        LOG.info("target agent shutting down");
        state.shutdown("target agent shutting down");
        server.shutdown();
        try {
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
