package dev.pagehop.bench.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkloadShapeTest {
    private static final long MIB = 1 << 20;

    @Test
    void randomWritesWholePagesUniformlyOverTheWorkingSet() {
        WorkloadShape w = new WorkloadShape("random", 0.75, 20.0, null, null, null, null);
        WorkloadShape.Spawn s = w.spawn(512 * MIB, 4096, 2);
        assertThat(s.workload()).isEqualTo("zipf");
        assertThat(s.parameters()).containsEntry("skew", "0").containsEntry("writeBytes", "4096")
                .containsEntry("hotPages", Long.toString(384 * MIB / 4096 / 2));
        // 20 MB/s for the process, paced per thread.
        assertThat(s.perThreadBytesPerSec()).isEqualTo(10_000_000);
    }

    @Test
    void hotSetPutsTheAskedShareOfWritesOnTheFirstPages() {
        WorkloadShape w = new WorkloadShape("hotset", 0.75, 200.0, 32.0, 0.9, null, null);
        WorkloadShape.Spawn s = w.spawn(512 * MIB, 16384, 1);
        long ws = 384 * MIB / 16384;
        long hot = 32 * MIB / 16384;
        double skew = Double.parseDouble(s.parameters().get("skew"));
        assertThat(s.parameters()).containsEntry("hotPages", Long.toString(ws));
        assertThat(ZipfSkew.headShare(ws, hot, skew)).isCloseTo(0.9, within(0.001));
    }

    @Test
    void unpacedAndIdle() {
        assertThat(new WorkloadShape("random", null, 0.0, null, null, null, null).spawn(64 * MIB, 4096, 1)
                .perThreadBytesPerSec()).isZero();
        WorkloadShape.Spawn idle = new WorkloadShape("idle", null, null, null, null, null, null).spawn(64 * MIB, 4096, 1);
        assertThat(idle.workload()).isEqualTo("idle");
        assertThat(idle.parameters()).isEmpty();
    }

    @Test
    void otherKindsPassThroughWithTheirParameters() {
        WorkloadShape.Spawn kv = new WorkloadShape("kv", null, 5.0, null, null, null, Map.of("keys", "100"))
                .spawn(64 * MIB, 4096, 1);
        assertThat(kv.workload()).isEqualTo("kv");
        assertThat(kv.parameters()).containsExactlyEntriesOf(Map.of("keys", "100"));
    }

    @Test
    void badShapesAreRefusedWithTheValues() {
        assertThatThrownBy(() -> new WorkloadShape("random", 1.5, 20.0, null, null, null, null))
                .hasMessageContaining("workingSetFraction 1.5 is outside (0, 1]");
        assertThatThrownBy(() -> new WorkloadShape("hotset", 0.75, 200.0, 32.0, 1.0, null, null))
                .hasMessageContaining("hotFraction in (0, 1), got 32.0 and 1.0");
        assertThatThrownBy(() -> new WorkloadShape("random", 0.5, -1.0, null, null, null, null))
                .hasMessageContaining("rateMBps -1.0");
        assertThatThrownBy(() -> ZipfSkew.forHeadShare(100, 50, 0.4))
                .hasMessageContaining("no more than uniform writes give (50 of 100 pages = 0.500)");
        assertThatThrownBy(() -> ZipfSkew.forHeadShare(100, 100, 0.9))
                .hasMessageContaining("hot set of 100 pages is not smaller than the working set of 100 pages");
    }

    @Test
    void prefillIsPassedToTheAgentAndRefusedForIdle() {
        WorkloadShape.Spawn s = new WorkloadShape("random", 0.75, 20.0, null, null, true, null).spawn(64 * MIB, 4096, 1);
        assertThat(s.parameters()).containsEntry("prefill", "1");
        assertThat(new WorkloadShape("random", 0.75, 20.0, null, null, null, null).spawn(64 * MIB, 4096, 1).parameters())
                .doesNotContainKey("prefill");
        assertThatThrownBy(() -> new WorkloadShape("idle", null, null, null, null, true, null))
                .hasMessageContaining("idle").hasMessageContaining("prefill");
    }
}
