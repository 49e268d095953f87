package dev.pagehop.deploy;

import dev.pagehop.proto.control.v1.GetMigrationRequest;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.types.v1.NoConvergenceAction;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import com.github.dockerjava.api.model.Statistics;
import com.github.dockerjava.api.async.ResultCallback;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Network;

import static org.awaitility.Awaitility.await;

/**
 * Measures what the agents' containers use, to size the manifests' requests and limits: the
 * cgroup's memory (usage and peak, as the kubelet and the OOM killer see it) of an idle agent, of
 * a source running a process of each size, and of both sides after a pre-copy migration of it.
 * Runs the image the build produced, with the base manifests' arguments, under a 4 GiB limit.
 * <pre>
 *   ./dev image && JAVA_HOME=... mvn -B -ntp -q -pl deploy exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=dev.pagehop.deploy.FootprintRunner -Dexec.args="64 256 1024"
 * </pre>
 * Prints a table and writes deploy/target/footprint.csv. Environment: as for the container tests
 * (TESTCONTAINERS_RYUK_DISABLED=true, TESTCONTAINERS_HOST_OVERRIDE=localhost).
 */
public final class FootprintRunner {
    private static final long MIB = 1 << 20;

    private FootprintRunner() {
    }

    public static void main(String[] args) throws Exception {
        List<Long> sizesMib = new ArrayList<>();
        for (String a : args.length == 0 ? new String[] {"64", "256", "1024"} : args) {
            sizesMib.add(Long.parseLong(a));
        }
        List<String> rows = new ArrayList<>();
        rows.add("process_mib,workload,source_idle_mib,source_running_mib,source_peak_mib,target_idle_mib,target_after_mib,"
                + "target_peak_mib,migration_ms");
        System.out.printf("%8s %9s %11s %14s %11s %11s %12s %11s %10s%n", "proc MiB", "workload", "src idle", "src running",
                "src peak", "tgt idle", "tgt after", "tgt peak", "migr ms");
        for (long mib : sizesMib) {
            String row = measure(mib, "uniform");
            rows.add(row);
            String[] f = row.split(",");
            System.out.printf("%8s %9s %11s %14s %11s %11s %12s %11s %10s%n", (Object[]) f);
        }
        Path out = Manifests.DEPLOY.resolve("target/footprint.csv");
        Files.createDirectories(out.getParent());
        Files.write(out, rows);
        System.out.println("wrote " + out);
    }

    private static String measure(long mib, String workload) throws IOException {
        Map<String, String> env = Map.of(AgentContainer.MEMORY_LIMIT_OVERRIDE, String.valueOf(4096 * MIB),
                "PAGEHOP_MAX_PROCESS_MEMORY", String.valueOf(4096 * MIB), "PAGEHOP_MAX_MEMORY", String.valueOf(4096 * MIB));
        Map<String, Path> secrets = DevCa.secrets(Manifests.temporaryDirectory("tls"));
        try (Network control = Network.newNetwork();
             Network agents = Network.builder().createNetworkCmdModifier(c -> c.withInternal(true)).build();
             AgentContainer source = new AgentContainer("base", "source-agent", "source", control, agents, env, secrets).start();
             AgentContainer target = new AgentContainer("base", "target-agent", "target", control, agents, env, secrets).start()) {
            long sourceIdle = usage(source)[0];
            long targetIdle = usage(target)[0];
            ProcessInfo p = source.control().spawn(SpawnRequest.newBuilder().setWorkload(workload).setMemoryBytes(mib * MIB)
                    .setGranule(Granule.GRANULE_4K).setSeed(7).setThreads(2).build());
            // The frames are off-heap, so the cgroup grows by the process's size once the workload
            // has written (nearly) every page; random writes approach it asymptotically.
            await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500))
                    .until(() -> usage(source)[0] >= sourceIdle + mib * MIB * 95 / 100);
            long sourceRunning = usage(source)[0];
            long t0 = System.nanoTime();
            MigrationInfo m = source.control().startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                    .setTarget(target.address()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                    .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC)
                    // An unpaced writer never converges; what is measured is memory, so stop
                    // iterating after a few rounds and switch over instead of aborting.
                    .setPolicy(MigrationPolicy.newBuilder().setMaxRounds(5)
                            .setNoConvergenceAction(NoConvergenceAction.NO_CONVERGENCE_ACTION_SWITCHOVER))
                    .build());
            MigrationInfo done = await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(250))
                    .until(() -> source.control().getMigration(GetMigrationRequest.newBuilder()
                            .setMigrationId(m.getMigrationId()).build()), x -> x.getSourcePhase() == SourcePhase.SOURCE_PHASE_COMPLETED
                            || x.getSourcePhase() == SourcePhase.SOURCE_PHASE_FAILED);
            if (done.getSourcePhase() != SourcePhase.SOURCE_PHASE_COMPLETED) {
                throw new IllegalStateException("migration of " + mib + " MiB failed: " + done.getFailure());
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            long[] s = usage(source);
            long[] t = usage(target);
            return String.join(",", String.valueOf(mib), workload, mb(sourceIdle), mb(sourceRunning), mb(s[1]), mb(targetIdle),
                    mb(t[0]), mb(t[1]), String.valueOf(ms));
        }
    }

    /** {usage, peak} of the container's memory cgroup, in bytes (cgroup v1 usage includes page cache). */
    private static long[] usage(AgentContainer agent) {
        CompletableFuture<Statistics> first = new CompletableFuture<>();
        DockerClientFactory.instance().client().statsCmd(agent.container.getContainerId()).withNoStream(true)
                .exec(new ResultCallback.Adapter<Statistics>() {
                    @Override
                    public void onNext(Statistics stats) {
                        first.complete(stats);
                    }
                });
        Statistics stats = first.orTimeout(30, TimeUnit.SECONDS).join();
        return new long[] {stats.getMemoryStats().getUsage(), stats.getMemoryStats().getMaxUsage()};
    }

    private static String mb(long bytes) {
        return String.valueOf(bytes / MIB);
    }
}
