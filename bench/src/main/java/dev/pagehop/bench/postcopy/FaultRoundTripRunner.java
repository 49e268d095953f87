package dev.pagehop.bench.postcopy;

import dev.pagehop.bench.scenario.AgentProcess;
import dev.pagehop.bench.scenario.Machine;
import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.proto.control.v1.AgentControlGrpc;
import dev.pagehop.proto.control.v1.GetMigrationRequest;
import dev.pagehop.proto.control.v1.KillProcessRequest;
import dev.pagehop.proto.control.v1.ListProcessesRequest;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.target.PostcopyProbe;
import dev.pagehop.target.TargetAgentServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Post-copy fault round trip on loopback (issue 6's target: p50 ≤ 200 µs, p99 ≤ 1 ms). A real
 * source agent runs as its own process; the target agent runs in this JVM behind a Netty server
 * on 127.0.0.1, so the page requests and answers cross real gRPC over TCP loopback. Each
 * iteration spawns a writer on the source, lets it populate its working set, migrates it in
 * post-copy mode, and the writer keeps writing random pages on the target at once: every write
 * to a page still on the source is a fault the lazy pager requests on the urgent stream while
 * the background pull runs. The pager's own histogram gives the round trip (request sent to
 * page installed and thread woken); its blocked time gives the fault-to-wake-up mean.
 *
 * <p>Sleeps are the measurement's windows (the writer's populate time), not synchronisation.
 */
@Command(name = "fault-round-trip", mixinStandardHelpOptions = true,
        description = "Post-copy fault round trip over loopback gRPC with a real source agent process.")
public final class FaultRoundTripRunner implements Callable<Integer> {

    @Option(names = "--memory-mib", defaultValue = "256", description = "Process memory, MiB (default ${DEFAULT-VALUE}).")
    long memoryMib;

    @Option(names = "--working-set", defaultValue = "0.75", description = "Fraction written (default ${DEFAULT-VALUE}).")
    double workingSet;

    @Option(names = "--rate-mbps", defaultValue = "0",
            description = "Writer pace in MB/s, 0 = unpaced: every fault is followed by the next at once (default ${DEFAULT-VALUE}).")
    double rateMBps;

    @Option(names = "--populate-ms", defaultValue = "3000",
            description = "How long the writer runs on the source before the migration (default ${DEFAULT-VALUE}).")
    long populateMs;

    @Option(names = "--warmup", defaultValue = "1", description = "Migrations to discard (JIT warm-up; default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--iterations", defaultValue = "5", description = "Measured migrations (default ${DEFAULT-VALUE}).")
    int iterations;

    record Row(int iteration, PostcopyProbe.Figures f, long totalMs) {
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new FaultRoundTripRunner()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        long memory = memoryMib << 20;
        long pageSize = 4096;
        long wsPages = Math.max(1, Math.round(memory / pageSize * workingSet));
        double load0 = Machine.loadAverage();
        Path log = Files.createTempFile("fault-round-trip-source", ".log");
        TargetAgentServer target = new TargetAgentServer(
                NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).flowControlWindow(8 << 20)
                        .maxInboundMessageSize(32 << 20),
                new TargetAgentServer.Options("target", 8L << 30, 4, FaultInjector.none(), () -> { }, System::nanoTime,
                        "127.0.0.1", -1, 5_000));
        List<Row> rows = new ArrayList<>();
        try (AgentProcess source = AgentProcess.start("source", AgentProcess.SOURCE_MAIN, List.of(), "127.0.0.1", "1g",
                System.getProperty("java.class.path"), log, 60_000)) {
            ManagedChannel sc = NettyChannelBuilder.forAddress("127.0.0.1", source.port()).usePlaintext().build();
            ManagedChannel tc = NettyChannelBuilder.forAddress("127.0.0.1", target.port()).usePlaintext().build();
            var src = AgentControlGrpc.newBlockingStub(sc);
            var tgt = AgentControlGrpc.newBlockingStub(tc);
            try {
                for (int i = 0; i < warmup + iterations; i++) {
                    ProcessInfo p = src.withDeadlineAfter(60, TimeUnit.SECONDS).spawn(SpawnRequest.newBuilder()
                            .setWorkload("zipf").setMemoryBytes(memory).setGranule(Granule.GRANULE_4K).setSeed(42 + i)
                            .setThreads(1).setWriteRateBytesPerSec(Math.round(rateMBps * 1e6))
                            .putParameters("hotPages", Long.toString(wsPages)).putParameters("skew", "0")
                            .putParameters("writeBytes", Long.toString(pageSize)).build());
                    Thread.sleep(populateMs);
                    long t0 = System.nanoTime();
                    MigrationInfo m = src.withDeadlineAfter(60, TimeUnit.SECONDS).startMigration(StartMigrationRequest
                            .newBuilder().setPid(p.getPid()).setTarget("127.0.0.1:" + target.port())
                            .setMode(MigrationMode.MIGRATION_MODE_POSTCOPY).build());
                    String id = m.getMigrationId();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                    while (!terminal(m.getSourcePhase())) {
                        if (System.nanoTime() > deadline) {
                            System.err.printf("iteration %d: migration %s still in %s after 120 s; stopping%n", i, id,
                                    m.getSourcePhase());
                            return 1;
                        }
                        Thread.sleep(50);
                        m = src.withDeadlineAfter(10, TimeUnit.SECONDS).getMigration(
                                GetMigrationRequest.newBuilder().setMigrationId(id).build());
                    }
                    long totalMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                    if (m.getSourcePhase() != SourcePhase.SOURCE_PHASE_COMPLETED) {
                        System.err.printf("iteration %d: migration %s ended %s: %s%n", i, id, m.getSourcePhase(), m.getFailure());
                        return 1;
                    }
                    PostcopyProbe.Figures f = PostcopyProbe.of(target, id).orElseThrow(() -> new IllegalStateException(
                            "migration " + id + " has no post-copy figures on the target"));
                    System.out.printf(Locale.ROOT, "%s %d: faults %d (on pages in flight %d), on demand %d, background %d, "
                            + "round trip p50 %.1f µs p99 %.1f µs max %.1f µs, blocked per fault %.1f µs, post-copy %d ms, "
                            + "total %d ms%n", i < warmup ? "warm-up" : "iteration", i, f.faults(), f.faultsOnPagesInFlight(),
                            f.pagesOnDemand(), f.pagesBackground(), f.latencyP50Ns() / 1e3, f.latencyP99Ns() / 1e3,
                            f.latencyMaxNs() / 1e3, f.meanBlockedNsPerFault() / 1e3, f.durationNs() / 1_000_000, totalMs);
                    if (i >= warmup) {
                        rows.add(new Row(i, f, totalMs));
                    }
                    if (!dev.pagehop.bench.scenario.ScenarioRunner.awaitTargetEnd(tgt, id, 30_000)) {
                        System.err.printf("iteration %d: the target's side of %s did not end within 30 s%n", i, id);
                        return 1;
                    }
                    for (ProcessInfo q : tgt.listProcesses(ListProcessesRequest.getDefaultInstance()).getProcessesList()) {
                        tgt.killProcess(KillProcessRequest.newBuilder().setPid(q.getPid()).build());
                    }
                }
            } finally {
                sc.shutdownNow();
                tc.shutdownNow();
            }
        } finally {
            target.close();
        }
        double[] p50 = rows.stream().mapToDouble(r -> r.f().latencyP50Ns() / 1e3).sorted().toArray();
        double[] p99 = rows.stream().mapToDouble(r -> r.f().latencyP99Ns() / 1e3).sorted().toArray();
        double max = rows.stream().mapToDouble(r -> r.f().latencyMaxNs() / 1e3).max().orElse(Double.NaN);
        long faults = rows.stream().mapToLong(r -> r.f().pagesOnDemand()).sum();
        double medP50 = p50[p50.length / 2];
        double medP99 = p99[p99.length / 2];
        System.out.printf(Locale.ROOT, "summary: %d measured post-copy migrations of a %d MiB writer (%s), %d pages on demand; "
                + "median of per-migration p50 %.1f µs (target ≤ 200: %s), median p99 %.1f µs (target ≤ 1000: %s), "
                + "worst p50 %.1f µs, worst p99 %.1f µs, max %.1f µs%n", rows.size(), memoryMib,
                rateMBps <= 0 ? "unpaced" : rateMBps + " MB/s", faults, medP50, medP50 <= 200 ? "met" : "NOT met", medP99,
                medP99 <= 1000 ? "met" : "NOT met", p50[p50.length - 1], p99[p99.length - 1], max);
        System.out.printf(Locale.ROOT, "machine: %s; load average %.1f before, %.1f after%n", Machine.describe(), load0,
                Machine.loadAverage());
        return 0;
    }

    private static boolean terminal(SourcePhase p) {
        return p == SourcePhase.SOURCE_PHASE_COMPLETED || p == SourcePhase.SOURCE_PHASE_FAILED
                || p == SourcePhase.SOURCE_PHASE_CANCELLED;
    }
}
