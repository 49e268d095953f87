package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.cli.output.Json;
import dev.pagehop.cli.output.MigrationSummary;
import dev.pagehop.cli.output.Names;
import dev.pagehop.cli.output.Table;
import dev.pagehop.cli.output.Units;
import dev.pagehop.proto.control.v1.ListMigrationsResponse;
import dev.pagehop.proto.control.v1.MigrationInfo;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show one migration (state, per-round table, headline figures), or list them all.",
                "On a source agent: outgoing migrations; on a target: incoming ones."})
final class StatusCommand extends AgentCommand {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

    @Parameters(paramLabel = "MIGRATION", arity = "0..1", description = "A migration id; omit it to list all.")
    String migrationId;

    @Override
    public Integer call() {
        try (AgentClient a = connect("agent")) {
            if (migrationId != null) {
                MigrationInfo m = a.migration(migrationId);
                if (json()) {
                    Json.print(out(), m);
                } else {
                    MigrationSummary.print(out(), m);
                }
                return ExitCode.OK.code();
            }
            List<MigrationInfo> all = a.migrations();
            if (json()) {
                Json.print(out(), ListMigrationsResponse.newBuilder().addAllMigrations(all).build());
                return ExitCode.OK.code();
            }
            if (all.isEmpty()) {
                out().println("no migrations on " + a.address());
                out().flush();
                return ExitCode.OK.code();
            }
            Table t = new Table("MIGRATION", "PID", "TARGET", "MODE", "TRACKER", "PHASE", "ROUNDS", "TRANSFERRED",
                    "REMAINING", "DOWNTIME", "STARTED (UTC)").right(1, 6, 7, 8, 9);
            for (MigrationInfo m : all) {
                t.row(m.getMigrationId(), m.getPid(), m.getTarget().isEmpty() ? "-" : m.getTarget(), Names.of(m.getMode()),
                        Names.of(m.getTracker()), Names.phase(m), m.getStats().getRounds(),
                        Units.bytes(m.getStats().getTransferredBytes()), Units.bytes(m.getStats().getRemainingBytes()),
                        m.getStats().getDowntimeMs() > 0 ? m.getStats().getDowntimeMs() + " ms" : "-",
                        m.getStartTimeMs() > 0 ? TIME.format(Instant.ofEpochMilli(m.getStartTimeMs())) : "-");
            }
            t.print(out());
            out().flush();
        }
        return ExitCode.OK.code();
    }
}
