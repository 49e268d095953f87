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
        double t = Math.max(0, e.getTimeMs() - startMs) / 1000.0;
        switch (e.getKind()) {
            case KIND_SNAPSHOT -> {
                line(t, text.start(e));
                text.newRounds(e).forEach(l -> line(t, l));
            }
            case KIND_ROUND_END -> text.newRounds(e).forEach(l -> line(t, l));
            case KIND_PHASE -> {
                text.newRounds(e).forEach(l -> line(t, l));
                line(t, text.phase(e));
            }
            case KIND_PROGRESS -> line(t, text.progress(e));
            case KIND_END -> {
                text.newRounds(e).forEach(l -> line(t, l));
                line(t, text.end(e));
            }
            case KIND_UNSPECIFIED, UNRECOGNIZED -> {
            }
        }
        out.flush();
    }

    private void line(double seconds, String text) {
        out.printf("%8.3fs  %s%n", seconds, text);
    }

    @Override
    public void close() {
        out.flush();
    }
}
