package dev.pagehop.source;

import io.grpc.Status;

/** A migration failed; carries the gRPC status the CLI should see and a one-line reason. */
final class MigrationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Status status;

    MigrationException(Status status, String message) {
        super(message);
        this.status = status;
    }

    MigrationException(Status status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    Status status() {
        return status;
    }
}
