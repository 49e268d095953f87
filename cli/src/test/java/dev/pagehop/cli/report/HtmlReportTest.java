package dev.pagehop.cli.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationStats;
import dev.pagehop.proto.control.v1.RoundStats;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class HtmlReportTest {

    private static MigrationInfo postcopy() {
        return MigrationInfo.newBuilder().setMigrationId("m-<9>").setPid(1).setMode(MigrationMode.MIGRATION_MODE_POSTCOPY)
                .setSourcePhase(SourcePhase.SOURCE_PHASE_COMPLETED)
                .setStats(MigrationStats.newBuilder().setMemoryBytes(8 << 20).setPageSize(4096).setSetupTimeMs(500)
                        .addPerRound(RoundStats.newBuilder().setRound(0).setFinal(true).setDurationNs(250_000_000L)
                                .setNormalPages(10).setDirtyPagesAfter(99)))
                .build();
    }

    @Test
    void postcopyGetsTheFaultLatencyHistogram() {
        ReportData d = ReportData.of(postcopy(), List.of(new ReportData.LatencyBucket(100_000, 40),
                new ReportData.LatencyBucket(200_000, 15), new ReportData.LatencyBucket(1_000_000, 2)));
        HtmlReport.Rendered r = HtmlReport.render(d, Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(r.chartIds()).containsExactly("chart-pages-per-round", "chart-dirty-rate-vs-bandwidth",
                "chart-remaining-over-time", "chart-fault-latency");
        assertThat(r.html()).contains("alt=\"Post-copy fault latency\"").doesNotContain("no-fault-latency");
    }

    @Test
    void postcopyWithoutLatenciesSaysTheAgentDidNotReportThem() {
        HtmlReport.Rendered r = HtmlReport.render(ReportData.of(postcopy()), Instant.EPOCH);
        assertThat(r.chartIds()).doesNotContain("chart-fault-latency");
        assertThat(r.html()).contains("the agent did not report post-copy figures").doesNotContain("id=\"postcopy\"");
    }

    @Test
    void theHistogramComesFromTheRecordsPostcopyFigures() {
        MigrationInfo m = postcopy().toBuilder().setStats(postcopy().getStats().toBuilder().setPostcopy(
                dev.pagehop.proto.types.v1.PostcopyStats.newBuilder().setFaults(57).setComplete(true)
                        .addFaultLatencyHistogram(dev.pagehop.proto.types.v1.LatencyBucket.newBuilder()
                                .setUpperBoundNs(128_000).setCount(40))
                        .addFaultLatencyHistogram(dev.pagehop.proto.types.v1.LatencyBucket.newBuilder()
                                .setUpperBoundNs(256_000).setCount(17)))).build();
        ReportData d = ReportData.of(m);
        assertThat(d.faultLatency()).containsExactly(new ReportData.LatencyBucket(128_000, 40),
                new ReportData.LatencyBucket(256_000, 17));
        assertThat(HtmlReport.render(d, Instant.EPOCH).chartIds()).contains("chart-fault-latency");
    }

    @Test
    void postcopyWithoutFaultsSaysEveryPageCameInTheBackground() {
        MigrationInfo m = postcopy().toBuilder().setStats(postcopy().getStats().toBuilder().setPostcopy(
                dev.pagehop.proto.types.v1.PostcopyStats.newBuilder().setPagesBackground(2048).setComplete(true))).build();
        HtmlReport.Rendered r = HtmlReport.render(ReportData.of(m), Instant.EPOCH);
        assertThat(r.chartIds()).doesNotContain("chart-fault-latency");
        assertThat(r.html()).contains("every missing page arrived in the background").contains("id=\"postcopy\"");
    }

    @Test
    void textFromTheAgentIsEscaped() {
        HtmlReport.Rendered r = HtmlReport.render(ReportData.of(postcopy().toBuilder().setFailure("<script>x</script> & \"q\"")
                .build()), Instant.EPOCH);
        assertThat(r.html()).contains("<h1>Migration m-&lt;9&gt;</h1>")
                .contains("&lt;script&gt;x&lt;/script&gt; &amp; &quot;q&quot;").doesNotContain("<script>");
    }

    @Test
    void remainingCurveStartsAtMemorySizeAndTheFinalRoundLeavesNothing() {
        ReportData d = ReportData.of(postcopy());
        assertThat(d.startSeconds()).isEqualTo(0.5);
        assertThat(d.rounds()).singleElement().satisfies(p -> {
            assertThat(p.endSeconds()).isEqualTo(0.75);
            assertThat(p.remainingBytes()).isZero();
        });
        MigrationInfo notFinal = postcopy().toBuilder().setStats(postcopy().getStats().toBuilder()
                .setPerRound(0, postcopy().getStats().getPerRound(0).toBuilder().setFinal(false))).build();
        assertThat(ReportData.of(notFinal).rounds().getFirst().remainingBytes()).isEqualTo(99 * 4096);
    }

    @Test
    void aMigrationWithoutRoundsHasNoChartsButSaysWhy() {
        HtmlReport.Rendered r = HtmlReport.render(ReportData.of(MigrationInfo.newBuilder().setMigrationId("m")
                .setMode(MigrationMode.MIGRATION_MODE_PRECOPY).setSourcePhase(SourcePhase.SOURCE_PHASE_FAILED)
                .setFailure("prepare refused").build()), Instant.EPOCH);
        assertThat(r.chartIds()).isEmpty();
        assertThat(r.html()).contains("ended before its first round").contains("prepare refused");
    }
}
