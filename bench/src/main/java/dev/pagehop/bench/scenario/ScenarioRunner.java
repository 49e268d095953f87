package dev.pagehop.bench.scenario;

import dev.pagehop.proto.control.v1.AgentControlGrpc;
import dev.pagehop.proto.control.v1.CancelMigrationRequest;
import dev.pagehop.proto.control.v1.DowntimeBreakdown;
import dev.pagehop.proto.control.v1.GetMigrationRequest;
import dev.pagehop.proto.control.v1.KillProcessRequest;
import dev.pagehop.proto.control.v1.ListMigrationsRequest;
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
import dev.pagehop.proto.types.v1.TargetPhase;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Runs scenarios the way QEMU's guestperf does: for each one, spawn the workload on a source
 * agent, measure its progress rate for a warm-up window, migrate it to a target agent, sample the
 * workload and both agents' CPU while it runs, and collect the source's final statistics.
 *
 * <p>The agents are separate processes (inside network namespaces for the capped profiles). They
 * are kept across consecutive runs of the same network profile: after each run the runner kills
 * whatever process is left on either agent, and starts a fresh pair after any broken run or when
 * the profile changes. Each run is watched: a run that shows no progress for the file's
 * {@code stallMs}, or outlives its {@code runTimeoutMs}, has both agents killed and is recorded
 * as FAILED with the reason; the next run gets a fresh pair.
 *
 * <p>Sampling sleeps for fixed periods on purpose: the windows are the measurement.
 */
public final class ScenarioRunner implements AutoCloseable {
    static final long SEED = 42;
    static final long SAMPLE_MS = 100;
    static final long AGENT_START_TIMEOUT_MS = 60_000;

    private final ScenarioFile file;
    private final String fileName;
    private final String classpath;
    private final Path logDir;
    private final Consumer<String> log;
    private final boolean reuseAgents;
    private final String sourceMain;
    private final String targetMain;
    private Pair pair;
    private int pairs;
    /** Agents and namespaces started and not yet closed, so a stopped suite can remove them all. */
    private final java.util.Set<AutoCloseable> live = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    /** Every profile opened; closing one twice is safe, so a stopping suite closes them all again. */
    private final List<NetworkProfile> profiles = new java.util.concurrent.CopyOnWriteArrayList<>();

    public ScenarioRunner(ScenarioFile file, String fileName, String classpath, Path logDir, Consumer<String> log) {
        this(file, fileName, classpath, logDir, log, true);
    }

    public ScenarioRunner(ScenarioFile file, String fileName, String classpath, Path logDir, Consumer<String> log,
            boolean reuseAgents) {
        this(file, fileName, classpath, logDir, log, reuseAgents, AgentProcess.SOURCE_MAIN, AgentProcess.TARGET_MAIN);
    }

    /** With other agent mains: tests run the runner against agents that hang on purpose. */
    ScenarioRunner(ScenarioFile file, String fileName, String classpath, Path logDir, Consumer<String> log,
            boolean reuseAgents, String sourceMain, String targetMain) {
        this.sourceMain = sourceMain;
        this.targetMain = targetMain;
        this.file = file;
        this.fileName = fileName;
        this.classpath = classpath;
        this.logDir = logDir;
        this.log = log;
        this.reuseAgents = reuseAgents;
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

    /**
     * Execution order for {@code runs}: grouped by memory size and network profile (in the order
     * each first appears), so consecutive runs can share one agent pair and one set of namespaces;
     * within a group, the file's order.
     */
    public static List<Scenario> executionOrder(List<Scenario> runs) {
        List<String> groups = new ArrayList<>();
        for (Scenario s : runs) {
            String g = s.memoryBytes() + "/" + s.bandwidth();
            if (!groups.contains(g)) {
                groups.add(g);
            }
        }
        List<Scenario> out = new ArrayList<>(runs);
        out.sort(java.util.Comparator.comparingInt(s -> groups.indexOf(s.memoryBytes() + "/" + s.bandwidth())));
        return out;
    }

    /** The two agents of one network profile, the namespaces they run in, and the channels to them. */
    private final class Pair implements AutoCloseable {
        final String bandwidth;
        final NetworkProfile net;
        final AgentProcess source;
        final AgentProcess target;
        final ManagedChannel srcChannel;
        final ManagedChannel tgtChannel;
        final AgentControlGrpc.AgentControlBlockingStub src;
        final AgentControlGrpc.AgentControlBlockingStub tgt;
        int runs;

        Pair(String bandwidth, int number) throws IOException, InterruptedException {
            this.bandwidth = bandwidth;
            NetworkProfile n = live(NetworkProfile.open(bandwidth));
            profiles.add(n);
            AgentProcess t = null;
            AgentProcess so = null;
            try {
                String name = String.format("agents%02d-%s", number, bandwidth);
                t = live(AgentProcess.start("target", targetMain, n.targetPrefix(), n.targetBind(), file.heap(),
                        classpath, logDir.resolve(name + ".target.log"), AGENT_START_TIMEOUT_MS));
                so = live(AgentProcess.start("source", sourceMain, n.sourcePrefix(), n.sourceBind(), file.heap(),
                        classpath, logDir.resolve(name + ".source.log"), AGENT_START_TIMEOUT_MS));
                if (closed) {
                    throw new IOException("the suite is stopping");
                }
            } catch (IOException | RuntimeException | InterruptedException e) {
                if (t != null) {
                    release(t);
                }
                release(n);
                throw e;
            }
            net = n;
            target = t;
            source = so;
            srcChannel = NettyChannelBuilder.forAddress(net.sourceControlHost(), source.port()).usePlaintext().build();
            tgtChannel = NettyChannelBuilder.forAddress(net.targetControlHost(), target.port()).usePlaintext().build();
            src = AgentControlGrpc.newBlockingStub(srcChannel);
            tgt = AgentControlGrpc.newBlockingStub(tgtChannel);
            if (file.warmUp()) {
                try {
                    warmUp();
                } catch (IOException | RuntimeException | InterruptedException e) {
                    close();
                    throw e;
                }
            }
        }

        /**
         * One unrecorded pre-copy and one post-copy migration of a 64 MiB prefilled writer, so
         * the measured runs find the agents' code paths compiled.
         */
        private void warmUp() throws IOException, InterruptedException {
            for (MigrationMode mode : List.of(MigrationMode.MIGRATION_MODE_PRECOPY, MigrationMode.MIGRATION_MODE_POSTCOPY)) {
                ProcessInfo p = src.withDeadlineAfter(60, TimeUnit.SECONDS).spawn(SpawnRequest.newBuilder()
                        .setWorkload("zipf").setMemoryBytes(64 << 20).setGranule(Granule.GRANULE_4K).setSeed(SEED)
                        .setThreads(1).setWriteRateBytesPerSec(20_000_000).putParameters("hotPages", "12288")
                        .putParameters("skew", "0").putParameters("writeBytes", "4096").putParameters("prefill", "1")
                        .build());
                Thread.sleep(500);
                String id = src.withDeadlineAfter(60, TimeUnit.SECONDS).startMigration(StartMigrationRequest.newBuilder()
                        .setPid(p.getPid()).setTarget(net.migrationHost() + ":" + target.port()).setMode(mode)
                        .build()).getMigrationId();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                MigrationInfo m;
                do {
                    Thread.sleep(SAMPLE_MS);
                    m = src.withDeadlineAfter(10, TimeUnit.SECONDS).getMigration(
                            GetMigrationRequest.newBuilder().setMigrationId(id).build());
                } while (!terminal(m.getSourcePhase()) && System.nanoTime() < deadline);
                if (!terminal(m.getSourcePhase()) || !clean()) {
                    throw new IOException("the agents' warm-up " + mode.name() + " migration " + id + " did not end ("
                            + m.getSourcePhase().name() + ") within 60 s");
                }
            }
        }

        /** SIGKILL to both agents at once: what a hung run gets. */
        void kill() {
            source.kill();
            target.kill();
        }

        /**
         * Kills every process left on either agent, so the next run starts from empty agents.
         * False when that did not work (an agent died, a process is still migrating): the pair is
         * not fit for another run.
         */
        boolean clean() {
            if (!source.alive() || !target.alive()) {
                return false;
            }
            try {
                // The target may still be finishing a migration the source already counts as
                // completed (post-copy's last event, the digest): killing its process first would
                // leave that migration unfinished, counted against the target's limit.
                for (MigrationInfo m : tgt.withDeadlineAfter(10, TimeUnit.SECONDS)
                        .listMigrations(ListMigrationsRequest.getDefaultInstance()).getMigrationsList()) {
                    if (!awaitTargetEnd(tgt, m.getMigrationId(), TARGET_SETTLE_MS)) {
                        log.accept("target migration " + m.getMigrationId() + " still not ended " + TARGET_SETTLE_MS
                                + " ms after the run; starting a fresh pair");
                        return false;
                    }
                }
                for (var stub : List.of(src, tgt)) {
                    for (ProcessInfo p : stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                            .listProcesses(ListProcessesRequest.getDefaultInstance()).getProcessesList()) {
                        stub.withDeadlineAfter(30, TimeUnit.SECONDS).killProcess(
                                KillProcessRequest.newBuilder().setPid(p.getPid()).build());
                    }
                }
                return src.withDeadlineAfter(10, TimeUnit.SECONDS).listProcesses(ListProcessesRequest.getDefaultInstance())
                        .getProcessesCount() == 0 && tgt.withDeadlineAfter(10, TimeUnit.SECONDS)
                                .listProcesses(ListProcessesRequest.getDefaultInstance()).getProcessesCount() == 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (StatusRuntimeException e) {
                log.accept("agents of " + bandwidth + " could not be cleaned after a run (" + e.getStatus()
                        + "); starting a fresh pair");
                return false;
            }
        }

        @Override
        public void close() {
            srcChannel.shutdownNow();
            tgtChannel.shutdownNow();
            try {
                srcChannel.awaitTermination(5, TimeUnit.SECONDS);
                tgtChannel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            release(source);
            release(target);
            release(net);
        }
    }

    /** Agents and namespaces open now (tests check a stopped runner leaves none). */
    int openResources() {
        return live.size();
    }

    private <T extends AutoCloseable> T live(T resource) {
        live.add(resource);
        return resource;
    }

    /** Closes a resource once, whoever gets there first: the run that owns it or a stopping suite. */
    private void release(AutoCloseable resource) {
        if (live.remove(resource)) {
            try {
                resource.close();
            } catch (Exception e) {
                log.accept("closing " + resource + " failed: " + e.getMessage());
            }
        }
    }

    static final long TARGET_SETTLE_MS = 30_000;

    /** Waits until the target's side of {@code migrationId} is in an end phase; false if it is not within {@code ms}. */
    public static boolean awaitTargetEnd(AgentControlGrpc.AgentControlBlockingStub tgt, String migrationId, long ms)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (true) {
            TargetPhase p = tgt.withDeadlineAfter(10, TimeUnit.SECONDS).getMigration(
                    GetMigrationRequest.newBuilder().setMigrationId(migrationId).build()).getTargetPhase();
            if (p == TargetPhase.TARGET_PHASE_RUNNING || p == TargetPhase.TARGET_PHASE_ABORTED
                    || p == TargetPhase.TARGET_PHASE_FAILED) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(SAMPLE_MS);
        }
    }

    /** What a run was doing, for the watchdog's report when it has to kill it. */
    private static final class Progress {
        volatile String step = "starting";
        volatile String migrationId = "";
        volatile long sinceNs = System.nanoTime();

        void step(String s) {
            step = s;
            sinceNs = System.nanoTime();
        }
    }

    public RunResult run(Scenario s) {
        String missing = sourceMain.equals(AgentProcess.SOURCE_MAIN) ? agentsMissing() : null;
        if (missing != null) {
            return RunResult.skipped(fileName, s, "SKIPPED", missing);
        }
        String netWhy = NetworkProfile.unavailableReason(s.bandwidth());
        if (netWhy != null) {
            return RunResult.skipped(fileName, s, "SKIPPED", netWhy);
        }
        double load0 = Machine.loadAverage();
        Pair p;
        try {
            if (pair != null && (!pair.bandwidth.equals(s.bandwidth()) || !reuseAgents)) {
                closePair();
            }
            if (pair == null) {
                pair = new Pair(s.bandwidth(), ++pairs);
            }
            p = pair;
        } catch (IOException | RuntimeException e) {
            return RunResult.skipped(fileName, s, "FAILED", "agents did not start: " + e.getClass().getSimpleName() + ": "
                    + e.getMessage()).withHost(load0, Machine.loadAverage(), -1, 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return RunResult.skipped(fileName, s, "FAILED", "interrupted");
        }
        p.runs++;
        long link0 = p.net.sourceLinkTxBytes();
        Progress progress = new Progress();
        FutureTask<RunResult> task = new FutureTask<>(() -> measure(s, p, progress));
        Thread.ofPlatform().daemon().name("run-" + s.index()).start(task);
        RunResult r;
        try {
            r = task.get(file.runTimeout(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // Killing the agents makes every call the measuring thread is blocked in fail at once.
            p.kill();
            task.cancel(true);
            r = RunResult.skipped(fileName, s, "FAILED", String.format(Locale.ROOT,
                    "run exceeded its limit of %d ms (%s for %d ms, migration %s); both agents killed", file.runTimeout(),
                    progress.step, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - progress.sinceNs),
                    progress.migrationId.isEmpty() ? "not started" : progress.migrationId));
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            r = RunResult.skipped(fileName, s, "FAILED", c.getClass().getSimpleName() + ": " + c.getMessage() + " ("
                    + progress.step + ")");
        } catch (InterruptedException e) {
            p.kill();
            task.cancel(true);
            Thread.currentThread().interrupt();
            r = RunResult.skipped(fileName, s, "FAILED", "interrupted");
        }
        long link1 = p.net.sourceLinkTxBytes();
        int runOnPair = p.runs;
        if (r.broken() || !reuseAgents || !p.clean()) {
            closePair();
        }
        return r.withHost(load0, Machine.loadAverage(), link0 < 0 || link1 < 0 ? -1 : link1 - link0, runOnPair);
    }

    private synchronized void closePair() {
        if (pair != null) {
            pair.close();
            pair = null;
        }
    }

    /**
     * Ends every agent and namespace this runner started, also from another thread while a run
     * is in progress or a pair is starting (a shutdown hook: SIGTERM or Ctrl-C mid-suite).
     */
    @Override
    public void close() {
        closed = true;
        for (AutoCloseable r : List.copyOf(live)) {
            if (r instanceof AgentProcess a) {
                a.kill();
            }
        }
        for (AutoCloseable r : List.copyOf(live)) {
            release(r);
        }
        // A run's own close may be removing a profile right now: wait for it to finish.
        profiles.forEach(NetworkProfile::close);
        synchronized (this) {
            pair = null;
        }
    }

    private RunResult measure(Scenario s, Pair pr, Progress progress) throws InterruptedException {
        AgentControlGrpc.AgentControlBlockingStub src = pr.src;
        AgentControlGrpc.AgentControlBlockingStub tgt = pr.tgt;
        NetworkProfile net = pr.net;
        AgentProcess source = pr.source;
        AgentProcess target = pr.target;
        long ps = s.pageSize();
        progress.step("spawning the workload");
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
        progress.step("warm-up");
        Thread.sleep(file.warmup() / 2);
        Sample w0 = sample(src, pid);
        Thread.sleep(file.warmup() - file.warmup() / 2);
        Sample w1 = sample(src, pid);
        double baseline = w1.rate(w0);

        long srcCpu0 = source.cpuMillis();
        long tgtCpu0 = target.cpuMillis();
        long t0 = System.nanoTime();
        MigrationInfo started;
        progress.step("StartMigration");
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
        progress.migrationId = id;

        // Progress on the source while it still runs the workload (pre-copy rounds).
        Sample m0 = sample(src, pid);
        Sample mLast = m0;
        MigrationInfo info = started;
        long deadline = t0 + TimeUnit.MILLISECONDS.toNanos(file.timeout() + 30_000);
        boolean timedOut = false;
        String hung = null;
        List<Object> seen = List.of();
        long lastChange = System.nanoTime();
        int polls = 0;
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
            progress.step("source phase " + info.getSourcePhase().name());
            if (info.getSourcePhase() == SourcePhase.SOURCE_PHASE_ITERATING) {
                Sample now = sample(src, pid);
                if (now.steps() >= 0) {
                    mLast = now;
                }
            }
            // Anything that moves counts as progress: the phase, bytes, rounds, and once per second
            // the migrated workload's own steps on the target (post-copy faults pages in there).
            MigrationStats st = info.getStats();
            List<Object> now = new ArrayList<>(List.of(info.getSourcePhase(), st.getTransferredBytes(),
                    st.getRemainingBytes(), st.getPostcopyBytes(), st.getRounds(), st.getNormalPages()));
            if (++polls % 10 == 0 || seen.isEmpty()) {
                now.add(targetProcess(tgt, id).map(ProcessInfo::getProgress).orElse(-1L));
            } else if (seen.size() > now.size()) {
                now.add(seen.get(now.size()));
            }
            if (!now.equals(seen)) {
                seen = now;
                lastChange = System.nanoTime();
            } else if (System.nanoTime() - lastChange > TimeUnit.MILLISECONDS.toNanos(file.stall())) {
                hung = String.format(Locale.ROOT, "hung: no progress for %d ms in source phase %s (migration %s, "
                        + "%d bytes sent, %d remaining); both agents killed", file.stall(),
                        info.getSourcePhase().name(), id, st.getTransferredBytes(), st.getRemainingBytes());
                pr.kill();
                break;
            }
        }
        long wallMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        long srcCpu = source.cpuMillis() - srcCpu0;
        long tgtCpu = target.cpuMillis() - tgtCpu0;
        if (hung == null) {
            info = src.withDeadlineAfter(10, TimeUnit.SECONDS).getMigration(
                    GetMigrationRequest.newBuilder().setMigrationId(id).build());
        }

        boolean resumed = false;
        if (hung == null && info.getSourcePhase() == SourcePhase.SOURCE_PHASE_COMPLETED) {
            progress.step("checking the workload runs on the target");
            Optional<ProcessInfo> a = targetProcess(tgt, id);
            Thread.sleep(300);
            Optional<ProcessInfo> b = targetProcess(tgt, id);
            resumed = a.isPresent() && b.isPresent() && b.get().getProgress() > a.get().getProgress();
        }
        double during = mLast.nanos() > m0.nanos() + TimeUnit.MILLISECONDS.toNanos(200) ? mLast.rate(m0) : Double.NaN;
        String status = hung != null ? "FAILED" : timedOut ? "TIMEOUT" : switch (info.getSourcePhase()) {
            case SOURCE_PHASE_COMPLETED -> "COMPLETED";
            case SOURCE_PHASE_CANCELLED -> "CANCELLED";
            default -> "FAILED";
        };
        MigrationStats st = info.getStats();
        String reason = hung != null ? hung : info.getFailure().isEmpty() ? st.getLastDecisionReason() : info.getFailure();
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
                !st.getSourceDigest().isEmpty() && !st.getTargetDigest().isEmpty(),
                !st.getSourceDigest().isEmpty() && st.getSourceDigest().equals(st.getTargetDigest()), resumed, Double.NaN,
                Double.NaN, -1, 0, rounds);
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
