package dev.pagehop.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class PacerTest {
    private static final long MS = 1_000_000;

    /**
     * Whatever the step sizes, a thread that starts each step as early as the pacer allows writes
     * the target rate: never more than the burst plus one step ahead of it, never more than one
     * step behind.
     */
    @Property(tries = 300)
    void anyStepSequenceIsHeldToTheTarget(@ForAll @Size(min = 1, max = 2000) List<@IntRange(min = 0, max = 50) Integer> pages,
            @ForAll @DoubleRange(min = 10, max = 1e7) double perSecond, @ForAll @IntRange(min = 0, max = 90) int throttle) {
        Pacer p = new Pacer();
        RateLimit r = RateLimit.pagesPerSecond(perSecond);
        double effective = perSecond * (100 - throttle) / 100.0;
        long now = 0;
        long written = 0;
        for (int n : pages) {
            long start = p.earliestStart(now, r, throttle);
            assertThat(start).isGreaterThanOrEqualTo(now);
            now = start;
            p.afterStep(now, now, n, 64L * n, throttle);
            written += n;
            double allowed = effective * now / 1e9;
            double burst = Math.max(1, effective * Pacer.BURST_NANOS / 1e9);
            assertThat((double) written).isLessThanOrEqualTo(allowed + burst + n + 1e-6);
        }
        double allowed = effective * now / 1e9;
        assertThat((double) written).isGreaterThanOrEqualTo(allowed - 50 - 1e-6);
    }

    @Test
    void unlimitedNeverWaits() {
        Pacer p = new Pacer();
        for (int i = 0; i < 1000; i++) {
            assertThat(p.earliestStart(i, RateLimit.unlimited())).isEqualTo(i);
            p.afterStep(i, i, 100, 100_000, 0);
        }
    }

    @Test
    void aPageRateAllowsTheBurstThenSpacesStepsEvenly() {
        Pacer p = new Pacer();
        RateLimit r = RateLimit.pagesPerSecond(1000); // burst: 10 pages
        long t = 0;
        for (int i = 0; i < 10; i++) {
            assertThat(p.earliestStart(t, r)).isEqualTo(t);
            p.afterStep(t, t, 1, 64, 0);
        }
        // The 11th page runs at once (the bucket is at 0, not in debt), the 12th waits 1 ms.
        assertThat(p.earliestStart(t, r)).isEqualTo(t);
        p.afterStep(t, t, 1, 64, 0);
        assertThat(p.earliestStart(t, r)).isEqualTo(t + MS);
        t += MS;
        assertThat(p.earliestStart(t, r)).isEqualTo(t);
    }

    @Test
    void aBigStepRunsAndTheNextOneWaitsForItsDebt() {
        Pacer p = new Pacer();
        RateLimit r = RateLimit.bytesPerSecond(1_000_000); // burst 10 000 bytes
        assertThat(p.earliestStart(0, r)).isZero();
        p.afterStep(0, 0, 16, 110_000, 0);
        assertThat(p.earliestStart(0, r)).isEqualTo(100 * MS);
    }

    @Test
    void aFrozenThreadDoesNotSaveUpMoreThanTheBurst() {
        Pacer p = new Pacer();
        RateLimit r = RateLimit.stepsPerSecond(100); // burst max(1, 1) = 1 step
        assertThat(p.earliestStart(0, r)).isZero();
        p.afterStep(0, 0, 0, 0, 0);
        long later = 60_000 * MS;
        assertThat(p.earliestStart(later, r)).isEqualTo(later);
        p.afterStep(later, later, 0, 0, 0);
        assertThat(p.earliestStart(later, r)).isEqualTo(later);
        p.afterStep(later, later, 0, 0, 0);
        assertThat(p.earliestStart(later, r)).isEqualTo(later + 10 * MS);
    }

    @Test
    void throttleOwesRunTimeTimesPOver100MinusP() {
        Pacer p = new Pacer();
        // 50 %: every µs run owes 1 µs; paid once 100 µs are owed.
        long t = 0;
        for (int i = 0; i < 99; i++) {
            assertThat(p.earliestStart(t, RateLimit.unlimited())).isEqualTo(t);
            p.afterStep(t, t + 1000, 1, 8, 50);
            t += 1000;
        }
        assertThat(p.earliestStart(t, RateLimit.unlimited())).isEqualTo(t);
        p.afterStep(t, t + 1000, 1, 8, 50);
        t += 1000;
        assertThat(p.earliestStart(t, RateLimit.unlimited())).isEqualTo(t + 100_000);
    }

    @Test
    void throttleScalesARateTarget() {
        Pacer p = new Pacer();
        RateLimit r = RateLimit.pagesPerSecond(1000); // throttled 75 %: 250 pages/s, burst max(1, 2.5)
        long t = 0;
        assertThat(p.earliestStart(t, r, 75)).isEqualTo(t);
        p.afterStep(t, t, 3, 0, 75);
        // 3 pages from a bucket of 2.5 leaves 0.5 of debt: 2 ms at 250 pages/s.
        assertThat(p.earliestStart(t, r, 75)).isEqualTo(t + 2 * MS);
        // Lifting the throttle restarts the bucket at the full rate.
        assertThat(p.earliestStart(t, r, 0)).isEqualTo(t);
    }

    @Test
    void throttleOutsideItsRangeIsRefused() {
        Pacer p = new Pacer();
        assertThatThrownBy(() -> p.afterStep(0, 1, 0, 0, 100)).hasMessageContaining("throttle 100 % is outside 0..99");
        assertThatThrownBy(() -> p.earliestStart(0, RateLimit.unlimited(), -1)).hasMessageContaining("throttle -1 %");
        assertThatThrownBy(() -> RateLimit.pagesPerSecond(0)).hasMessageContaining("must be positive and finite");
        assertThatThrownBy(() -> RateLimit.bytesPerSecond(Double.NaN)).hasMessageContaining("NaN");
    }
}
