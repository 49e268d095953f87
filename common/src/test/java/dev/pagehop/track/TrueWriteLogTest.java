package dev.pagehop.track;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TrueWriteLogTest {
    private static final long P = 4096;

    private static DirtySet written(long... pages) {
        RangeList l = new RangeList();
        for (long p : pages) {
            l.add(p * P, (p + 1) * P);
        }
        return new DirtySet(l.toList(), List.of());
    }

    @Test
    void aWriteSpanningPagesJustifiesEachOfThem() {
        TrueWriteLog log = new TrueWriteLog(P);
        long start = log.collectStarting();
        log.record(P - 1, 2);
        assertThat(log.justifies(0, start)).isTrue();
        assertThat(log.justifies(P, start)).isTrue();
        assertThat(log.justifies(2 * P, start)).isFalse();
    }

    @Test
    void reportedPagesWithoutAWriteSinceTheirLastReportAreFalsePositives() {
        TrueWriteLog log = new TrueWriteLog(P);
        CostMeter meter = new CostMeter(log, P);
        log.record(5 * P, 8);
        meter.started();
        log.record(0, 1);
        meter.collectStarting();
        meter.collected(10, written(0, 1, 2, 5));
        assertThat(meter.snapshot().falsePositivePages()).as("1, 2 never written; 5 only before start").isEqualTo(3);
        assertThat(meter.snapshot().pagesReported()).isEqualTo(4);
        // Page 0 reported again with no new write: a false positive now.
        meter.collectStarting();
        meter.collected(5, written(0));
        assertThat(meter.snapshot().falsePositivePages()).isEqualTo(4);
        assertThat(meter.snapshot().collects()).isEqualTo(2);
        assertThat(meter.snapshot().collectNanos()).isEqualTo(15);
    }

    @Test
    void aWriteInFlightOrEndingAfterTheLastReportingCollectBeganJustifiesTheNextReport() {
        TrueWriteLog log = new TrueWriteLog(P);
        CostMeter meter = new CostMeter(log, P);
        meter.started();
        log.record(0, 1);
        meter.collectStarting();
        // A store that started before the collect and ends after it began: it may land after the
        // collect re-armed page 0, so the next collect rightly reports page 0 again.
        log.beforeWrite(0, 8);
        meter.collected(1, written(0));
        log.afterWrite(0, 8);
        meter.collectStarting();
        meter.collected(1, written(0));
        // A write still in flight justifies a report too.
        log.beforeWrite(P, 8);
        meter.collectStarting();
        meter.collected(1, written(1));
        log.afterWrite(P, 8);
        assertThat(meter.snapshot().falsePositivePages()).isZero();
    }

    @Test
    void endingAWriteThatNeverBeganIsAnError() {
        TrueWriteLog log = new TrueWriteLog(P);
        assertThatThrownBy(() -> log.afterWrite(3 * P, 8)).hasMessageContaining("0x3000");
    }

    @Test
    void rejectsAPageSizeThatIsNotAPowerOfTwo() {
        assertThatThrownBy(() -> new TrueWriteLog(3000)).hasMessageContaining("3000");
    }

    @Test
    void meterRefusesALogOfAnotherPageSize() {
        assertThatThrownBy(() -> new CostMeter(new TrueWriteLog(4096), 65536))
                .hasMessageContaining("4096").hasMessageContaining("65536");
    }
}
