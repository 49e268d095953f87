package dev.pagehop.cli.progress;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalDouble;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class EtaTest {
    private static final long MIB = 1 << 20;

    @Test
    void timeUntilPendingFitsTheDowntimeBudget() {
        // 100 MiB/s with 300 ms allowed: 30 MiB may remain; 130 MiB pending shrinks at 100 − 20 = 80 MiB/s.
        assertThat(Eta.seconds(130 * MIB, 100 * MIB, 20 * MIB, 300).getAsDouble()).isEqualTo(1.25);
    }

    @Test
    void nothingPendingOrWithinBudgetIsNow() {
        assertThat(Eta.seconds(0, 0, 0, 300)).isEqualTo(OptionalDouble.of(0));
        assertThat(Eta.seconds(10 * MIB, 100 * MIB, 500 * MIB, 300)).isEqualTo(OptionalDouble.of(0));
    }

    @Test
    void noEtaWhenDirtyingKeepsUpWithTheLinkOrNothingWasMeasured() {
        assertThat(Eta.seconds(500 * MIB, 100 * MIB, 100 * MIB, 300)).isEmpty();
        assertThat(Eta.seconds(500 * MIB, 0, 0, 300)).isEmpty();
    }

    @Property
    void moreRemainingNeverMeansLessTime(@ForAll @LongRange(min = 1, max = 1L << 40) long remaining,
            @ForAll @LongRange(min = 1, max = 1L << 34) long extra, @ForAll @LongRange(min = 1, max = 1L << 33) long bw,
            @ForAll @LongRange(min = 0, max = 1L << 33) long dirty) {
        OptionalDouble a = Eta.seconds(remaining, bw, dirty, 300);
        OptionalDouble b = Eta.seconds(remaining + extra, bw, dirty, 300);
        assertThat(a.isPresent()).isEqualTo(b.isPresent() || a.isPresent());
        if (a.isPresent() && b.isPresent()) {
            assertThat(b.getAsDouble()).isGreaterThanOrEqualTo(a.getAsDouble());
        }
    }
}
