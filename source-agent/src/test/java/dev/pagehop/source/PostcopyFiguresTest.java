package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.proto.migration.v1.MigrationGrpc;
import dev.pagehop.proto.migration.v1.StatusResponse;
import dev.pagehop.proto.types.v1.PostcopyStats;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The source's post-copy figures: what it keeps of the target's reports, and what it exports to /metrics. */
class PostcopyFiguresTest {
    private final ManagedChannel channel = InProcessChannelBuilder.forName("nobody-" + System.nanoTime()).build();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void tearDown() {
        channel.shutdownNow();
        scheduler.shutdownNow();
    }

    @Test
    void polledFiguresCarryTheSourcesOwnCountsAndAStatusWithoutFiguresChangesNothing() {
        PostcopyServer server = new PostcopyServer("m-1", 4096, (a, dst, off, len) -> { }, MigrationGrpc.newStub(channel),
                scheduler, () -> { });
        PostcopyProgress progress = new PostcopyProgress("m-1", MigrationGrpc.newStub(channel), server, 1_000);
        assertThat(progress.targetReported()).isFalse();
        assertThat(progress.stats()).isEqualTo(PostcopyStats.getDefaultInstance());

        progress.accept(StatusResponse.newBuilder().setPostcopy(PostcopyStats.newBuilder().setFaults(5)
                .setPagesMissingAtStart(100).setPagesMissing(40)).build());
        progress.accept(StatusResponse.getDefaultInstance());
        assertThat(progress.targetReported()).isTrue();
        assertThat(progress.stats().getFaults()).isEqualTo(5);
        assertThat(progress.stats().getPagesMissing()).isEqualTo(40);

        // No completion demand arrived (the server never ran): the last polled figures stay.
        progress.finish();
        assertThat(progress.stats().getFaults()).isEqualTo(5);
        assertThat(progress.stats().getSourceBytes()).isZero();
    }

    @Test
    void aCompletedPostcopyIsCountedInTheSourcesMeters() {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        SourceMetrics m = new SourceMetrics(r);
        PostcopyStats s = PostcopyStats.newBuilder().setFaults(12).setPagesOnDemand(11).setPagesBackground(500)
                .setSourceBytes(2_100_000).setAllThreadsBlockedNs(3_000_000).setDurationNs(90_000_000)
                .setFaultLatencyP50Ns(150_000).setFaultLatencyP99Ns(900_000).setFaultLatencyMaxNs(1_200_000).build();
        m.postcopyCompleted(s);
        m.postcopyCompleted(s);
        assertThat(r.get("pagehop_migration_postcopy_bytes").counter().count()).isEqualTo(4_200_000);
        assertThat(r.get("pagehop_migration_postcopy_faults").counter().count()).isEqualTo(24);
        assertThat(r.get("pagehop_migration_postcopy_pages").tag("how", "on_demand").counter().count()).isEqualTo(22);
        assertThat(r.get("pagehop_migration_postcopy_pages").tag("how", "background").counter().count()).isEqualTo(1000);
        assertThat(r.get("pagehop_migration_postcopy_blocktime").timer().totalTime(TimeUnit.NANOSECONDS))
                .isEqualTo(6_000_000);
        assertThat(r.get("pagehop_migration_postcopy_time").timer().count()).isEqualTo(2);
        assertThat(r.get("pagehop_migration_postcopy_fault_latency_p99_seconds").gauge().value()).isEqualTo(0.0009);
        assertThat(r.get("pagehop_migration_postcopy_fault_latency_max_seconds").gauge().value()).isEqualTo(0.0012);
    }
}
