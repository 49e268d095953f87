package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.proto.control.v1.FailureKind;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.TargetPhase;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/** Every failure kind an agent can set, and the exit code each maps to; the text never decides. */
class MigrationOutcomeTest {

    private static MigrationInfo failed(FailureKind kind, String text) {
        return MigrationInfo.newBuilder().setMigrationId("m").setSourcePhase(SourcePhase.SOURCE_PHASE_FAILED)
                .setFailure(text).setFailureKind(kind).build();
    }

    @Test
    void eachFailureKindMapsToItsExitCode() {
        assertThat(MigrationOutcome.of(failed(FailureKind.FAILURE_KIND_TARGET_UNREACHABLE, "x"))).isEqualTo(ExitCode.UNREACHABLE);
        assertThat(MigrationOutcome.of(failed(FailureKind.FAILURE_KIND_REFUSED_BY_TARGET, "x"))).isEqualTo(ExitCode.REFUSED);
        assertThat(MigrationOutcome.of(failed(FailureKind.FAILURE_KIND_TIMED_OUT, "x"))).isEqualTo(ExitCode.TIMED_OUT);
        assertThat(MigrationOutcome.of(failed(FailureKind.FAILURE_KIND_CANCELLED, "x"))).isEqualTo(ExitCode.CANCELLED);
        assertThat(MigrationOutcome.of(failed(FailureKind.FAILURE_KIND_DID_NOT_CONVERGE, "x"))).isEqualTo(ExitCode.NOT_CONVERGED);
        assertThat(MigrationOutcome.of(failed(FailureKind.FAILURE_KIND_DIGEST_MISMATCH, "x"))).isEqualTo(ExitCode.VERIFY_FAILED);
        assertThat(MigrationOutcome.of(failed(FailureKind.FAILURE_KIND_COMMIT_UNKNOWN, "x"))).isEqualTo(ExitCode.NEEDS_ATTENTION);
        assertThat(MigrationOutcome.of(failed(FailureKind.FAILURE_KIND_POSTCOPY_CANNOT_COMPLETE, "x")))
                .isEqualTo(ExitCode.NEEDS_ATTENTION);
        assertThat(MigrationOutcome.of(failed(FailureKind.FAILURE_KIND_TARGET_ERROR, "x"))).isEqualTo(ExitCode.FAILED);
        assertThat(MigrationOutcome.of(failed(FailureKind.FAILURE_KIND_SOURCE_ERROR, "x"))).isEqualTo(ExitCode.FAILED);
    }

    @Test
    void everyKindIsMapped() {
        for (FailureKind k : EnumSet.complementOf(EnumSet.of(FailureKind.UNRECOGNIZED))) {
            assertThat(MigrationOutcome.of(failed(k, "x"))).as(k.name()).isNotNull();
        }
    }

    @Test
    void theTextNeverDecides() {
        // Words the old text matching keyed on, under a kind that says otherwise.
        assertThat(MigrationOutcome.of(failed(FailureKind.FAILURE_KIND_DID_NOT_CONVERGE,
                "migration m: policy aborted after round 8: target refused; UNAVAILABLE; timed out")))
                .isEqualTo(ExitCode.NOT_CONVERGED);
        // An agent that predates failure_kind: a failure without a kind is just FAILED.
        assertThat(MigrationOutcome.of(failed(FailureKind.FAILURE_KIND_UNSPECIFIED,
                "migration m: target 127.0.0.1:1 refused Prepare: UNAVAILABLE: io exception"))).isEqualTo(ExitCode.FAILED);
    }

    @Test
    void theTargetsRecordMapsByItsPhaseAndKind() {
        MigrationInfo stuck = MigrationInfo.newBuilder().setTargetPhase(TargetPhase.TARGET_PHASE_FAILED)
                .setFailureKind(FailureKind.FAILURE_KIND_POSTCOPY_CANNOT_COMPLETE).build();
        assertThat(MigrationOutcome.of(stuck)).isEqualTo(ExitCode.NEEDS_ATTENTION);
        assertThat(MigrationOutcome.of(MigrationInfo.newBuilder().setTargetPhase(TargetPhase.TARGET_PHASE_RUNNING).build()))
                .isEqualTo(ExitCode.OK);
        assertThat(MigrationOutcome.of(MigrationInfo.newBuilder().setTargetPhase(TargetPhase.TARGET_PHASE_ABORTED).build()))
                .isEqualTo(ExitCode.CANCELLED);
    }
}
