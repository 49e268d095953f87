package dev.pagehop.source;

import dev.pagehop.migrate.MigrationPolicy;
import dev.pagehop.migrate.PolicyWire;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.ProcessOptions;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.workload.RateLimit;
import dev.pagehop.workload.WorkloadSpec;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything a source agent holds: its processes, its migrations (kept after they end, for
 * GetMigration), the way it reaches targets, and its limits.
 */
final class SourceState {
    private static final Logger LOG = LoggerFactory.getLogger(SourceState.class);
    private static final int ENDED_KEPT = 256;
    /** Thread ids are pid, pid + 1, ...: pids are spaced so threads never collide. */
    private static final int PID_STRIDE = 1024;

    private final String name;
    private final SourceConfig config;
    private final SourceMigration.Settings settings;
    private final Function<String, ManagedChannel> channels;
    private final SourceMetrics metrics;
    private final Map<Integer, ManagedProcess> processes = new ConcurrentSkipListMap<>();
    private final Map<String, SourceMigration> migrations = new LinkedHashMap<>();
    private final Map<String, Thread> threads = new ConcurrentHashMap<>();
    private final ProgressTicker ticker = new ProgressTicker();
    private int nextPid = 1000;

    SourceState(String name, SourceConfig config, SourceMigration.Settings settings,
            Function<String, ManagedChannel> channels, SourceMetrics metrics) {
        this.name = name;
        this.config = config;
        this.settings = settings;
        this.channels = channels;
        this.metrics = metrics;
    }

    String name() {
        return name;
    }

    SourceMigration.Settings settings() {
        return settings;
    }

    ProgressTicker progressTicker() {
        return ticker;
    }

    ManagedProcess spawn(SpawnRequest r) {
        Granule g = PolicyWire.granule(r.getGranule());
        int threadCount = r.getThreads() == 0 ? 1 : r.getThreads();
        if (threadCount > config.maxThreadsPerProcess()) {
            throw Status.INVALID_ARGUMENT.withDescription(threadCount + " threads; this agent allows at most "
                    + config.maxThreadsPerProcess()).asRuntimeException();
        }
        if (r.getMemoryBytes() % g.pageSize() != 0) {
            throw Status.INVALID_ARGUMENT.withDescription("memory_bytes " + r.getMemoryBytes()
                    + " is not a multiple of the " + g.pageSize() + "-byte page").asRuntimeException();
        }
        if (r.getMemoryBytes() > config.maxProcessMemoryBytes()) {
            throw Status.RESOURCE_EXHAUSTED.withDescription("memory_bytes " + r.getMemoryBytes()
                    + " is over this agent's limit of " + config.maxProcessMemoryBytes()).asRuntimeException();
        }
        WorkloadSpec spec;
        try {
            spec = WorkloadSpec.of(r.getWorkload(), r.getSeed() == 0 ? 1 : r.getSeed());
            if (r.getMemoryBytes() > 0) {
                spec = spec.with("pagesPerThread", Math.max(1, r.getMemoryBytes() / g.pageSize() / threadCount));
            }
            for (Map.Entry<String, String> e : r.getParametersMap().entrySet()) {
                spec = spec.with(e.getKey(), e.getValue());
            }
        } catch (IllegalArgumentException e) {
            throw Status.INVALID_ARGUMENT.withDescription("workload: " + e.getMessage()).asRuntimeException();
        }
        int pid;
        synchronized (this) {
            pid = nextPid;
            nextPid += PID_STRIDE;
        }
        MemoryManager mm = MemoryManager.create(MmConfig.arm64(g).withSoftDirty(r.getSoftDirty()));
        ProcessOptions opts = ProcessOptions.defaults();
        if (r.getWriteRateBytesPerSec() > 0) {
            opts = opts.withRate(RateLimit.bytesPerSecond(r.getWriteRateBytesPerSec()));
        }
        EmulatedProcess p;
        try {
            p = EmulatedProcess.spawn(pid, mm, spec, threadCount, opts);
        } catch (RuntimeException e) {
            mm.close();
            throw Status.INVALID_ARGUMENT.withDescription("workload " + spec + " does not start: " + e.getMessage())
                    .asRuntimeException();
        }
        p.start();
        ManagedProcess mp = new ManagedProcess(p, g, r.getMemoryBytes(), threadCount, r.getSoftDirty());
        processes.put(pid, mp);
        LOG.info("spawned process {}: {} with {} threads, {} granule", pid, spec, threadCount, g);
        return mp;
    }

    /** Adopts a process built elsewhere (tests, benchmarks) and returns it. */
    ManagedProcess adopt(EmulatedProcess p, Granule g, long memoryBytes, boolean softDirty) {
        ManagedProcess mp = new ManagedProcess(p, g, memoryBytes, p.threads().size(), softDirty);
        processes.put(p.pid(), mp);
        synchronized (this) {
            nextPid = Math.max(nextPid, p.pid() + PID_STRIDE);
        }
        return mp;
    }

    List<ManagedProcess> processes() {
        return new ArrayList<>(processes.values());
    }

    ManagedProcess requireProcess(int pid) {
        ManagedProcess p = processes.get(pid);
        if (p == null) {
            throw Status.NOT_FOUND.withDescription("no process " + pid + " on this agent").asRuntimeException();
        }
        return p;
    }

    ManagedProcess kill(int pid) {
        ManagedProcess p = requireProcess(pid);
        if (p.migrating()) {
            throw Status.FAILED_PRECONDITION.withDescription("process " + pid + " is migrating (" + p.migrationId()
                    + "); cancel the migration first").asRuntimeException();
        }
        processes.remove(pid);
        p.process.kill();
        p.process.close();
        p.process.mm().close();
        return p;
    }

    SourceMigration startMigration(int pid, String target, MigrationPolicy policy, String tracker, boolean leavePaused,
            boolean keepSource) {
        ManagedProcess p = requireProcess(pid);
        String id = UUID.randomUUID().toString();
        if (!p.claim(id)) {
            throw Status.FAILED_PRECONDITION.withDescription("process " + pid + (p.migrated() ? " has already migrated"
                    : " is already migrating (" + p.migrationId() + ")")).asRuntimeException();
        }
        ManagedChannel channel;
        ManagedChannel urgentChannel;
        try {
            channel = channels.apply(target);
            // Connects only if the migration goes post-copy (channels connect on their first call).
            urgentChannel = channels.apply(target);
        } catch (RuntimeException e) {
            p.release(false);
            throw Status.INVALID_ARGUMENT.withDescription("target '" + target + "': " + e.getMessage()).asRuntimeException();
        }
        SourceMigration m = new SourceMigration(id, p, target, channel, urgentChannel, policy, tracker, leavePaused,
                keepSource, settings, metrics, () -> release(p));
        synchronized (this) {
            migrations.put(id, m);
            trim();
        }
        Thread t = new Thread(() -> {
            try {
                m.run();
            } finally {
                channel.shutdownNow();
                urgentChannel.shutdownNow();
                threads.remove(id);
            }
        }, "migration-" + id.substring(0, 8));
        threads.put(id, t);
        t.start();
        return m;
    }

    private void release(ManagedProcess p) {
        processes.remove(p.pid());
        p.process.kill();
        p.process.close();
        p.process.mm().close();
    }

    private void trim() {
        while (migrations.size() > ENDED_KEPT) {
            String oldest = null;
            for (SourceMigration m : migrations.values()) {
                if (m.phase().terminal()) {
                    oldest = m.id;
                    break;
                }
            }
            if (oldest == null) {
                return;
            }
            migrations.remove(oldest);
        }
    }

    synchronized SourceMigration migration(String id) {
        return migrations.get(id);
    }

    SourceMigration requireMigration(String id) {
        SourceMigration m = migration(id);
        if (m == null) {
            throw Status.NOT_FOUND.withDescription("no migration '" + id + "' on this agent").asRuntimeException();
        }
        return m;
    }

    synchronized List<SourceMigration> migrations() {
        return new ArrayList<>(migrations.values());
    }

    /** Waits for a migration's thread to end (tests, shutdown). */
    boolean awaitMigration(String id, long timeoutMs) throws InterruptedException {
        Thread t = threads.get(id);
        if (t != null) {
            t.join(timeoutMs);
            return !t.isAlive();
        }
        return true;
    }

    /**
     * Graceful shutdown: cancels every migration that can still be cancelled (the processes keep
     * running until they are stopped below), waits for their threads, then stops the processes.
     */
    void shutdown(long timeoutMs) throws InterruptedException {
        for (SourceMigration m : migrations()) {
            if (!m.cancel()) {
                m.abandonPostcopy("the source agent shuts down and releases the frozen image");
            }
        }
        long deadline = System.currentTimeMillis() + timeoutMs;
        for (Thread t : new ArrayList<>(threads.values())) {
            t.join(Math.max(1, deadline - System.currentTimeMillis()));
        }
        ticker.close();
        for (ManagedProcess p : processes()) {
            p.process.close();
            p.process.mm().close();
        }
        processes.clear();
    }

    /** Sends watchers their progress events from one scheduler thread. */
    static final class ProgressTicker implements AutoCloseable {
        private final ScheduledExecutorService exec = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "watch-progress");
            t.setDaemon(true);
            return t;
        });

        void register(ControlService.Watcher w, long intervalMs) {
            long period = Math.max(50, intervalMs);
            java.util.concurrent.atomic.AtomicReference<java.util.concurrent.ScheduledFuture<?>> f =
                    new java.util.concurrent.atomic.AtomicReference<>();
            f.set(exec.scheduleAtFixedRate(() -> {
                if (!w.progress() && f.get() != null) {
                    f.get().cancel(false);
                }
            }, period, period, TimeUnit.MILLISECONDS));
        }

        @Override
        public void close() {
            exec.shutdownNow();
        }
    }
}
