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
                .description("Page bytes carried per second in the last round").register(r);
        Gauge.builder("pagehop_migration_expected_downtime_milliseconds", expectedDowntimeMs, AtomicLong::get)
                .description("pending bytes / bandwidth at the last decision").register(r);
        Gauge.builder("pagehop_migration_throttle_percent", throttlePercent, AtomicLong::get)
                .description("Workload throttle applied by auto-converge").register(r);
        Gauge.builder("pagehop_migrations_active", active, AtomicLong::get).description("Migrations in progress")
                .register(r);
    }
}
