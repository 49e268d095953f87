package dev.pagehop.cli.progress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.proto.control.v1.MigrationEvent;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.MigrationStats;
import dev.pagehop.proto.control.v1.RoundStats;
import dev.pagehop.proto.types.v1.SourcePhase;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressViewsTest {
    private static final long MIB = 1 << 20;

    private static MigrationInfo info(SourcePhase phase, int rounds) {
        MigrationStats.Builder s = MigrationStats.newBuilder().setMemoryBytes(100 * MIB);
        for (int r = 0; r < rounds; r++) {
            s.addPerRound(RoundStats.newBuilder().setRound(r).setFinal(r == rounds - 1 && phase == SourcePhase.SOURCE_PHASE_COMPLETED)
                    .setNormalPages(100 - r).setDurationNs(1_000_000));
        }
        return MigrationInfo.newBuilder().setMigrationId("m").setSourcePhase(phase).setStats(s)
                .setPolicy(MigrationPolicy.newBuilder().setDowntimeLimitMs(300)).build();
    }

    private static MigrationEvent ev(MigrationEvent.Kind k, long t, MigrationInfo info) {
        MigrationEvent.Builder b = MigrationEvent.newBuilder().setKind(k).setTimeMs(t).setMigrationId("m")
                .setSourcePhase(info != null ? info.getSourcePhase() : SourcePhase.SOURCE_PHASE_ITERATING);
        if (info != null) {
            b.setInfo(info);
        }
        return b.build();
    }

    @Test
    void everyRoundIsShownOnceEvenWhenItsEndCameOnlyWithThePhaseOrEndEvent() {
        StringWriter w = new StringWriter();
        try (PlainProgress p = new PlainProgress(new PrintWriter(w))) {
            p.onEvent(ev(MigrationEvent.Kind.KIND_SNAPSHOT, 1000, info(SourcePhase.SOURCE_PHASE_ITERATING, 1)));
            p.onEvent(ev(MigrationEvent.Kind.KIND_ROUND_END, 1100, info(SourcePhase.SOURCE_PHASE_ITERATING, 2)));
            p.onEvent(ev(MigrationEvent.Kind.KIND_PHASE, 1200, info(SourcePhase.SOURCE_PHASE_STOP_AND_COPY, 3)));
            p.onEvent(ev(MigrationEvent.Kind.KIND_END, 1500, info(SourcePhase.SOURCE_PHASE_COMPLETED, 4)));
        }
        String out = w.toString();
        assertThat(out.lines()).containsExactly(
                "   0.000s  watching migration m: pid 0 →  (-, -, 100 MiB), iterating",
                "   0.000s  round 0 done in 1.0 ms: 100 pages + 0 zero, 0 B sent, 0 pages dirty after, bandwidth 0 B/s, dirty 0 B/s, exp. downtime 0 ms → -",
                "   0.100s  round 1 done in 1.0 ms: 99 pages + 0 zero, 0 B sent, 0 pages dirty after, bandwidth 0 B/s, dirty 0 B/s, exp. downtime 0 ms → -",
                "   0.200s  round 2 done in 1.0 ms: 98 pages + 0 zero, 0 B sent, 0 pages dirty after, bandwidth 0 B/s, dirty 0 B/s, exp. downtime 0 ms → -",
                "   0.200s  phase stop-and-copy",
                "   0.500s  round 3 (final) done in 1.0 ms: 97 pages + 0 zero, 0 B sent, 0 pages dirty after, bandwidth 0 B/s, dirty 0 B/s, exp. downtime 0 ms → -",
                "   0.500s  migration m completed");
    }

    @Test
    void liveStatusLineFitsTheTerminalAndIsErasedAtTheEnd() {
        StringWriter w = new StringWriter();
        LiveProgress p = new LiveProgress(new PrintWriter(w), 40);
        p.onEvent(ev(MigrationEvent.Kind.KIND_SNAPSHOT, 0, info(SourcePhase.SOURCE_PHASE_ITERATING, 0)));
        p.onEvent(MigrationEvent.newBuilder().setKind(MigrationEvent.Kind.KIND_PROGRESS).setRound(0)
                .setRemainingBytes(25 * MIB).setBandwidthBytesPerSec(10 * MIB).setDirtyRateBytesPerSec(20 * MIB).build());
        p.close();
        String out = w.toString();
        String status = out.substring(out.lastIndexOf("\r\033[2K[") + 5, out.lastIndexOf("\r\033[2K"));
        assertThat(status).startsWith("[###############.....] round 0  75%").hasSize(39).endsWith("…");
        assertThat(out).endsWith("\r\033[2K");
    }

    @Test
    void beforeTheFirstRoundThereIsNoRateToShow() {
        StringWriter w = new StringWriter();
        PlainProgress p = new PlainProgress(new PrintWriter(w));
        p.onEvent(ev(MigrationEvent.Kind.KIND_SNAPSHOT, 0, info(SourcePhase.SOURCE_PHASE_PREPARING, 0)));
        p.onEvent(MigrationEvent.newBuilder().setKind(MigrationEvent.Kind.KIND_PROGRESS).setTimeMs(500)
                .setSourcePhase(SourcePhase.SOURCE_PHASE_PREPARING).build());
        p.onEvent(MigrationEvent.newBuilder().setKind(MigrationEvent.Kind.KIND_PROGRESS).setTimeMs(900)
                .setSourcePhase(SourcePhase.SOURCE_PHASE_ITERATING).setRemainingBytes(100 * MIB).setTransferredBytes(MIB).build());
        assertThat(w.toString().lines().skip(1)).containsExactly(
                "   0.500s  preparing: the target checks the layout and reserves memory",
                "   0.900s  round 0  0%  remaining 100 MiB  sent 1.0 MiB  rate 0 B/s  dirty 0 B/s  ETA ? (measuring)  exp. downtime 0 ms");
    }

    @Test
    void noEtaWhileTheWorkloadDirtiesFasterThanTheLink() {
        StringWriter w = new StringWriter();
        PlainProgress p = new PlainProgress(new PrintWriter(w));
        p.onEvent(ev(MigrationEvent.Kind.KIND_SNAPSHOT, 0, info(SourcePhase.SOURCE_PHASE_ITERATING, 0)));
        p.onEvent(MigrationEvent.newBuilder().setKind(MigrationEvent.Kind.KIND_PROGRESS).setRound(4).setThrottlePercent(30)
                .setRemainingBytes(90 * MIB).setBandwidthBytesPerSec(10 * MIB).setDirtyRateBytesPerSec(20 * MIB).build());
        assertThat(w.toString()).contains("round 4  10%  remaining 90.0 MiB").contains("ETA ∞ (dirty rate ≥ bandwidth)")
                .contains("throttle 30 %");
        p.onEvent(MigrationEvent.newBuilder().setKind(MigrationEvent.Kind.KIND_PROGRESS).setRound(5)
                .setRemainingBytes(90 * MIB).setBandwidthBytesPerSec(10 * MIB).setDirtyRateBytesPerSec(10 * MIB - 100).build());
        assertThat(w.toString()).contains("round 5  10%  remaining 90.0 MiB").contains("ETA > 1 h");
    }

    @Test
    void progressWithinARoundMovesThePercentInSync() {
        StringWriter w = new StringWriter();
        PlainProgress p = new PlainProgress(new PrintWriter(w));
        p.onEvent(ev(MigrationEvent.Kind.KIND_SNAPSHOT, 0, info(SourcePhase.SOURCE_PHASE_ITERATING, 0)));
        for (long remaining : new long[] {100, 70, 30}) {
            p.onEvent(MigrationEvent.newBuilder().setKind(MigrationEvent.Kind.KIND_PROGRESS).setRound(0)
                    .setSourcePhase(SourcePhase.SOURCE_PHASE_ITERATING).setRemainingBytes(remaining * MIB).build());
        }
        assertThat(w.toString()).contains("round 0  0%  remaining 100 MiB").contains("round 0  30%  remaining 70.0 MiB")
                .contains("round 0  70%  remaining 30.0 MiB");
    }

    @Test
    void postcopyProgressShowsWhatIsMissingAndWhatFaultsCost() {
        StringWriter w = new StringWriter();
        PlainProgress p = new PlainProgress(new PrintWriter(w));
        p.onEvent(ev(MigrationEvent.Kind.KIND_SNAPSHOT, 0, info(SourcePhase.SOURCE_PHASE_POSTCOPY, 1)));
        dev.pagehop.proto.types.v1.PostcopyStats pc = dev.pagehop.proto.types.v1.PostcopyStats.newBuilder()
                .setPagesMissingAtStart(25_600).setPagesMissing(6_400).setFaults(37).setFaultLatencyP99Ns(310_000)
                .setPagesOnDemand(36).setPagesBackground(19_164).setAllThreadsBlockedNs(2_100_000).build();
        p.onEvent(MigrationEvent.newBuilder().setKind(MigrationEvent.Kind.KIND_PROGRESS).setTimeMs(500)
                .setSourcePhase(SourcePhase.SOURCE_PHASE_POSTCOPY).setRemainingBytes(25 * MIB).setPostcopy(pc).build());
        p.onEvent(MigrationEvent.newBuilder().setKind(MigrationEvent.Kind.KIND_PROGRESS).setTimeMs(900)
                .setSourcePhase(SourcePhase.SOURCE_PHASE_POSTCOPY_PAUSED).setRemainingBytes(25 * MIB).setPostcopy(pc).build());
        assertThat(w.toString().lines().skip(2)).containsExactly(
                "   0.500s  post-copy  75%  missing 6400 pages (25.0 MiB)  faults 37 (p99 310.0 µs)  pages on demand 36, "
                        + "background 19164  blocktime 2.1 ms",
                "   0.900s  post-copy PAUSED  75%  missing 6400 pages (25.0 MiB)  faults 37 (p99 310.0 µs)  pages on demand 36, "
                        + "background 19164  blocktime 2.1 ms");
    }
}
