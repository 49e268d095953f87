package dev.pagehop.target;

import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.proc.EmulatedProcess;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.LongSupplier;

/**
 * Everything a target agent holds: incoming migrations (kept after they end, for listing) and the
 * processes they brought, with the agent's limits, fault points and clock.
 */
final class TargetState {
    /** Ended migrations kept for listing; older ones are forgotten first. */
    private static final int ENDED_KEPT = 256;

    private final TargetConfig config;
    private final FaultInjector faults;
    private final Runnable killSwitch;
    private final LongSupplier nanoTime;
    private final Map<String, TargetMigration> migrations = new LinkedHashMap<>();
    private final Map<Integer, Received> processes = new ConcurrentSkipListMap<>();
    private final Counter completed;
    private final Counter failed;
    private final PostcopyMeters postcopyMeters;

    record Received(EmulatedProcess process, TargetMigration migration) {
    }

    TargetState(TargetConfig config, FaultInjector faults, Runnable killSwitch, LongSupplier nanoTime,
            MeterRegistry registry) {
        this.config = config;
        this.faults = faults;
        this.killSwitch = killSwitch;
        this.nanoTime = nanoTime;
        this.completed = Counter.builder("pagehop_target_migrations_completed").description(
                "Incoming migrations whose process runs here").register(registry);
        this.failed = Counter.builder("pagehop_target_migrations_failed").description(
                "Incoming migrations aborted or failed").register(registry);
        this.postcopyMeters = new PostcopyMeters(registry);
        Gauge.builder("pagehop_target_postcopy_pages_missing", this, TargetState::postcopyPagesMissing)
                .description("Pages post-copy migrations still miss (threads fault on them)").register(registry);
        Gauge.builder("pagehop_target_processes", processes, Map::size).description("Processes received and held")
                .register(registry);
        Gauge.builder("pagehop_target_migrations_active", this, TargetState::activeCount)
                .description("Incoming migrations in progress").register(registry);
        Gauge.builder("pagehop_target_memory_held_bytes", this, TargetState::heldBytes).description(
                "Process memory held against the budget: resident memory of the processes running here plus "
                        + "the mapped size of the migrations arriving").register(registry);
        Gauge.builder("pagehop_target_memory_budget_bytes", config, TargetConfig::maxTotalMemoryBytes)
                .description("The budget (--max-total-memory); a migration that would go over it is refused")
                .register(registry);
    }

    PostcopyMeters postcopyMeters() {
        return postcopyMeters;
    }

    /** Pages still missing over every post-copy migration in progress. */
    synchronized long postcopyPagesMissing() {
        long n = 0;
        for (TargetMigration m : migrations.values()) {
            PostcopyEndpoint e = m.phase().terminal() ? null : m.postcopy();
            LazyPager p = e == null ? null : e.pager();
            if (p != null) {
                n += p.stats().pagesMissing();
            }
        }
        return n;
    }

    TargetConfig config() {
        return config;
    }

    private volatile LazyPager.Limits postcopyLimits = LazyPager.Limits.defaults()
            .withSourceLostAfterMs(TargetMigration.SOURCE_LOST_AFTER_MS);

    /** The lazy pager's limits for migrations prepared from now on. */
    LazyPager.Limits postcopyLimits() {
        return postcopyLimits;
    }

    void postcopyLimits(LazyPager.Limits limits) {
        this.postcopyLimits = limits;
    }

    FaultInjector faults() {
        return faults;
    }

    Runnable killSwitch() {
        return killSwitch;
    }

    LongSupplier nanoTime() {
        return nanoTime;
    }

    /**
     * Admits a prepared migration (its Prepare layout applied), or refuses it: a duplicate
     * id, one migration too many, or memory over the budget. The budget counts what the processes
     * here hold (resident memory, which can still grow: admission is a promise, not a cap) plus
     * what each arriving migration maps (its latest round's layout). A target that took whatever
     * came until its container's limit would be killed, and every process it runs with it.
     */
    synchronized void admit(TargetMigration m) {
        if (migrations.containsKey(m.id)) {
            m.fail("duplicate id");
            throw Status.ALREADY_EXISTS.withDescription("migration " + m.id + " was already prepared on this target")
                    .asRuntimeException();
        }
        if (activeCount() >= config.maxMigrations()) {
            m.fail("too many migrations");
            throw Status.RESOURCE_EXHAUSTED.withDescription("migration " + m.id + ": this target already receives "
                    + activeCount() + " migrations, its limit").asRuntimeException();
        }
        Held h = held();
        long mappedBytes = m.mappedBytes();
        long after = h.bytes() + mappedBytes;
        if (after > config.maxTotalMemoryBytes() || after < 0) {
            m.fail("over the memory budget");
            throw Status.RESOURCE_EXHAUSTED.withDescription(String.format("migration %s: %d bytes mapped would bring "
                    + "this target's process memory to %d bytes (%d processes running here hold %d bytes resident, %d "
                    + "migrations arriving map %d bytes), over its limit of %d bytes (--max-total-memory)",
                    m.id, mappedBytes, after, h.running(), h.residentBytes(), h.arriving(), h.arrivingBytes(),
                    config.maxTotalMemoryBytes())).asRuntimeException();
        }
        migrations.put(m.id, m);
        while (migrations.size() > ENDED_KEPT + config.maxMigrations()) {
            String oldest = null;
            for (TargetMigration x : migrations.values()) {
                if (x.phase().terminal()) {
                    oldest = x.id;
                    break;
                }
            }
            if (oldest == null) {
                break;
            }
            migrations.remove(oldest);
        }
    }

    /** What counts against the memory budget now. */
    private record Held(int running, long residentBytes, int arriving, long arrivingBytes) {
        long bytes() {
            return residentBytes + arrivingBytes;
        }
    }

    private synchronized Held held() {
        long arrivingBytes = 0;
        int arriving = 0;
        for (TargetMigration x : migrations.values()) {
            if (!x.phase().terminal()) {
                arrivingBytes += x.mappedBytes();
                arriving++;
            }
        }
        long resident = 0;
        int running = 0;
        for (Received r : processes.values()) {
            // A post-copy process runs here before its migration ends: it counts as arriving.
            if (r.migration() == null || r.migration().phase().terminal()) {
                resident += dev.pagehop.migrate.ProcessWire.residentBytes(r.process().mm());
                running++;
            }
        }
        return new Held(running, resident, arriving, arrivingBytes);
    }

    double heldBytes() {
        return held().bytes();
    }

    synchronized TargetMigration migration(String id) {
        return migrations.get(id);
    }

    synchronized List<TargetMigration> migrations() {
        return new ArrayList<>(migrations.values());
    }

    synchronized int activeCount() {
        int n = 0;
        for (TargetMigration m : migrations.values()) {
            if (!m.phase().terminal()) {
                n++;
            }
        }
        return n;
    }

    /** Lists the committed migration's process here; a repeated Commit finds it listed already. */
    int adoptProcess(TargetMigration m) {
        EmulatedProcess p = m.process();
        Received before = processes.putIfAbsent(p.pid(), new Received(p, m));
        if (before == null) {
            completed.increment();
        }
        return p.pid();
    }

    void countFailure() {
        failed.increment();
    }

    List<Received> processes() {
        return new ArrayList<>(processes.values());
    }

    Received process(int pid) {
        return processes.get(pid);
    }

    Received removeProcess(int pid) {
        return processes.remove(pid);
    }

    /** Graceful shutdown: aborts every migration still in progress, stops every process. */
    void shutdown(String reason) {
        for (TargetMigration m : migrations()) {
            if (m.shutdown(reason)) {
                failed.increment();
            }
        }
        for (Received r : processes.values()) {
            r.process().close();
            r.process().mm().close();
        }
        processes.clear();
    }
}
