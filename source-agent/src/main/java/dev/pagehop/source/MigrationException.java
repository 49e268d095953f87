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

    FailureKind kind() {
        return kind;
    }
}
