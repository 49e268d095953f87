package dev.pagehop.bench.scenario;

import dev.pagehop.proto.control.v1.AgentControlGrpc;
import dev.pagehop.proto.control.v1.CancelMigrationRequest;
import dev.pagehop.proto.control.v1.DowntimeBreakdown;
import dev.pagehop.proto.control.v1.GetMigrationRequest;
import dev.pagehop.proto.control.v1.ListProcessesRequest;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.MigrationStats;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.control.v1.TrackerCost;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs scenarios the way QEMU's guestperf does: for each one, start a target and a source agent
 * as separate processes (inside network namespaces for the capped profiles), spawn the workload
 * on the source, measure its progress rate for a warm-up window, start the migration, sample the
 * workload and both agents' CPU while it runs, and collect the source's final statistics.
 *
 * <p>Sampling sleeps for fixed periods on purpose: the windows are the measurement.
 */
public final class ScenarioRunner {
    static final long SEED = 42;
    static final long SAMPLE_MS = 100;
    static final long AGENT_START_TIMEOUT_MS = 60_000;

    private final ScenarioFile file;
    private final String fileName;
    private final String classpath;
    private final Path logDir;
    private final Consumer<String> log;

    public ScenarioRunner(ScenarioFile file, String fileName, String classpath, Path logDir, Consumer<String> log) {
        this.file = file;
        this.fileName = fileName;
        this.classpath = classpath;
        this.logDir = logDir;
        this.log = log;
    }

    /** Why no scenario can run with this classpath (an agent main is missing), or null. */
    public static String agentsMissing() {
        for (String main : List.of(AgentProcess.SOURCE_MAIN, AgentProcess.TARGET_MAIN)) {
            try {
                Class.forName(main, false, ScenarioRunner.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                return "agent main " + main + " is not in this build";
            }
        }
        return null;
    }

    public RunResult run(Scenario s) {
        String missing = agentsMissing();
        if (missing != null) {
            return RunResult.skipped(fileName, s, "SKIPPED", missing);
        }
        String netWhy = NetworkProfile.unavailableReason(s.bandwidth());
        if (netWhy != null) {
            return RunResult.skipped(fileName, s, "SKIPPED", netWhy);
        }
        try (NetworkProfile net = NetworkProfile.open(s.bandwidth());
                AgentProcess target = AgentProcess.start("target", AgentProcess.TARGET_MAIN, net.targetPrefix(),
                        net.targetBind(), file.heap(), classpath, logDir.resolve(s.id() + ".target.log"),
                        AGENT_START_TIMEOUT_MS);
                AgentProcess source = AgentProcess.start("source", AgentProcess.SOURCE_MAIN, net.sourcePrefix(),
                        net.sourceBind(), file.heap(), classpath, logDir.resolve(s.id() + ".source.log"),
                        AGENT_START_TIMEOUT_MS)) {
            ManagedChannel src = NettyChannelBuilder.forAddress(net.sourceControlHost(), source.port()).usePlaintext().build();
            ManagedChannel tgt = NettyChannelBuilder.forAddress(net.targetControlHost(), target.port()).usePlaintext().build();
            try {
                return measure(s, net, source, target, AgentControlGrpc.newBlockingStub(src),
                        AgentControlGrpc.newBlockingStub(tgt));
            } finally {
                src.shutdownNow();
                tgt.shutdownNow();
                src.awaitTermination(5, TimeUnit.SECONDS);
                tgt.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (IOException | RuntimeException e) {
            return RunResult.skipped(fileName, s, "FAILED", e.getClass().getSimpleName() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return RunResult.skipped(fileName, s, "FAILED", "interrupted");
        }
    }

    private RunResult measure(Scenario s, NetworkProfile net, AgentProcess source, AgentProcess target,
            AgentControlGrpc.AgentControlBlockingStub src, AgentControlGrpc.AgentControlBlockingStub tgt)
            throws InterruptedException {
        long ps = s.pageSize();
        WorkloadShape.Spawn spawn = s.workload().spawn(s.memoryBytes(), ps, s.threads());
        ProcessInfo p = src.withDeadlineAfter(60, TimeUnit.SECONDS).spawn(SpawnRequest.newBuilder()
                .setWorkload(spawn.workload()).setMemoryBytes(s.memoryBytes()).setGranule(granule(s.granule()))
                .setSeed(SEED).setThreads(s.threads()).setWriteRateBytesPerSec(spawn.perThreadBytesPerSec())
                .setSoftDirty(s.tracker().equals("soft-dirty")).putAllParameters(spawn.parameters()).build());
        int pid = p.getPid();
        long bytesPerStep = Long.parseLong(spawn.parameters().getOrDefault("writeBytes", "64"));
        if (spawn.workload().equals("idle")) {
            bytesPerStep = 0;
        }

        // Warm-up: the first half lets the agent's JIT settle, the second half measures the
        // workload's own rate before anything is tracked.
        Thread.sleep(file.warmup() / 2);
        Sample w0 = sample(src, pid);
        Thread.sleep(file.warmup() - file.warmup() / 2);
        Sample w1 = sample(src, pid);
        double baseline = w1.rate(w0);

        long srcCpu0 = source.cpuMillis();
        long tgtCpu0 = target.cpuMillis();
        long t0 = System.nanoTime();
        MigrationInfo started;
        try {
            started = src.withDeadlineAfter(60, TimeUnit.SECONDS).startMigration(StartMigrationRequest.newBuilder()
                    .setPid(pid).setTarget(net.migrationHost() + ":" + target.port()).setMode(mode(s.mode()))
                    .setTracker(tracker(s.tracker())).setPolicy(MigrationPolicy.newBuilder()
                            .setDowntimeLimitMs(s.downtimeLimitMs()).setOverallTimeoutMs(file.timeout()).build())
                    .build());
        } catch (StatusRuntimeException e) {
            Status.Code c = e.getStatus().getCode();
            String d = String.valueOf(e.getStatus().getDescription());
            boolean unsupported = c == Status.Code.UNIMPLEMENTED || ((c == Status.Code.INVALID_ARGUMENT
                    || c == Status.Code.FAILED_PRECONDITION) && d.toLowerCase(Locale.ROOT).contains("mode"));
            return RunResult.skipped(fileName, s, unsupported ? "SKIPPED" : "FAILED",
                    (unsupported ? "mode not supported: " : "StartMigration refused: ") + c + " " + d);
        }
        String id = started.getMigrationId();

        // Progress on the source while it still runs the workload (pre-copy rounds).
        Sample m0 = sample(src, pid);
        Sample mLast = m0;
        MigrationInfo info = started;
        long deadline = t0 + TimeUnit.MILLISECONDS.toNanos(file.timeout() + 30_000);
        boolean timedOut = false;
        while (!terminal(info.getSourcePhase())) {
            if (System.nanoTime() > deadline) {
                timedOut = true;
                try {
                    src.withDeadlineAfter(10, TimeUnit.SECONDS).cancelMigration(
                            CancelMigrationRequest.newBuilder().setMigrationId(id).build());
                } catch (StatusRuntimeException ignored) {
                    // Already past switchover: the final state is read below either way.
                }
                break;
            }
            Thread.sleep(SAMPLE_MS);
            info = src.withDeadlineAfter(10, TimeUnit.SECONDS).getMigration(
                    GetMigrationRequest.newBuilder().setMigrationId(id).build());
            if (info.getSourcePhase() == SourcePhase.SOURCE_PHASE_ITERATING) {
                Sample now = sample(src, pid);
                if (now.steps() >= 0) {
                    mLast = now;
                }
            }
        }
        long wallMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        long srcCpu = source.cpuMillis() - srcCpu0;
        long tgtCpu = target.cpuMillis() - tgtCpu0;
        info = src.withDeadlineAfter(10, TimeUnit.SECONDS).getMigration(
                GetMigrationRequest.newBuilder().setMigrationId(id).build());

        boolean resumed = false;
        if (info.getSourcePhase() == SourcePhase.SOURCE_PHASE_COMPLETED) {
            Optional<ProcessInfo> a = targetProcess(tgt, id);
            Thread.sleep(300);
            Optional<ProcessInfo> b = targetProcess(tgt, id);
            resumed = a.isPresent() && b.isPresent() && b.get().getProgress() > a.get().getProgress();
        }
        double during = mLast.nanos() > m0.nanos() + TimeUnit.MILLISECONDS.toNanos(200) ? mLast.rate(m0) : Double.NaN;
        String status = timedOut ? "TIMEOUT" : switch (info.getSourcePhase()) {
            case SOURCE_PHASE_COMPLETED -> "COMPLETED";
            case SOURCE_PHASE_CANCELLED -> "CANCELLED";
            default -> "FAILED";
        };
        MigrationStats st = info.getStats();
        String reason = info.getFailure().isEmpty() ? st.getLastDecisionReason() : info.getFailure();
        if (status.equals("FAILED") && reason.contains("policy aborted")) {
            // The convergence policy gave up (dirty set growing, too many rounds, amplification,
            // timeout): a result of the scenario, KubeVirt's "failed" migration, not a broken run.
            status = "ABORTED";
        }
        if (!status.equals("COMPLETED") && !s.mode().equals("precopy") && reason.contains("not supported")) {
            // The agent accepted the mode but cannot finish it: a cell of the matrix this build lacks.
            status = "SKIPPED";
            reason = "mode not supported: " + reason;
        }
        TrackerCost tc = st.getTrackerCost();
        DowntimeBreakdown dt = st.getDowntimeBreakdown();
        List<RunResult.Round> rounds = new ArrayList<>();
        for (var r : st.getPerRoundList()) {
            rounds.add(new RunResult.Round(r.getRound(), r.getFinal(), TimeUnit.NANOSECONDS.toMillis(r.getDurationNs()),
                    r.getNormalPages(), r.getZeroPages(), r.getTransferredBytes(), r.getDirtyPagesAfter(),
                    r.getDirtyRateBytesPerSec(), r.getBandwidthBytesPerSec(), r.getExpectedDowntimeMs(),
                    r.getThrottlePercent(), r.getCollectNs() / 1e6, r.getDecision().name()));
        }
        double stepsToBytes = bytesPerStep;
        return new RunResult(s.id(), fileName, (s.memoryBytes() >> 20) + "MiB", s.memoryBytes(), s.workloadName(),
                s.threads(), s.granule(), s.tracker(), s.mode(), s.bandwidth(), s.downtimeLimitMs(), s.repetition(),
                status, reason, st.getTotalTimeMs(), st.getSetupTimeMs(), st.getDowntimeMs(),
                st.getExpectedDowntimeMs(), st.getRounds(), st.getTransferredBytes(), st.getPrecopyBytes(),
                st.getDowntimeBytes(), st.getPostcopyBytes(), st.getNormalPages(), st.getZeroPages(),
                st.getMemoryBytes(), st.getAmplification(), st.getMbps(), st.getBandwidthBytesPerSec(),
                st.getLastDecision().name(), st.getThrottlePercent(),
                Math.round(baseline * stepsToBytes), baseline, during,
                Double.isNaN(during) || baseline <= 0 ? Double.NaN : 100.0 * (baseline - during) / baseline,
                msPerGb(baseline * stepsToBytes), msPerGb(during * stepsToBytes),
                srcCpu, tgtCpu, 100.0 * srcCpu / wallMs, 100.0 * tgtCpu / wallMs,
                tc.getTraps(), tc.getTrapNs(), tc.getCollects(), tc.getCollectNs(), tc.getPageTablesPopulated(),
                tc.getPagesReported(), tc.getFalsePositivePages(), dt.getFreezeNs(), dt.getFinalRoundNs(),
                dt.getStateCaptureNs(), dt.getStateSendNs(), dt.getCompleteNs(),
                !st.getSourceDigest().isEmpty() && st.getSourceDigest().equals(st.getTargetDigest()), resumed, rounds);
    }

    private static double msPerGb(double bytesPerSec) {
        return bytesPerSec > 0 && !Double.isNaN(bytesPerSec) ? 1e3 * 1e9 / bytesPerSec : Double.NaN;
    }

    private record Sample(long steps, long nanos) {
        double rate(Sample earlier) {
            long dn = nanos - earlier.nanos;
            return dn <= 0 || steps < 0 || earlier.steps < 0 ? Double.NaN : (steps - earlier.steps) * 1e9 / dn;
        }
    }

    private static Sample sample(AgentControlGrpc.AgentControlBlockingStub src, int pid) {
        long now = System.nanoTime();
        for (ProcessInfo p : src.withDeadlineAfter(10, TimeUnit.SECONDS).listProcesses(
                ListProcessesRequest.getDefaultInstance()).getProcessesList()) {
            if (p.getPid() == pid) {
                return new Sample(p.getProgress(), now);
            }
        }
        return new Sample(-1, now);
    }

    private static Optional<ProcessInfo> targetProcess(AgentControlGrpc.AgentControlBlockingStub tgt, String migrationId) {
        return tgt.withDeadlineAfter(10, TimeUnit.SECONDS).listProcesses(ListProcessesRequest.getDefaultInstance())
                .getProcessesList().stream().filter(p -> p.getMigrationId().equals(migrationId)).findFirst();
    }

    private static boolean terminal(SourcePhase p) {
        return p == SourcePhase.SOURCE_PHASE_COMPLETED || p == SourcePhase.SOURCE_PHASE_FAILED
                || p == SourcePhase.SOURCE_PHASE_CANCELLED;
    }

    static Granule granule(String g) {
        return switch (g) {
            case "4K" -> Granule.GRANULE_4K;
            case "16K" -> Granule.GRANULE_16K;
            case "64K" -> Granule.GRANULE_64K;
            default -> throw new IllegalArgumentException("granule '" + g + "'");
        };
    }

    static MigrationMode mode(String m) {
        return switch (m) {
            case "precopy" -> MigrationMode.MIGRATION_MODE_PRECOPY;
            case "postcopy" -> MigrationMode.MIGRATION_MODE_POSTCOPY;
            case "hybrid" -> MigrationMode.MIGRATION_MODE_HYBRID;
            default -> throw new IllegalArgumentException("mode '" + m + "'");
        };
    }

    static Tracker tracker(String t) {
        return switch (t) {
            case "uffd-wp-async" -> Tracker.TRACKER_UFFD_WP_ASYNC;
            case "soft-dirty" -> Tracker.TRACKER_SOFT_DIRTY;
            case "uffd-wp-sync" -> Tracker.TRACKER_UFFD_WP_SYNC;
            default -> throw new IllegalArgumentException("tracker '" + t + "'");
        };
    }
}
