package dev.pagehop.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exit codes scripts can rely on. 0–2 follow picocli's conventions (and most Unix tools): 1 is
 * "failed", 2 is "bad command line". The rest name one failure each, so a script can tell an
 * unreachable agent from a refused or timed-out migration without parsing text.
 */
public enum ExitCode {
    OK(0, "success (for migrate/watch: the migration completed)"),
    FAILED(1, "the migration failed for another reason (the target or the source failed applying it), or an internal error"),
    USAGE(2, "bad command line or an argument the agent rejected as invalid"),
    UNREACHABLE(3, "an agent could not be reached (the message names host:port)"),
    NOT_FOUND(4, "unknown process or migration"),
    REFUSED(5, "refused: the target refused the migration, or the agent refused the request in its state"),
    TIMED_OUT(6, "timed out: the migration hit its progress or overall timeout, or a call its deadline"),
    CANCELLED(7, "the migration was cancelled"),
    VERIFY_FAILED(8, "verification failed: the target's memory digest differs from the source's at freeze"),
    NOT_CONVERGED(9, "pre-copy did not converge within the policy's limits and the policy aborted; the source process runs on "
            + "(try --mode hybrid, a higher --downtime-limit, or a higher --max-amplification so the auto-converge "
            + "throttle has rounds to work)"),
    NEEDS_ATTENTION(10, "the process is frozen and needs a decision: the commit's outcome is unknown (the source stays frozen), "
            + "or post-copy cannot complete (the target stays frozen)");

    private final int code;
    private final String meaning;

    ExitCode(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }

    /** The list picocli prints under "Exit codes:" in every command's help. */
    public static Map<String, String> helpList() {
        Map<String, String> m = new LinkedHashMap<>();
        for (ExitCode c : values()) {
            m.put(String.format("%2d", c.code), c.meaning);
        }
        return m;
    }
}
