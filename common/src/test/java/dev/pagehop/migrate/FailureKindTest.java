package dev.pagehop.migrate;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

class FailureKindTest {

    @Test
    void policyAbortsAreTimeoutsOrNonConvergence() {
        assertThat(FailureKind.of(Decision.Reason.OVERALL_TIMEOUT)).isEqualTo(FailureKind.TIMED_OUT);
        assertThat(FailureKind.of(Decision.Reason.PROGRESS_TIMEOUT)).isEqualTo(FailureKind.TIMED_OUT);
        for (Decision.Reason r : new Decision.Reason[] {Decision.Reason.MAX_ROUNDS, Decision.Reason.DIRTY_SET_GROWING,
                Decision.Reason.AMPLIFICATION, Decision.Reason.DIRTY_RATE_EXCEEDS_BANDWIDTH}) {
            assertThat(FailureKind.of(r)).as(r.name()).isEqualTo(FailureKind.DID_NOT_CONVERGE);
        }
    }

    @Test
    void aFailedCallToTheTargetIsUnreachableTimedOutBrokenOrARefusal() {
        assertThat(FailureKind.ofTargetCall(Status.Code.UNAVAILABLE)).isEqualTo(FailureKind.TARGET_UNREACHABLE);
        assertThat(FailureKind.ofTargetCall(Status.Code.DEADLINE_EXCEEDED)).isEqualTo(FailureKind.TIMED_OUT);
        assertThat(FailureKind.ofTargetCall(Status.Code.INTERNAL)).isEqualTo(FailureKind.TARGET_ERROR);
        assertThat(FailureKind.ofTargetCall(Status.Code.DATA_LOSS)).isEqualTo(FailureKind.TARGET_ERROR);
        for (Status.Code c : new Status.Code[] {Status.Code.FAILED_PRECONDITION, Status.Code.RESOURCE_EXHAUSTED,
                Status.Code.ALREADY_EXISTS, Status.Code.PERMISSION_DENIED, Status.Code.UNAUTHENTICATED,
                Status.Code.INVALID_ARGUMENT, Status.Code.UNIMPLEMENTED}) {
            assertThat(FailureKind.ofTargetCall(c)).as(c.name()).isEqualTo(FailureKind.REFUSED_BY_TARGET);
        }
        for (Status.Code c : Status.Code.values()) {
            assertThat(FailureKind.ofTargetCall(c)).as(c.name()).isNotNull();
        }
    }

    @Test
    void onTheStreamACancelledCallIsALostConnectionAndRefusalsAreTargetErrors() {
        assertThat(FailureKind.ofStream(Status.Code.CANCELLED)).isEqualTo(FailureKind.TARGET_UNREACHABLE);
        assertThat(FailureKind.ofStream(Status.Code.UNAVAILABLE)).isEqualTo(FailureKind.TARGET_UNREACHABLE);
        assertThat(FailureKind.ofStream(Status.Code.DEADLINE_EXCEEDED)).isEqualTo(FailureKind.TIMED_OUT);
        assertThat(FailureKind.ofStream(Status.Code.INVALID_ARGUMENT)).isEqualTo(FailureKind.TARGET_ERROR);
        assertThat(FailureKind.ofStream(Status.Code.OUT_OF_RANGE)).isEqualTo(FailureKind.TARGET_ERROR);
        assertThat(FailureKind.ofStream(Status.Code.DATA_LOSS)).isEqualTo(FailureKind.TARGET_ERROR);
    }
}
