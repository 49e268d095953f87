package dev.pagehop.cli.progress;

import dev.pagehop.proto.control.v1.MigrationEvent;
import java.io.PrintWriter;

/**
 * The terminal display: one status line rewritten in place (carriage return + ANSI erase-line)
 * with a bar, percent in sync, remaining, rate, dirty rate, ETA and expected downtime; phase
 * changes and finished rounds scroll above it as permanent lines, as {@code virsh migrate
 * --verbose} and {@code docker pull} do.
 */
public final class LiveProgress implements ProgressView {
    private static final String ERASE_LINE = "\r\033[2K";
    private static final int BAR_WIDTH = 20;

    private final PrintWriter out;
    private final int columns;
    private final ProgressText text = new ProgressText();
    private boolean statusShown;

    public LiveProgress(PrintWriter out, int columns) {
        this.out = out;
        this.columns = columns;
    }

    @Override
    public void onEvent(MigrationEvent e) {
        text.learn(e);
        switch (e.getKind()) {
            case KIND_SNAPSHOT -> {
                permanent(text.start(e));
                text.newRounds(e).forEach(this::permanent);
            }
            case KIND_PHASE -> {
                text.newRounds(e).forEach(this::permanent);
                permanent(text.phase(e));
            }
            case KIND_ROUND_END -> text.newRounds(e).forEach(this::permanent);
            case KIND_PROGRESS -> status(text.bar(e, BAR_WIDTH) + text.progress(e));
            case KIND_END -> {
                text.newRounds(e).forEach(this::permanent);
                permanent(text.end(e));
            }
            case KIND_UNSPECIFIED, UNRECOGNIZED -> {
            }
        }
        out.flush();
    }

    private void permanent(String line) {
        out.print(ERASE_LINE);
        out.print(line);
        out.print('\n');
        statusShown = false;
    }

    private void status(String line) {
        // Wider than the terminal would wrap, and a wrapped line cannot be erased with \r.
        String fitted = line.length() > columns - 1 ? line.substring(0, Math.max(0, columns - 2)) + "…" : line;
        out.print(ERASE_LINE);
        out.print(fitted);
        statusShown = true;
    }

    @Override
    public void close() {
        if (statusShown) {
            out.print(ERASE_LINE);
            statusShown = false;
        }
        out.flush();
    }
}
