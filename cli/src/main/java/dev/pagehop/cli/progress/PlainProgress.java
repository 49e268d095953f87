package dev.pagehop.cli.progress;

import dev.pagehop.proto.control.v1.MigrationEvent;
import java.io.PrintWriter;

/**
 * One line per event, nothing rewritten: what a log file, a CI job or {@code | tee} should get.
 * Each line starts with the elapsed time so a log can be read without the agent's clock.
 */
public final class PlainProgress implements ProgressView {
    private final PrintWriter out;
    private final ProgressText text = new ProgressText();
    private long startMs = -1;

    public PlainProgress(PrintWriter out) {
        this.out = out;
    }

    @Override
    public void onEvent(MigrationEvent e) {
        text.learn(e);
        if (startMs < 0) {
            startMs = e.getTimeMs();
        }
        String line = switch (e.getKind()) {
            case KIND_SNAPSHOT -> text.start(e);
            case KIND_PHASE -> text.phase(e);
            case KIND_ROUND_END -> text.roundEnd(e);
            case KIND_PROGRESS -> text.progress(e);
            case KIND_END -> text.end(e);
            case KIND_UNSPECIFIED, UNRECOGNIZED -> null;
        };
        if (line != null) {
            out.printf("%8.3fs  %s%n", Math.max(0, e.getTimeMs() - startMs) / 1000.0, line);
            out.flush();
        }
    }

    @Override
    public void close() {
        out.flush();
    }
}
