package dev.pagehop.track;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TrueWriteLogTest {

    @Test
    void recordsEveryTouchedPageAndDrainsOnce() {
        TrueWriteLog log = new TrueWriteLog(4096);
        log.record(4095, 2);
        log.record(3 * 4096 + 8, 8);
        assertThat(log.drain()).containsExactlyInAnyOrder(0L, 4096L, 3 * 4096L);
        assertThat(log.drain()).isEmpty();
    }

    @Test
    void rejectsAPageSizeThatIsNotAPowerOfTwo() {
        assertThatThrownBy(() -> new TrueWriteLog(3000)).hasMessageContaining("3000");
    }

    @Test
    void falsePositivesAreReportedPagesNotLoggedSinceTheCollectBeforeLast() {
        TrueWriteLog log = new TrueWriteLog(4096);
        CostMeter meter = new CostMeter(log, 4096);
        meter.started();
        log.record(0, 1);
        meter.collected(10, new DirtySet(List.of(new PageRange(0, 3 * 4096)), List.of()));
        assertThat(meter.snapshot().falsePositivePages()).as("pages 1 and 2 were never written").isEqualTo(2);
        assertThat(meter.snapshot().pagesReported()).isEqualTo(3);
        // Page 0 again, logged one collect earlier: a store that landed after the re-arm.
        meter.collected(5, new DirtySet(List.of(new PageRange(0, 4096)), List.of()));
        assertThat(meter.snapshot().falsePositivePages()).isEqualTo(2);
        assertThat(meter.snapshot().collects()).isEqualTo(2);
        assertThat(meter.snapshot().collectNanos()).isEqualTo(15);
    }

    @Test
    void meterRefusesALogOfAnotherPageSize() {
        assertThatThrownBy(() -> new CostMeter(new TrueWriteLog(4096), 65536))
                .hasMessageContaining("4096").hasMessageContaining("65536");
    }
}
