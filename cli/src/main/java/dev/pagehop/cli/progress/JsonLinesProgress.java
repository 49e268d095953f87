package dev.pagehop.cli.progress;

import dev.pagehop.cli.output.Json;
import dev.pagehop.proto.control.v1.MigrationEvent;
import java.io.PrintWriter;

/** Every event as one JSON object per line, for scripts following a migration ({@code watch -o json}). */
public final class JsonLinesProgress implements ProgressView {
    private final PrintWriter out;

    public JsonLinesProgress(PrintWriter out) {
        this.out = out;
    }

    @Override
    public void onEvent(MigrationEvent event) {
        Json.printLine(out, event);
    }

    @Override
    public void close() {
        out.flush();
    }
}
