package dev.pagehop.cli;

import dev.pagehop.proto.control.v1.FailureKind;
import dev.pagehop.proto.control.v1.MigrationInfo;

/**
 * The exit code of a finished migration: from its phase, and for failures from the failure kind
 * the agent set where the failure happened (MigrationInfo.failure_kind), never from the text.
 * An agent that predates the field reports UNSPECIFIED, which exits FAILED.
 */
public final class MigrationOutcome {
    private MigrationOutcome() {
    }

    public static ExitCode of(MigrationInfo m) {
        return switch (m.getSourcePhase()) {
            case SOURCE_PHASE_COMPLETED -> ExitCode.OK;
            case SOURCE_PHASE_CANCELLED -> ExitCode.CANCELLED;
            case SOURCE_PHASE_FAILED -> of(m.getFailureKind());
            default -> targetSide(m);
        };
    }

    private static ExitCode targetSide(MigrationInfo m) {
        return switch (m.getTargetPhase()) {
            case TARGET_PHASE_RUNNING -> ExitCode.OK;
            case TARGET_PHASE_ABORTED -> ExitCode.CANCELLED;
            case TARGET_PHASE_FAILED -> of(m.getFailureKind());
            default -> ExitCode.FAILED;
        };
    }

    static ExitCode of(FailureKind kind) {
        return switch (kind) {
            case FAILURE_KIND_TARGET_UNREACHABLE -> ExitCode.UNREACHABLE;
            case FAILURE_KIND_REFUSED_BY_TARGET -> ExitCode.REFUSED;
            case FAILURE_KIND_TIMED_OUT -> ExitCode.TIMED_OUT;
            case FAILURE_KIND_CANCELLED -> ExitCode.CANCELLED;
            case FAILURE_KIND_DIGEST_MISMATCH -> ExitCode.VERIFY_FAILED;
            case FAILURE_KIND_DID_NOT_CONVERGE -> ExitCode.NOT_CONVERGED;
            case FAILURE_KIND_COMMIT_UNKNOWN, FAILURE_KIND_POSTCOPY_CANNOT_COMPLETE -> ExitCode.NEEDS_ATTENTION;
            case FAILURE_KIND_TARGET_ERROR, FAILURE_KIND_SOURCE_ERROR, FAILURE_KIND_UNSPECIFIED, UNRECOGNIZED ->
                    ExitCode.FAILED;
        };
    }
}
