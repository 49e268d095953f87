package dev.pagehop.migrate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.migrate.Decision.Action;
import dev.pagehop.migrate.Decision.Reason;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class ConvergenceTest {
    private static final long P = 4096;
    private static final long MS = 1_000_000L;
    /** 100 MB/s of pages: a round of 100 ms moves 10 MB. */
    private static final long BW = 100_000_000L;
    private static final long MEM = 1L << 30;

    /** A round of {@code ms} that carried {@code pageBytes} and left {@code dirtyAfter} dirty. */
    private static RoundStats round(int n, long ms, long pageBytes, long dirtyAfter) {
        return new RoundStats(n, false, 0, ms * MS, pageBytes / P, 0, 0, pageBytes, pageBytes, dirtyAfter, 0, 0);
    }

    private static Decision decide(MigrationPolicy p, List<RoundStats> rounds, long pending, int throttle) {
        return Convergence.decide(p, rounds, pending, P, MEM, 0, 1000 * MS, 0, throttle);
    }

    @Test
    void beforeRoundZeroPrecopyIteratesAndPostcopySwitchesAtOnce() {
        assertThat(decide(MigrationPolicy.defaults(), List.of(), MEM, 0).reason()).isEqualTo(Reason.FIRST_ROUND);
        Decision d = decide(MigrationPolicy.defaults().withMode(MigrationMode.POSTCOPY), List.of(), MEM, 0);
        assertThat(d.action()).isEqualTo(Action.POSTCOPY);
        assertThat(d.reason()).isEqualTo(Reason.POSTCOPY_MODE);
    }

    @Test
    void switchesOverWhenPendingFitsBandwidthTimesDowntimeLimit() {
        MigrationPolicy p = MigrationPolicy.defaults().withDowntimeLimitMs(300).withStopPages(0);
        List<RoundStats> r = List.of(round(0, 1000, BW, 29_000_000));
        // threshold = 100 MB/s × 0.3 s = 30 MB
        Decision d = decide(p, r, 30_000_000, 0);
        assertThat(d.action()).isEqualTo(Action.SWITCHOVER);
        assertThat(d.reason()).isEqualTo(Reason.CONVERGED);
        assertThat(d.expectedDowntimeMs()).isEqualTo(300);
        assertThat(d.bandwidthBytesPerSec()).isEqualTo(BW);
        Decision over = decide(p, r, 30_004_096, 0);
        assertThat(over.action()).isEqualTo(Action.CONTINUE);
        assertThat(over.reason()).isEqualTo(Reason.ITERATING);
        assertThat(over.expectedDowntimeMs()).isEqualTo(301);
        assertThat(over.detail()).contains("round 0", "pending 30004096 bytes", "limit 300 ms");
    }

    @Test
    void theSwitchoversFixedCostComesOffTheLimitAndIntoTheExpectedDowntime() {
        MigrationPolicy p = MigrationPolicy.defaults().withDowntimeLimitMs(300).withStopPages(0);
        List<RoundStats> r = List.of(round(0, 1000, BW, 29_000_000));
        // 80 ms fixed: 220 ms left for pages = 22 MB at 100 MB/s.
        Decision fits = Convergence.decide(p, r, 22_000_000, P, MEM, 0, 1000 * MS, 0, 0, 80 * MS);
        assertThat(fits.action()).isEqualTo(Action.SWITCHOVER);
        assertThat(fits.reason()).isEqualTo(Reason.CONVERGED);
        assertThat(fits.expectedDowntimeMs()).isEqualTo(300);
        assertThat(fits.detail()).contains("expected downtime 300 ms (80.0 ms of it fixed)");
        Decision over = Convergence.decide(p, r, 22_004_096, P, MEM, 0, 1000 * MS, 0, 0, 80 * MS);
        assertThat(over.action()).isEqualTo(Action.CONTINUE);
        assertThat(over.expectedDowntimeMs()).isEqualTo(301);
        // QEMU's rule alone would have switched over at 30 MB and missed the limit by the fixed part.
        assertThat(decide(p, r, 30_000_000, 0).action()).isEqualTo(Action.SWITCHOVER);
        assertThat(Convergence.decide(p, r, 30_000_000, P, MEM, 0, 1000 * MS, 0, 0, 80 * MS).expectedDowntimeMs())
                .isEqualTo(380);
        // A fixed cost over the limit never converges by this rule; nothing pending still switches over.
        assertThat(Convergence.decide(p, r, P, P, MEM, 0, 1000 * MS, 0, 0, 400 * MS).action()).isEqualTo(Action.CONTINUE);
        Decision none = Convergence.decide(p, r, 0, P, MEM, 0, 1000 * MS, 0, 0, 400 * MS);
        assertThat(none.reason()).isEqualTo(Reason.NOTHING_PENDING);
        assertThat(none.expectedDowntimeMs()).isEqualTo(400);
        assertThatThrownBy(() -> Convergence.decide(p, r, 0, P, MEM, 0, 0, 0, 0, -1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1 ns");
    }

    @Test
    void nothingPendingSwitchesOverEvenWithoutABandwidthMeasurement() {
        Decision d = decide(MigrationPolicy.defaults(), List.of(round(0, 0, 0, 0)), 0, 0);
        assertThat(d.reason()).isEqualTo(Reason.NOTHING_PENDING);
        assertThat(d.expectedDowntimeMs()).isZero();
    }

    @Test
    void fewPagesLeftSwitchesOverAsPHaulDoes() {
        MigrationPolicy p = MigrationPolicy.defaults().withDowntimeLimitMs(1);
        List<RoundStats> r = List.of(round(0, 1000, 1000 * P, 64 * P));
        assertThat(decide(p, r, 64 * P, 0).reason()).isEqualTo(Reason.FEW_PAGES);
        assertThat(decide(p, r, 65 * P, 0).reason()).isEqualTo(Reason.ITERATING);
    }

    @Test
    void anUnmeasuredLastRoundFallsBackToTheLastMeasuredBandwidth() {
        List<RoundStats> r = List.of(round(0, 1000, BW, 10 * P), round(1, 0, 0, 100 * P));
        Decision d = decide(MigrationPolicy.defaults().withStopPages(0), r, 100 * P, 0);
        assertThat(d.bandwidthBytesPerSec()).isEqualTo(BW);
        assertThat(d.action()).isEqualTo(Action.SWITCHOVER);
    }

    @Test
    void noBandwidthAtAllReportsAnUnknownExpectedDowntimeAndIterates() {
        Decision d = decide(MigrationPolicy.defaults().withStopPages(0), List.of(round(0, 0, 0, 100 * P)), 100 * P, 0);
        assertThat(d.action()).isEqualTo(Action.CONTINUE);
        assertThat(d.expectedDowntimeMs()).isEqualTo(-1);
        assertThat(d.detail()).contains("expected downtime unknown");
    }

    /** Rounds of 1 s moving BW while the workload dirties {@code dirtyPercent} % of BW. */
    private static List<RoundStats> hot(int n, int dirtyPercent) {
        List<RoundStats> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(round(i, 1000, BW, BW * dirtyPercent / 100 / P * P));
        }
        return out;
    }

    @Test
    void autoConvergeThrottlesStepByStepAfterTwoHotRoundsThenStopsAtTheMaximum() {
        MigrationPolicy p = MigrationPolicy.defaults().withGrowthRule(false, 0);
        long pending = BW / 2;
        assertThat(decide(p, hot(1, 60), pending, 0).reason()).as("one hot round is not enough").isEqualTo(Reason.ITERATING);
        Decision first = decide(p, hot(2, 60), pending, 0);
        assertThat(first.reason()).isEqualTo(Reason.THROTTLING);
        assertThat(first.throttlePercent()).isEqualTo(20);
        assertThat(decide(p, hot(3, 60), pending, 20).throttlePercent()).isEqualTo(30);
        assertThat(decide(p, hot(3, 60), pending, 95).throttlePercent()).isEqualTo(99);
        Decision atMax = decide(p, hot(3, 60), pending, 99);
        assertThat(atMax.reason()).isEqualTo(Reason.ITERATING);
        assertThat(atMax.throttlePercent()).isEqualTo(99);
        assertThat(decide(p, hot(3, 40), pending, 0).reason()).as("below the 50 % trigger").isEqualTo(Reason.ITERATING);
    }

    @Test
    void dirtyRateAboveBandwidthAbortsOrGoesPostcopyPerPolicy() {
        MigrationPolicy abort = MigrationPolicy.defaults().withAutoConverge(AutoConverge.ABORT);
        Decision d = decide(abort, hot(2, 120), BW, 0);
        assertThat(d.action()).isEqualTo(Action.ABORT);
        assertThat(d.reason()).isEqualTo(Reason.DIRTY_RATE_EXCEEDS_BANDWIDTH);
        assertThat(decide(abort, hot(2, 90), BW, 0).action()).isEqualTo(Action.CONTINUE);
        MigrationPolicy hybrid = MigrationPolicy.defaults().withAutoConverge(AutoConverge.OFF).withMode(MigrationMode.HYBRID);
        assertThat(decide(hybrid, hot(2, 120), BW, 0).reason()).isEqualTo(Reason.CANNOT_KEEP_UP);
        assertThat(decide(hybrid, hot(2, 120), BW, 0).action()).isEqualTo(Action.POSTCOPY);
    }

    @Test
    void stopRulesApplyTheNoConvergenceAction() {
        MigrationPolicy off = MigrationPolicy.defaults().withAutoConverge(AutoConverge.OFF).withGrowthRule(false, 0);
        assertThat(decide(off.withMaxRounds(3), hot(3, 10), BW, 0).reason()).isEqualTo(Reason.MAX_ROUNDS);
        assertThat(decide(off.withMaxRounds(3), hot(3, 10), BW, 0).action()).isEqualTo(Action.ABORT);
        Decision sw = decide(off.withMaxRounds(3).withNoConvergenceAction(NoConvergenceAction.SWITCHOVER), hot(3, 10), BW, 0);
        assertThat(sw.action()).isEqualTo(Action.SWITCHOVER);
        assertThat(sw.detail()).contains("3 rounds done, at most 3");

        MigrationPolicy growth = MigrationPolicy.defaults().withAutoConverge(AutoConverge.OFF);
        List<RoundStats> growing = List.of(round(0, 1000, BW, 1000 * P), round(1, 1000, BW, 1101 * P));
        Decision g = decide(growth, growing, 1101 * P * 100, 0);
        assertThat(g.reason()).isEqualTo(Reason.DIRTY_SET_GROWING);
        List<RoundStats> flat = List.of(round(0, 1000, BW, 1000 * P), round(1, 1000, BW, 1100 * P));
        assertThat(decide(growth, flat, 1100 * P * 100, 0).reason()).as("exactly 10 %% is not more").isEqualTo(Reason.ITERATING);

        Decision amp = Convergence.decide(off, hot(2, 10), BW, P, MEM, 3 * MEM, 0, 0, 0);
        assertThat(amp.reason()).isEqualTo(Reason.AMPLIFICATION);
    }

    @Test
    void hybridGoesPostcopyAfterTheConfiguredRounds() {
        MigrationPolicy p = MigrationPolicy.defaults().withMode(MigrationMode.HYBRID).withPostcopyAfterRounds(2)
                .withAutoConverge(AutoConverge.OFF);
        assertThat(decide(p, hot(1, 10), BW, 0).action()).isEqualTo(Action.CONTINUE);
        assertThat(decide(p, hot(2, 10), BW, 0).reason()).isEqualTo(Reason.POSTCOPY_AFTER_ROUNDS);
    }

    /**
     * Hard caps end the iteration even while auto-converge could still raise the throttle: the
     * throttle is how to converge within them, not a reason to go past them (the demo once sent
     * 9.66 × its memory, 3 × being the cap, while the throttle climbed).
     */
    @Test
    void hardCapsWinOverTheThrottle() {
        MigrationPolicy p = MigrationPolicy.defaults().withGrowthRule(false, 0);
        List<RoundStats> r = hot(3, 60);
        assertThat(decide(p, r, BW / 2, 20).reason()).as("hot rounds within the caps throttle").isEqualTo(Reason.THROTTLING);

        Decision amp = Convergence.decide(p, r, BW / 2, P, MEM, 3 * MEM, 1000 * MS, 0, 20);
        assertThat(amp.action()).isEqualTo(Action.ABORT);
        assertThat(amp.reason()).isEqualTo(Reason.AMPLIFICATION);
        assertThat(amp.throttlePercent()).as("an ending decision does not raise the throttle").isEqualTo(20);
        assertThat(amp.detail()).contains("3.00 x the memory size", "cap 3.00 x");
        assertThat(Convergence.decide(p, r, BW / 2, P, MEM, 3 * MEM - 1, 1000 * MS, 0, 20).reason())
                .as("just under the cap").isEqualTo(Reason.THROTTLING);

        Decision rounds = decide(p.withMaxRounds(3), r, BW / 2, 20);
        assertThat(rounds.action()).isEqualTo(Action.ABORT);
        assertThat(rounds.reason()).isEqualTo(Reason.MAX_ROUNDS);
        assertThat(rounds.throttlePercent()).isEqualTo(20);

        Decision progress = Convergence.decide(p, r, BW / 2, P, MEM, 0, 1000 * MS, p.progressTimeoutMs() * MS, 20);
        assertThat(progress.reason()).isEqualTo(Reason.PROGRESS_TIMEOUT);
        Decision overall = Convergence.decide(p, r, BW / 2, P, MEM, 0, p.overallTimeoutMs() * MS, 0, 20);
        assertThat(overall.reason()).isEqualTo(Reason.OVERALL_TIMEOUT);

        // A hybrid policy hands the capped migration to post-copy instead of aborting it.
        Decision hybrid = Convergence.decide(p.withMode(MigrationMode.HYBRID), r, BW / 2, P, MEM, 3 * MEM, 1000 * MS, 0, 20);
        assertThat(hybrid.action()).isEqualTo(Action.POSTCOPY);
        assertThat(hybrid.reason()).isEqualTo(Reason.AMPLIFICATION);
    }

    /** Converging still wins over the caps: a round that fits the limit switches over. */
    @Test
    void aConvergedRoundSwitchesOverEvenAtTheCaps() {
        MigrationPolicy p = MigrationPolicy.defaults().withStopPages(0).withMaxRounds(3);
        Decision d = Convergence.decide(p, hot(3, 60), BW / 10, P, MEM, 3 * MEM, 1000 * MS, 0, 20);
        assertThat(d.action()).isEqualTo(Action.SWITCHOVER);
        assertThat(d.reason()).isEqualTo(Reason.CONVERGED);
    }

    /**
     * Post-copy after N rounds is a request: at round N the migration goes post-copy even when
     * that round converged (as QEMU does once migrate-start-postcopy was issued); a round before
     * N that converges ends the migration in pre-copy, since there is nothing left to warm up.
     */
    @Test
    void hybridGoesPostcopyAtTheRequestedRoundEvenIfThatRoundConverged() {
        MigrationPolicy p = MigrationPolicy.defaults().withMode(MigrationMode.HYBRID).withPostcopyAfterRounds(2)
                .withStopPages(0);
        long fits = BW / 10;
        Decision early = decide(p, hot(1, 10), fits, 0);
        assertThat(early.action()).isEqualTo(Action.SWITCHOVER);
        assertThat(early.reason()).isEqualTo(Reason.CONVERGED);
        Decision atN = decide(p, hot(2, 10), fits, 0);
        assertThat(atN.action()).isEqualTo(Action.POSTCOPY);
        assertThat(atN.reason()).isEqualTo(Reason.POSTCOPY_AFTER_ROUNDS);
        assertThat(atN.detail()).contains("2 pre-copy rounds done, post-copy after 2");
        assertThat(decide(p.withStopPages(64), hot(2, 10), 10 * P, 0).reason()).as("few pages left")
                .isEqualTo(Reason.POSTCOPY_AFTER_ROUNDS);
        // Nothing pending: everything is on the target already, post-copy would have nothing to fetch.
        assertThat(decide(p, hot(2, 10), 0, 0).reason()).isEqualTo(Reason.NOTHING_PENDING);
        // The requested round wins over the throttle and the stop rules too.
        Decision hot = Convergence.decide(p.withMaxRounds(2), hot(2, 60), BW, P, MEM, 3 * MEM, 1000 * MS, 0, 0);
        assertThat(hot.reason()).isEqualTo(Reason.POSTCOPY_AFTER_ROUNDS);
        assertThat(hot.throttlePercent()).isZero();
    }

    /**
     * The bandwidth cap bounds the bandwidth convergence counts on: a round measured at 100 MB/s
     * (zero pages and bursts make a paced round look fast) predicts nothing about a final round
     * that will be paced at 16 MiB/s.
     */
    @Test
    void theBandwidthCapBoundsTheBandwidthConvergenceUses() {
        long cap = 16L << 20;
        MigrationPolicy p = MigrationPolicy.defaults().withStopPages(0).withDowntimeLimitMs(300);
        List<RoundStats> r = List.of(round(0, 1000, BW, 10_000_000));
        long pending = 10_000_000;
        assertThat(decide(p, r, pending, 0).reason()).as("uncapped: 10 MB fit 100 MB/s x 300 ms")
                .isEqualTo(Reason.CONVERGED);
        Decision capped = decide(p.withBandwidthCap(cap), r, pending, 0);
        assertThat(capped.action()).isEqualTo(Action.CONTINUE);
        assertThat(capped.bandwidthBytesPerSec()).isEqualTo(cap);
        // 10 MB at 16 MiB/s: 596.05 ms.
        assertThat(capped.expectedDowntimeMs()).isEqualTo(597);
        assertThat(capped.detail()).contains("bandwidth " + cap + " B/s", "capped at " + cap + " B/s");
        assertThat(decide(p.withBandwidthCap(cap), r, 5_000_000, 0).reason()).as("5 MB fit 16 MiB/s x 300 ms")
                .isEqualTo(Reason.CONVERGED);
        // A cap above what the link carries changes nothing.
        Decision loose = decide(p.withBandwidthCap(2 * BW), r, pending, 0);
        assertThat(loose.bandwidthBytesPerSec()).isEqualTo(BW);
        assertThat(loose.reason()).isEqualTo(Reason.CONVERGED);
    }

    /**
     * A round of mostly zero pages covers memory fast but says little about the link: the
     * pending pages are written ones, and each crosses the wire whole. Round 0 of the demo's
     * sparse kv table covered 64 MiB in 781 ms but sent 9.5 MiB; at 82 MiB/s of covered pages the
     * 11.2 MiB dirty after it looked like a 205 ms switchover, which took 1632 ms.
     */
    @Test
    void zeroPagesDoNotInflateTheBandwidth() {
        long mib = 1L << 20;
        // 64 MiB covered: 2427 pages with contents, 13 975 zero pages as 16-byte markers.
        long wire = 2427 * P + 13_975 * 16;
        RoundStats r0 = new RoundStats(0, false, 0, 781 * MS, 2427, 13_975, 0, 64 * mib, wire, 2859 * P, 0, 0);
        assertThat(r0.bandwidthBytesPerSec()).isEqualTo((long) (wire * 1e9 / (781 * MS)));
        assertThat(r0.pageBytesPerSec()).isGreaterThan(80 * mib);
        Decision d = Convergence.decide(MigrationPolicy.defaults(), List.of(r0), 2859 * P, P, 64 * mib, wire, 1000 * MS,
                0, 0, 69 * MS);
        assertThat(d.action()).isEqualTo(Action.CONTINUE);
        assertThat(d.bandwidthBytesPerSec()).isLessThan(13 * mib);
        // 11.2 MiB at the 12.5 MiB/s the round put on the wire, plus 69 ms fixed.
        assertThat(d.expectedDowntimeMs()).isBetween(900L, 1000L);
    }

    @Test
    void timeoutsAbortFirst() {
        MigrationPolicy p = MigrationPolicy.defaults().withTimeouts(1000, 5000);
        List<RoundStats> r = hot(1, 10);
        Decision overall = Convergence.decide(p, r, 0, P, MEM, 0, 5000 * MS, 0, 0);
        assertThat(overall.reason()).isEqualTo(Reason.OVERALL_TIMEOUT);
        assertThat(overall.detail()).contains("5000 ms", "overall timeout of 5000 ms");
        Decision progress = Convergence.decide(p, r, BW, P, MEM, 0, 2000 * MS, 1000 * MS, 0);
        assertThat(progress.reason()).isEqualTo(Reason.PROGRESS_TIMEOUT);
        assertThat(progress.action()).isEqualTo(Action.ABORT);
    }

    @Property
    void neverContinuesWhenPendingFitsTheLimit(@ForAll @LongRange(min = 1, max = 10_000) long limitMs,
            @ForAll @LongRange(min = 1, max = 1L << 34) long bandwidth, @ForAll @LongRange(min = 0, max = 1L << 22) long pendingPages) {
        long pending = pendingPages * P;
        MigrationPolicy p = MigrationPolicy.defaults().withDowntimeLimitMs(limitMs).withStopPages(0);
        List<RoundStats> r = List.of(new RoundStats(0, false, 0, 1_000_000_000L, 1, 0, 0, bandwidth, bandwidth, 0, 0, 0));
        Decision d = Convergence.decide(p, r, pending, P, MEM, 0, 0, 0, 0);
        boolean fits = (double) pending <= bandwidth * (limitMs / 1000.0);
        if (fits) {
            assertThat(d.action()).isEqualTo(Action.SWITCHOVER);
            assertThat(d.expectedDowntimeMs()).isLessThanOrEqualTo(limitMs);
        } else {
            assertThat(d.action()).isEqualTo(Action.CONTINUE);
            assertThat(d.expectedDowntimeMs()).isGreaterThanOrEqualTo(limitMs);
        }
    }

    @Test
    void policyValidationNamesTheField() {
        assertThatThrownBy(() -> MigrationPolicy.defaults().withDowntimeLimitMs(0)).hasMessageContaining("downtime limit 0");
        assertThatThrownBy(() -> MigrationPolicy.defaults().withMaxRounds(0)).hasMessageContaining("max rounds 0");
        assertThatThrownBy(() -> MigrationPolicy.defaults().withNoConvergenceAction(NoConvergenceAction.POSTCOPY))
                .hasMessageContaining("HYBRID");
        assertThatThrownBy(() -> MigrationPolicy.defaults().withChunking(100, 4)).hasMessageContaining("chunk size 100");
    }
}
