package dev.pagehop.syscall;

/**
 * How a guest program ended: {@code exit_group(status)} or a fatal signal (with the reason the
 * CPU or MMU gave, e.g. the SIGILL encoding or the faulting address).
 */
public record GuestOutcome(Kind kind, int status, String detail) {

    public enum Kind { EXITED, KILLED }

    public static GuestOutcome exited(int status) {
        return new GuestOutcome(Kind.EXITED, status, "exit status " + status);
    }

    public static GuestOutcome killed(int signal, String detail) {
        return new GuestOutcome(Kind.KILLED, signal, detail);
    }
}
