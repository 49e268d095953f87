package dev.pagehop.cli;

import dev.pagehop.cli.options.Choices.ProgressChoice;
import dev.pagehop.cli.options.Converters;
import dev.pagehop.cli.progress.JsonLinesProgress;
import dev.pagehop.cli.progress.LiveProgress;
import dev.pagehop.cli.progress.PlainProgress;
import dev.pagehop.cli.progress.ProgressView;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** The progress flags of {@code migrate}, {@code watch} and {@code demo}, and the choice of display. */
final class ProgressOptions {

    @Option(names = "--progress", paramLabel = "STYLE", defaultValue = "auto", converter = Converters.Progress.class,
            description = "Progress display: ${COMPLETION-CANDIDATES}; auto = live on a terminal, plain lines otherwise "
                    + "(default ${DEFAULT-VALUE}). With --output json, progress goes to stderr.")
    ProgressChoice progress;

    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "500ms", converter = Converters.Millis.class,
            description = "Minimum spacing of progress updates (default ${DEFAULT-VALUE}).")
    long intervalMs;

    /**
     * Text output: progress on stdout, live when it is a terminal. JSON output keeps stdout for the
     * document, so progress (only when asked for explicitly) goes to stderr.
     */
    ProgressView view(CliContext context, PrintWriter out, PrintWriter err, boolean json) {
        if (json) {
            return switch (progress) {
                case AUTO, NONE -> ProgressView.none();
                case LIVE -> new LiveProgress(err, context.terminal().columns());
                case PLAIN -> new PlainProgress(err);
            };
        }
        return switch (progress) {
            case AUTO -> context.terminal().interactive()
                    ? new LiveProgress(out, context.terminal().columns()) : new PlainProgress(out);
            case LIVE -> new LiveProgress(out, context.terminal().columns());
            case PLAIN -> new PlainProgress(out);
            case NONE -> ProgressView.none();
        };
    }

    /** {@code watch -o json} streams the events themselves. */
    ProgressView eventStream(PrintWriter out) {
        return new JsonLinesProgress(out);
    }
}
