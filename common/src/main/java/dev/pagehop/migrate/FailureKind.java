package dev.pagehop.migrate;

/**
 * Why a migration failed, in the terms a script acts on (the wire's FailureKind; the CLI's exit
 * codes follow it). Decided where the failure happens, never read back from the message text.
 */
public enum FailureKind {
    /** The target could not be reached, or the connection to it broke. */
    TARGET_UNREACHABLE,
    /** The target refused a step (Prepare, Switchover, Commit). */
    REFUSED_BY_TARGET,
    /** The policy's overall or progress timeout, acknowledgments that stopped coming, a call's deadline. */
    TIMED_OUT,
    CANCELLED,
    /** Pre-copy could not converge under the policy, which said abort. */
    DID_NOT_CONVERGE,
    /** The target's memory digest differs from the source's at freeze. */
    DIGEST_MISMATCH,
    /** The target failed applying the page stream. */
    TARGET_ERROR,
    /** The source could not run the migration (tracker unavailable, internal error). */
    SOURCE_ERROR,
    /** Commit failed and the target cannot be asked whether the process runs there. */
    COMMIT_UNKNOWN,
    /** Post-copy cannot complete: the frozen image is gone with pages still missing. */
    POSTCOPY_CANNOT_COMPLETE;

    /** The kind of a policy ABORT: the timeouts are timeouts, every other stop rule is non-convergence. */
    public static FailureKind of(Decision.Reason reason) {
        return switch (reason) {
            case PROGRESS_TIMEOUT, OVERALL_TIMEOUT -> TIMED_OUT;
            case FIRST_ROUND, ITERATING, NOTHING_PENDING, CONVERGED, FEW_PAGES, THROTTLING,
                    DIRTY_RATE_EXCEEDS_BANDWIDTH, CANNOT_KEEP_UP, MAX_ROUNDS, DIRTY_SET_GROWING, AMPLIFICATION,
                    POSTCOPY_MODE, POSTCOPY_AFTER_ROUNDS -> DID_NOT_CONVERGE;
        };
    }

    /**
     * The kind of a failed call to the target, from its gRPC status code name: not answered,
     * too slow, broken on its side, or a refusal naming its reason.
     */
    public static FailureKind ofTargetCall(io.grpc.Status.Code code) {
        return switch (code) {
            case UNAVAILABLE -> TARGET_UNREACHABLE;
            case DEADLINE_EXCEEDED -> TIMED_OUT;
            case CANCELLED -> CANCELLED;
            case INTERNAL, UNKNOWN, DATA_LOSS -> TARGET_ERROR;
            case OK, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, RESOURCE_EXHAUSTED,
                    FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, UNAUTHENTICATED -> REFUSED_BY_TARGET;
        };
    }

    /**
     * On the page stream, anything but a lost connection or a timeout is the target failing it.
     * A stream cancelled without the user cancelling the migration (who is checked first) broke
     * under the source: the connection is gone.
     */
    public static FailureKind ofStream(io.grpc.Status.Code code) {
        return switch (ofTargetCall(code)) {
            case TARGET_UNREACHABLE, CANCELLED -> TARGET_UNREACHABLE;
            case TIMED_OUT -> TIMED_OUT;
            default -> TARGET_ERROR;
        };
    }
}
