package dev.pagehop.deploy;

import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Statistics;
import dev.pagehop.proto.control.v1.GetMigrationRequest;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Network;

/**
 * CPU and memory of the agents' containers while they migrate the default process (what
 * {@code pagehop spawn} and {@code pagehop migrate} do without options: workload kv, 64 MiB,
 * 4K pages, one thread; pre-copy with uffd-wp-async and the policy's defaults but for the
 * amplification cap, lifted so that auto-converge's throttle completes the migration of this
 * flat-out writer instead of the default policy aborting it at 3x), to size the
 * manifests' requests. Runs the image with the dev overlay's arguments, limits and TLS Secrets,
 * and samples the Docker stats stream (one sample a second, cgroup v1) of both containers: CPU
 * in cores from the cgroup's cpuacct deltas, RSS as {@code rss + mapped_file}, the working set
 * as the kubelet computes it ({@code usage - total_inactive_file}).
 * <pre>
 *   ./dev image
 *   JAVA_HOME=... mvn -B -ntp -q -pl deploy -am -Pimage,footprint -DskipTests verify \
 *     -Dfootprint.main=dev.pagehop.deploy.ResourceRunner -Dfootprint.sizes=3
 * </pre>
 * The argument is the number of migrations measured one after another. Prints a table per run
 * and writes deploy/target/resources.csv.
 */
public final class ResourceRunner {
    private static final long MIB = 1 << 20;

    private ResourceRunner() {
    }

    /** One sample of a container's stats stream. */
    record Sample(long nanos, double cores, long rss, long workingSet) {
    }

    /** The stats stream of one container, kept until closed. */
    static final class Sampler implements Closeable {
        final List<Sample> samples = new CopyOnWriteArrayList<>();
        private final ResultCallback.Adapter<Statistics> callback;

        Sampler(AgentContainer agent) {
            callback = DockerClientFactory.instance().client().statsCmd(agent.container.getContainerId())
                    .exec(new ResultCallback.Adapter<>() {
                        @Override
                        public void onNext(Statistics s) {
                            long cpu = s.getCpuStats().getCpuUsage().getTotalUsage();
                            long pre = s.getPreCpuStats().getCpuUsage() == null || s.getPreCpuStats().getCpuUsage()
                                    .getTotalUsage() == null ? cpu : s.getPreCpuStats().getCpuUsage().getTotalUsage();
                            Long system = s.getCpuStats().getSystemCpuUsage();
                            Long preSystem = s.getPreCpuStats().getSystemCpuUsage();
                            long online = s.getCpuStats().getOnlineCpus() == null ? 1 : s.getCpuStats().getOnlineCpus();
                            double cores = system == null || preSystem == null || system <= preSystem ? 0
                                    : (double) (cpu - pre) / (system - preSystem) * online;
                            var m = s.getMemoryStats();
                            long rss = nz(m.getStats().getRss()) + nz(m.getStats().getMappedFile());
                            long workingSet = nz(m.getUsage()) - nz(m.getStats().getTotalInactiveFile());
                            samples.add(new Sample(System.nanoTime(), cores, rss, workingSet));
                        }
                    });
        }

        /** {mean cores, max cores, max RSS, max working set} over samples taken in [from, to]. */
        double[] summary(long from, long to) {
            double sum = 0;
            double max = 0;
            long rss = 0;
            long ws = 0;
            int n = 0;
            for (Sample s : samples) {
                if (s.nanos() < from || s.nanos() > to) {
                    continue;
                }
                n++;
                sum += s.cores();
                max = Math.max(max, s.cores());
                rss = Math.max(rss, s.rss());
                ws = Math.max(ws, s.workingSet());
            }
            return new double[] {n == 0 ? 0 : sum / n, max, rss, ws, n};
        }

        @Override
        public void close() throws IOException {
            callback.close();
        }
    }

    private static long nz(Long v) {
        return v == null ? 0 : v;
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length == 0 ? 3 : Integer.parseInt(args[0].trim().split("\\s+")[0]);
        Map<String, Path> secrets = DevCa.secrets(Manifests.temporaryDirectory("tls"));
        List<String> rows = new ArrayList<>();
        rows.add("run,phase,agent,mean_cores,max_cores,max_rss_mib,max_working_set_mib,samples,migration_ms,outcome");
        try (Network control = Network.newNetwork();
             Network agents = Network.builder().createNetworkCmdModifier(c -> c.withInternal(true)).build();
             AgentContainer source = new AgentContainer("overlays/dev", "source-agent", "source", control, agents, Map.of(),
                     secrets).start();
             AgentContainer target = new AgentContainer("overlays/dev", "target-agent", "target", control, agents, Map.of(),
                     secrets).start();
             Sampler src = new Sampler(source);
             Sampler tgt = new Sampler(target)) {
            // Idle: both agents started, nothing spawned, over ten samples.
            long idleFrom = System.nanoTime();
            await().atMost(Duration.ofMinutes(2)).until(() -> src.summary(idleFrom, Long.MAX_VALUE)[4] >= 10
                    && tgt.summary(idleFrom, Long.MAX_VALUE)[4] >= 10);
            long idleTo = System.nanoTime();
            rows.add(row(0, "idle", "source", src.summary(idleFrom, idleTo), 0));
            rows.add(row(0, "idle", "target", tgt.summary(idleFrom, idleTo), 0));
            for (int run = 1; run <= runs; run++) {
                ProcessInfo p = source.control().spawn(SpawnRequest.newBuilder().setWorkload("kv").setMemoryBytes(64 * MIB)
                        .setGranule(Granule.GRANULE_4K).setSeed(run).setThreads(1).build());
                long runningFrom = System.nanoTime();
                // The workload running alone for ten samples before the migration starts.
                await().atMost(Duration.ofMinutes(2)).until(() -> src.summary(runningFrom, Long.MAX_VALUE)[4] >= 10);
                rows.add(row(run, "running", "source", src.summary(runningFrom, System.nanoTime()), 0));
                long t0 = System.nanoTime();
                MigrationInfo m = source.control().startMigration(StartMigrationRequest.newBuilder().setPid(p.getPid())
                        .setTarget(target.address()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                        .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC)
                        .setPolicy(dev.pagehop.proto.control.v1.MigrationPolicy.newBuilder().setMaxAmplification(100))
                        .build());
                MigrationInfo done = await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(250))
                        .until(() -> source.control().getMigration(GetMigrationRequest.newBuilder()
                                .setMigrationId(m.getMigrationId()).build()), x -> switch (x.getSourcePhase()) {
                                    case SOURCE_PHASE_COMPLETED, SOURCE_PHASE_FAILED, SOURCE_PHASE_CANCELLED -> true;
                                    default -> false;
                                });
                long t1 = System.nanoTime();
                // A policy abort (an unpaced writer that does not converge) is an outcome like any
                // other here: what is measured is what the agents use while they try.
                String outcome = done.getSourcePhase() == SourcePhase.SOURCE_PHASE_COMPLETED ? "completed"
                        : done.getFailure().replace(',', ';');
                System.out.println("run " + run + ": " + outcome);
                long ms = (t1 - t0) / 1_000_000;
                // The stats stream lags by up to a sample: take one more second after the end.
                long until = t1 + 1_500_000_000L;
                await().atMost(Duration.ofSeconds(30)).until(() -> !src.samples.isEmpty()
                        && src.samples.getLast().nanos() > until && !tgt.samples.isEmpty() && tgt.samples.getLast().nanos() > until);
                rows.add(row(run, "migrating", "source", src.summary(t0, until), ms) + "," + outcome);
                rows.add(row(run, "migrating", "target", tgt.summary(t0, until), ms) + "," + outcome);
            }
        }
        Path out = Manifests.DEPLOY.resolve("target/resources.csv");
        Files.createDirectories(out.getParent());
        Files.write(out, rows);
        System.out.printf("%4s %10s %7s %10s %9s %12s %13s %7s %8s  %s%n", "run", "phase", "agent", "mean cores",
                "max cores", "max RSS MiB", "max WSS MiB", "samples", "migr ms", "outcome");
        for (String r : rows.subList(1, rows.size())) {
            String[] f = java.util.Arrays.copyOf(r.split(",", 10), 10);
            java.util.Arrays.setAll(f, i -> f[i] == null ? "" : f[i]);
            System.out.printf("%4s %10s %7s %10s %9s %12s %13s %7s %8s  %s%n", (Object[]) f);
        }
        System.out.println("wrote " + out);
    }

    private static String row(int run, String phase, String agent, double[] s, long ms) {
        return String.join(",", String.valueOf(run), phase, agent, String.format("%.2f", s[0]), String.format("%.2f", s[1]),
                String.valueOf((long) s[2] / MIB), String.valueOf((long) s[3] / MIB), String.valueOf((long) s[4]),
                String.valueOf(ms));
    }
}
