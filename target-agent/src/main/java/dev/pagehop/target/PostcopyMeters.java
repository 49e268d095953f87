package dev.pagehop.target;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The target's post-copy meters (METRICS.md §8), shared by every migration the agent receives:
 * Prometheus sees {@code pagehop_target_postcopy_fault_latency_seconds} (a histogram, with the
 * 200 µs and 1 ms service levels DESIGN.md §4 aims for), {@code _blocked_seconds} (one sample per
 * thread wait), {@code _faults_total}, {@code _pages_total{how="on_demand"|"background"}} and
 * {@code _bytes_total}.
 */
final class PostcopyMeters {
    /** Meters that go nowhere: for pagers nobody scrapes (tests, tools). */
    static final PostcopyMeters NONE = new PostcopyMeters(new CompositeMeterRegistry());

    private final Counter faults;
    private final Counter pagesOnDemand;
    private final Counter pagesBackground;
    private final Counter bytes;
    private final Timer faultLatency;
    private final Timer blocked;

    PostcopyMeters(MeterRegistry r) {
        faults = Counter.builder("pagehop_target_postcopy_faults")
                .description("Post-copy userfaults read by the lazy pager (not counting faults on pages in flight)")
                .register(r);
        pagesOnDemand = Counter.builder("pagehop_target_postcopy_pages").tag("how", "on_demand")
                .description("Pages installed in post-copy").register(r);
        pagesBackground = Counter.builder("pagehop_target_postcopy_pages").tag("how", "background")
                .description("Pages installed in post-copy").register(r);
        bytes = Counter.builder("pagehop_target_postcopy_bytes").description("Page bytes received in post-copy")
                .register(r);
        faultLatency = Timer.builder("pagehop_target_postcopy_fault_latency")
                .description("Round trip of an urgent page request: demand sent to page installed, thread woken")
                .publishPercentileHistogram()
                .serviceLevelObjectives(Duration.ofNanos(200_000), Duration.ofMillis(1))
                .minimumExpectedValue(Duration.ofNanos(1_000)).maximumExpectedValue(Duration.ofSeconds(10))
                .register(r);
        blocked = Timer.builder("pagehop_target_postcopy_blocked")
                .description("Time a thread waited in a post-copy userfault (QEMU postcopy-vcpu-blocktime, per wait)")
                .register(r);
    }

    void fault() {
        faults.increment();
    }

    void installed(boolean urgent) {
        (urgent ? pagesOnDemand : pagesBackground).increment();
    }

    void received(long byteCount) {
        bytes.increment(byteCount);
    }

    void served(long latencyNs) {
        faultLatency.record(latencyNs, TimeUnit.NANOSECONDS);
    }

    void blocked(long ns) {
        blocked.record(ns, TimeUnit.NANOSECONDS);
    }
}
