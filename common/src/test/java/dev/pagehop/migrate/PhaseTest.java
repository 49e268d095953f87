package dev.pagehop.migrate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PhaseTest {

    @Test
    void sourceHappyPathIsLegal() {
        SourcePhase p = SourcePhase.NEW;
        for (SourcePhase next : new SourcePhase[] {SourcePhase.PREPARING, SourcePhase.ITERATING, SourcePhase.STOP_AND_COPY,
                SourcePhase.SWITCHING_OVER, SourcePhase.COMMITTING, SourcePhase.COMPLETED}) {
            p = p.checkTransition(next, "m");
        }
        assertThat(p.terminal()).isTrue();
    }

    @Test
    void cancelIsPossibleOnlyBeforeCommit() {
        for (SourcePhase p : SourcePhase.values()) {
            boolean expected = p.ordinal() <= SourcePhase.SWITCHING_OVER.ordinal();
            assertThat(p.cancellable()).as(p.name()).isEqualTo(expected);
        }
        assertThatThrownBy(() -> SourcePhase.COMMITTING.checkTransition(SourcePhase.CANCELLED, "m-1"))
                .hasMessageContaining("m-1").hasMessageContaining("COMMITTING cannot move to CANCELLED");
    }

    @Test
    void terminalPhasesGoNowhere() {
        for (SourcePhase p : SourcePhase.values()) {
            if (p.terminal()) {
                for (SourcePhase q : SourcePhase.values()) {
                    assertThat(p.canMoveTo(q)).isFalse();
                }
            }
        }
        assertThat(TargetPhase.RUNNING.terminal()).isTrue();
        assertThat(TargetPhase.ABORTED.terminal()).isTrue();
        assertThat(TargetPhase.FAILED.terminal()).isTrue();
    }

    @Test
    void targetNeverGoesBackAndAbortsUntilRunning() {
        TargetPhase p = TargetPhase.PREPARED;
        for (TargetPhase next : new TargetPhase[] {TargetPhase.RECEIVING, TargetPhase.FINAL_ROUND_RECEIVED,
                TargetPhase.READY, TargetPhase.RUNNING}) {
            assertThat(p.canMoveTo(TargetPhase.ABORTED)).isTrue();
            p = p.checkTransition(next, "m");
        }
        assertThatThrownBy(() -> TargetPhase.READY.checkTransition(TargetPhase.RECEIVING, "m"))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void faultSpecsParseAndUnknownOnesAreNamed() {
        Map.Entry<FaultPoint, Long> e = FaultInjector.parse("kill-target-after-pages=1000");
        assertThat(e.getKey()).isEqualTo(FaultPoint.KILL_TARGET_AFTER_PAGES);
        assertThat(e.getValue()).isEqualTo(1000);
        assertThat(FaultInjector.parse("fail-final-state").getValue()).isZero();
        assertThatThrownBy(() -> FaultInjector.parse("explode")).hasMessageContaining("'explode'")
                .hasMessageContaining("drop-chunk");
        FaultInjector f = new FaultInjector().arm(FaultPoint.DROP_CHUNK, 3);
        assertThat(f.fireIfEquals(FaultPoint.DROP_CHUNK, 2)).isFalse();
        assertThat(f.fireIfEquals(FaultPoint.DROP_CHUNK, 3)).isTrue();
        assertThat(f.fireIfEquals(FaultPoint.DROP_CHUNK, 3)).as("fires once").isFalse();
    }
}
