package dev.pagehop.cli;

import dev.pagehop.proto.control.v1.MigrationInfo;
import java.util.Locale;

/**
 * The exit code of a finished migration. The agent says how it ended in the phase and, for
 * failures, in one line of text; until the protocol carries a machine-readable failure kind, the
 * refusal and timeout cases are recognised by the words the agents use for them.
 */
public final class MigrationOutcome {
    private MigrationOutcome() {
    }

    public static ExitCode of(MigrationInfo m) {
        return switch (m.getSourcePhase()) {
            case SOURCE_PHASE_COMPLETED -> ExitCode.OK;
            case SOURCE_PHASE_CANCELLED -> ExitCode.CANCELLED;
            case SOURCE_PHASE_FAILED -> ofFailure(m.getFailure());
            default -> targetSide(m);
        };
    }

    private static ExitCode targetSide(MigrationInfo m) {
        return switch (m.getTargetPhase()) {
            case TARGET_PHASE_RUNNING -> ExitCode.OK;
            case TARGET_PHASE_ABORTED -> ExitCode.CANCELLED;
            case TARGET_PHASE_FAILED -> ofFailure(m.getFailure());
            default -> ExitCode.FAILED;
        };
    }

    static ExitCode ofFailure(String failure) {
        String f = failure.toLowerCase(Locale.ROOT);
        // A target nobody answers for shows up as the gRPC status the source got from it.
        if (f.contains("unavailable") || f.contains("connection refused") || f.contains("unreachable")) {
            return ExitCode.UNREACHABLE;
        }
        // The agent words every failed call as "<target> refused <Call>: <status>"; the status decides.
        if (f.contains("timed out") || f.contains("timeout") || f.contains("deadline_exceeded")) {
            return ExitCode.TIMED_OUT;
        }
        if (f.contains("refused") || f.contains("refuses")) {
            return ExitCode.REFUSED;
        }
        if (f.contains("cancelled") || f.contains("canceled")) {
            return ExitCode.CANCELLED;
        }
        return ExitCode.FAILED;
    }
}
