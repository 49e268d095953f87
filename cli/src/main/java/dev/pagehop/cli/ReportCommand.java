package dev.pagehop.cli;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.cli.output.Json;
import dev.pagehop.cli.output.Names;
import dev.pagehop.cli.report.HtmlReport;
import dev.pagehop.cli.report.ReportData;
import dev.pagehop.proto.control.v1.MigrationInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Write an HTML report with charts of a finished migration.",
                "Headline figures, charts (pages per round, dirty rate vs bandwidth, remaining bytes over time, post-copy fault latency), the per-round",
                "table and the policy. Reads the migration from the agent, or from a file saved with",
                "'pagehop status MIGRATION -o json > m.json' (--from m.json)."})
final class ReportCommand extends AgentCommand {

    @Parameters(paramLabel = "MIGRATION", arity = "0..1", description = "The migration id (not needed with --from).")
    String migrationId;

    @Option(names = "--from", paramLabel = "FILE", description = "Read the migration from a saved 'status -o json'.")
    Path from;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE",
            description = "Where to write the page (default pagehop-report-MIGRATION.html).")
    Path file;

    @Override
    public Integer call() throws IOException {
        MigrationInfo m = from != null ? readSaved(from) : fetch();
        if (!Names.ended(m)) {
            throw new CliFailure(ExitCode.REFUSED, "migration " + m.getMigrationId() + " is still " + Names.phase(m)
                    + "; a report needs a finished migration (wait with 'pagehop watch " + m.getMigrationId() + "')");
        }
        Path target = file != null ? file : Path.of("pagehop-report-" + m.getMigrationId() + ".html");
        HtmlReport.Rendered r = HtmlReport.render(ReportData.of(m), Instant.now());
        Path parent = target.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(target, r.html(), StandardCharsets.UTF_8);
        if (json()) {
            ListValue.Builder ids = ListValue.newBuilder();
            r.chartIds().forEach(id -> ids.addValues(Value.newBuilder().setStringValue(id)));
            Json.print(out(), Struct.newBuilder()
                    .putFields("file", Value.newBuilder().setStringValue(target.toAbsolutePath().toString()).build())
                    .putFields("migrationId", Value.newBuilder().setStringValue(m.getMigrationId()).build())
                    .putFields("charts", Value.newBuilder().setListValue(ids).build())
                    .build());
        } else {
            out().println("wrote " + target + " (" + r.chartIds().size() + " charts: " + String.join(", ", r.chartIds()) + ")");
            out().flush();
        }
        return ExitCode.OK.code();
    }

    private MigrationInfo fetch() {
        if (migrationId == null) {
            throw new CliFailure(ExitCode.USAGE, "report needs a MIGRATION id or --from FILE");
        }
        try (AgentClient a = connect("agent")) {
            return a.migration(migrationId);
        }
    }

    private static MigrationInfo readSaved(Path path) {
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new CliFailure(ExitCode.USAGE, "--from " + path + ": no such file");
        } catch (IOException e) {
            throw new CliFailure(ExitCode.USAGE, "--from " + path + ": " + e.getMessage());
        }
        try {
            return Json.parse(text, MigrationInfo.newBuilder()).build();
        } catch (IllegalArgumentException e) {
            throw new CliFailure(ExitCode.USAGE, "--from " + path + ": " + e.getMessage());
        }
    }
}
