package dev.pagehop.source;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The source agent's Micrometer meters, named after KubeVirt's {@code kubevirt_vmi_migration_*}
 * with our prefix (METRICS.md §5.4): Prometheus sees e.g.
 * {@code pagehop_migration_data_processed_bytes_total} and {@code pagehop_migration_downtime_seconds}.
 * Gauges show the migration that reported last.
 */
final class SourceMetrics {
    final Counter dataProcessedBytes;
    final Counter normalPages;
    final Counter zeroPages;
    final Counter succeeded;
    final Counter failed;
    final Counter cancelled;
    final Counter rounds;
    final Counter trackerTrapNanos;
    final Counter trackerCollectNanos;
    final Timer downtime;
    final Timer totalTime;
    final Timer setupTime;
    final DistributionSummary roundsPerMigration;
    final AtomicLong remainingBytes = new AtomicLong();
    final AtomicLong dirtyRateBytes = new AtomicLong();
    final AtomicLong transferRateBytes = new AtomicLong();
    final AtomicLong expectedDowntimeMs = new AtomicLong();
    final AtomicLong throttlePercent = new AtomicLong();
    final AtomicLong active = new AtomicLong();
    final Counter postcopyBytes;
    final Counter postcopyFaults;
    final Counter postcopyPagesOnDemand;
    final Counter postcopyPagesBackground;
    final Timer postcopyBlocktime;
    final Timer postcopyTime;
    final AtomicLong postcopyFaultLatencyP50Ns = new AtomicLong();
    final AtomicLong postcopyFaultLatencyP99Ns = new AtomicLong();
    final AtomicLong postcopyFaultLatencyMaxNs = new AtomicLong();
    /**
     * The Switchover and Commit calls of this agent's last completed pre-copy migration, in ns
     * (-1 before the first): the next migration's estimate of that part of its downtime.
     */
    final AtomicLong lastSwitchoverCallsNs = new AtomicLong(-1);

    SourceMetrics(MeterRegistry r) {
        dataProcessedBytes = Counter.builder("pagehop_migration_data_processed_bytes")
                .description("Bytes sent to targets (page data, bitmaps, headers)").register(r);
        normalPages = Counter.builder("pagehop_migration_normal_pages").description("Pages sent with contents")
                .register(r);
        zeroPages = Counter.builder("pagehop_migration_zero_pages").description("Pages sent as zero markers")
                .register(r);
        succeeded = Counter.builder("pagehop_migration_succeeded").description("Migrations completed").register(r);
        failed = Counter.builder("pagehop_migration_failed").description("Migrations failed").register(r);
        cancelled = Counter.builder("pagehop_migration_cancelled").description("Migrations cancelled").register(r);
        rounds = Counter.builder("pagehop_migration_rounds").description("Pre-copy rounds, all migrations")
                .register(r);
        trackerTrapNanos = Counter.builder("pagehop_migration_tracker_trap_nanoseconds")
                .description("Time in dirty-tracker write traps").register(r);
        trackerCollectNanos = Counter.builder("pagehop_migration_tracker_collect_nanoseconds")
                .description("Time in dirty-tracker collects").register(r);
        downtime = Timer.builder("pagehop_migration_downtime").description("Freeze on the source to running on the target")
                .serviceLevelObjectives(Duration.ofMillis(10), Duration.ofMillis(100), Duration.ofMillis(300),
                        Duration.ofSeconds(1))
                .register(r);
        totalTime = Timer.builder("pagehop_migration_total_time").description("StartMigration to completion").register(r);
        setupTime = Timer.builder("pagehop_migration_setup_time").description("StartMigration to round 0").register(r);
        roundsPerMigration = DistributionSummary.builder("pagehop_migration_rounds_per_migration")
                .description("Rounds a completed migration took").register(r);
        Gauge.builder("pagehop_migration_data_remaining_bytes", remainingBytes, AtomicLong::get)
                .description("Bytes still to send").register(r);
        Gauge.builder("pagehop_migration_dirty_memory_rate_bytes", dirtyRateBytes, AtomicLong::get)
                .description("Bytes dirtied per second in the last round").register(r);
        Gauge.builder("pagehop_migration_memory_transfer_rate_bytes", transferRateBytes, AtomicLong::get)
                .description("Bytes put on the wire per second in the last round").register(r);
        Gauge.builder("pagehop_migration_expected_downtime_milliseconds", expectedDowntimeMs, AtomicLong::get)
                .description("pending bytes / bandwidth at the last decision").register(r);
        Gauge.builder("pagehop_migration_throttle_percent", throttlePercent, AtomicLong::get)
                .description("Workload throttle applied by auto-converge").register(r);
        Gauge.builder("pagehop_migrations_active", active, AtomicLong::get).description("Migrations in progress")
                .register(r);
        postcopyBytes = Counter.builder("pagehop_migration_postcopy_bytes")
                .description("Bytes served to targets in post-copy (QEMU postcopy-bytes)").register(r);
        postcopyFaults = Counter.builder("pagehop_migration_postcopy_faults")
                .description("Post-copy faults the targets handled, completed migrations (QEMU postcopy-requests)")
                .register(r);
        postcopyPagesOnDemand = Counter.builder("pagehop_migration_postcopy_pages").tag("how", "on_demand")
                .description("Pages installed on targets in post-copy, completed migrations").register(r);
        postcopyPagesBackground = Counter.builder("pagehop_migration_postcopy_pages").tag("how", "background")
                .description("Pages installed on targets in post-copy, completed migrations").register(r);
        postcopyBlocktime = Timer.builder("pagehop_migration_postcopy_blocktime")
                .description("Per completed post-copy: time every thread was blocked at once (QEMU postcopy-blocktime)")
                .register(r);
        postcopyTime = Timer.builder("pagehop_migration_postcopy_time")
                .description("Per completed post-copy: switchover to the last page installed").register(r);
        Gauge.builder("pagehop_migration_postcopy_fault_latency_p50_seconds", postcopyFaultLatencyP50Ns, n -> n.get() / 1e9)
                .description("Median post-copy fault round trip of the last completed post-copy").register(r);
        Gauge.builder("pagehop_migration_postcopy_fault_latency_p99_seconds", postcopyFaultLatencyP99Ns, n -> n.get() / 1e9)
                .description("99th percentile post-copy fault round trip of the last completed post-copy").register(r);
        Gauge.builder("pagehop_migration_postcopy_fault_latency_max_seconds", postcopyFaultLatencyMaxNs, n -> n.get() / 1e9)
                .description("Slowest post-copy fault round trip of the last completed post-copy").register(r);
    }

    /** A post-copy completed with these figures (the target's final ones plus what this source served). */
    void postcopyCompleted(dev.pagehop.proto.types.v1.PostcopyStats s) {
        postcopyBytes.increment(s.getSourceBytes());
        postcopyFaults.increment(s.getFaults());
        postcopyPagesOnDemand.increment(s.getPagesOnDemand());
        postcopyPagesBackground.increment(s.getPagesBackground());
        postcopyBlocktime.record(Duration.ofNanos(s.getAllThreadsBlockedNs()));
        postcopyTime.record(Duration.ofNanos(s.getDurationNs()));
        postcopyFaultLatencyP50Ns.set(s.getFaultLatencyP50Ns());
        postcopyFaultLatencyP99Ns.set(s.getFaultLatencyP99Ns());
        postcopyFaultLatencyMaxNs.set(s.getFaultLatencyMaxNs());
    }
}
