package dev.pagehop.cli;

/**
 * A failure the user should see as one line and a documented exit code. Everything a command
 * cannot complete ends in one of these; the root command's handler prints the message and returns
 * the code, so no command prints errors or calls {@code System.exit} itself.
 */
public final class CliFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ExitCode exitCode;

    public CliFailure(ExitCode exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public CliFailure(ExitCode exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public ExitCode exitCode() {
        return exitCode;
    }
}
