package dev.pagehop.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ZipfTableTest {

    @Test
    void sampledFrequenciesFollowTheTable() {
        ZipfTable z = new ZipfTable(100, 1.0);
        int[] counts = new int[100];
        int n = 200_000;
        long state = 7;
        for (int i = 0; i < n; i++) {
            state += Mix.GOLDEN_GAMMA;
            counts[z.sample(Mix.mix64(state))]++;
        }
        // Harmonic number H_100 = 5.187...: rank 0 has 1/H, rank 1 half that.
        assertThat(z.probability(0)).isCloseTo(1 / 5.187377517639621, within(1e-9));
        for (int r : new int[] {0, 1, 9, 99}) {
            assertThat((double) counts[r] / n).isCloseTo(z.probability(r), within(0.005));
        }
        assertThat(counts[0]).isGreaterThan(counts[1]).isGreaterThan(counts[50]);
    }

    @Test
    void skewZeroIsUniform() {
        ZipfTable z = new ZipfTable(10, 0);
        for (int r = 0; r < 10; r++) {
            assertThat(z.probability(r)).isCloseTo(0.1, within(1e-12));
        }
        assertThat(z.sample(-1L)).isEqualTo(9);
        assertThat(z.sample(0)).isEqualTo(0);
    }
}
