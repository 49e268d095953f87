package dev.pagehop.source;

import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.target.TargetAgentServer;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.util.concurrent.TimeUnit;

/**
 * The real source and target agents in the test JVM on gRPC's in-process transport, named by
 * "host:port" so the command line addresses them as it addresses agents on TCP. It lives in the
 * source agent's package because the source agent's settings are package-private.
 */
public final class RealAgents implements AutoCloseable {
    private final TargetAgentServer target;
    private final SourceAgentServer source;
    /** The source agent's fault points, to arm from tests (as its --fault flag does). */
    public final FaultInjector sourceFaults = new FaultInjector();

    public RealAgents(String sourceName, String targetName) throws Exception {
        TargetAgentServer[] self = new TargetAgentServer[1];
        target = new TargetAgentServer(InProcessServerBuilder.forName(targetName),
                new TargetAgentServer.Options("target", 1L << 30, 4, new FaultInjector(), () -> self[0].kill(),
                        System::nanoTime, "127.0.0.1", -1, 5_000));
        self[0] = target;
        source = new SourceAgentServer(InProcessServerBuilder.forName(sourceName),
                t -> InProcessChannelBuilder.forName(t).build(),
                new SourceAgentServer.Options("source", SourceConfig.defaults(),
                        new SourceMigration.Settings(TimeUnit.SECONDS.toNanos(20), 20_000, "source", sourceFaults,
                                System::nanoTime),
                        "127.0.0.1", -1, 5_000));
    }

    @Override
    public void close() throws Exception {
        source.close();
        target.close();
    }
}
