package dev.pagehop.source;

import dev.pagehop.migrate.FailureKind;
import io.grpc.Status;

/**
 * A migration failed; carries the kind of failure (for scripts: the CLI's exit code), the gRPC
 * status the CLI should see and a one-line reason.
 */
final class MigrationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Status status;
    private final FailureKind kind;

    /** A failure whose kind follows from its status alone (see {@link #kind}); prefer naming the kind. */
    MigrationException(Status status, String message) {
        this(null, status, message);
    }

    MigrationException(Status status, String message, Throwable cause) {
        this(null, status, message, cause);
    }

    MigrationException(FailureKind kind, Status status, String message) {
        super(message);
        this.kind = kind;
        this.status = status;
    }

    MigrationException(FailureKind kind, Status status, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.status = status;
    }

    Status status() {
        return status;
    }

    /**
     * The kind given where it was thrown; without one, what the status alone says: a lost
     * connection, a deadline, a cancel, and otherwise a failure on this side.
     */
    FailureKind kind() {
        if (kind != null) {
            return kind;
        }
        return switch (status.getCode()) {
            case UNAVAILABLE -> FailureKind.TARGET_UNREACHABLE;
            case DEADLINE_EXCEEDED -> FailureKind.TIMED_OUT;
            case CANCELLED -> FailureKind.CANCELLED;
            default -> FailureKind.SOURCE_ERROR;
        };
    }
}
