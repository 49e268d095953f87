package dev.pagehop.cli.agent;

import dev.pagehop.cli.CliFailure;
import dev.pagehop.cli.ExitCode;
import dev.pagehop.security.TlsFailures;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Turns a gRPC status into the one line and exit code the user sees. The agents' descriptions
 * already name the pid, migration id or field at fault (see agent_control.proto), so the line is
 * "who said it" plus their description.
 */
public final class GrpcFailures {
    private GrpcFailures() {
    }

    /**
     * @param who  "source agent at 127.0.0.1:7070" — the peer the call went to
     * @param call the RPC, for deadline and unimplemented messages
     * @param deadlineMs the deadline the call had, 0 for none
     */
    public static CliFailure translate(StatusRuntimeException e, String who, String call, long deadlineMs) {
        Status s = e.getStatus();
        String desc = s.getDescription() == null || s.getDescription().isBlank() ? s.getCode().name() : s.getDescription();
        return switch (s.getCode()) {
            // A refused certificate is UNAVAILABLE "io exception" to gRPC; the user needs which side refused what.
            case UNAVAILABLE -> TlsFailures.describe(s, who, "this client's certificate (--tls-cert)").isPresent()
                    ? new CliFailure(ExitCode.UNREACHABLE, TlsFailures.describe(s, who, "this client's certificate (--tls-cert)").orElseThrow(), e)
                    : isTransportFailure(s)
                    ? new CliFailure(ExitCode.UNREACHABLE, "cannot reach " + who + ": " + transportReason(s), e)
                    : new CliFailure(ExitCode.UNREACHABLE, who + ": " + desc, e);
            case DEADLINE_EXCEEDED -> new CliFailure(ExitCode.TIMED_OUT, who + " did not answer " + call
                    + (deadlineMs > 0 ? " within " + deadlineMs + " ms" : "") + " (raise --call-timeout)", e);
            case NOT_FOUND -> new CliFailure(ExitCode.NOT_FOUND, who + ": " + desc, e);
            case FAILED_PRECONDITION, RESOURCE_EXHAUSTED, ALREADY_EXISTS, PERMISSION_DENIED, UNAUTHENTICATED,
                    ABORTED -> new CliFailure(ExitCode.REFUSED, who + " refused " + call + ": " + desc, e);
            case INVALID_ARGUMENT, OUT_OF_RANGE -> new CliFailure(ExitCode.USAGE, who + " rejected " + call + ": " + desc, e);
            case CANCELLED -> new CliFailure(ExitCode.CANCELLED, call + " to " + who + " was cancelled: " + desc, e);
            case UNIMPLEMENTED -> new CliFailure(ExitCode.REFUSED, who + " does not implement " + call
                    + " (an older agent, or the wrong role for this call)", e);
            default -> new CliFailure(ExitCode.FAILED, who + ": " + call + " failed with " + s.getCode() + ": " + desc, e);
        };
    }

    /** A failure of the connection itself (nothing listens, DNS, reset) rather than a status the agent sent. */
    private static boolean isTransportFailure(Status s) {
        if (s.getCause() != null) {
            return true;
        }
        String d = s.getDescription();
        return d != null && (d.startsWith("io exception") || d.startsWith("Could not find server")
                || d.startsWith("Network closed")
                || d.contains("Connection refused") || d.startsWith("Unable to resolve host"));
    }

    private static String transportReason(Status s) {
        if (s.getCause() == null && s.getDescription() != null && s.getDescription().startsWith("Network closed")) {
            // What a plaintext client sees when the agent speaks TLS and drops the connection.
            return "the agent closed the connection (does it require TLS? see --tls-ca)";
        }
        Throwable c = s.getCause();
        while (c != null && c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        String m = c != null ? c.getMessage() : s.getDescription();
        if (m == null) {
            return "unavailable";
        }
        // Netty writes "Connection refused: /127.0.0.1:7070" — the address is already in the line.
        int slash = m.indexOf(": /");
        String reason = slash > 0 ? m.substring(0, slash) : m;
        return reason.isEmpty() ? reason : Character.toLowerCase(reason.charAt(0)) + reason.substring(1);
    }
}
