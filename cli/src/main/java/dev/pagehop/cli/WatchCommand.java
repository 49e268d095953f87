package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.cli.output.MigrationSummary;
import dev.pagehop.cli.progress.MigrationFollower;
import dev.pagehop.proto.control.v1.MigrationInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "watch", mixinStandardHelpOptions = true,
        description = {"Follow a migration until it ends, then show its summary.",
                "Live progress on a terminal, plain lines otherwise, then the per-round table and headline",
                "figures. With -o json, one event per line (JSON Lines).",
                "Ctrl-C only stops watching; the exit code says how the migration ended."})
final class WatchCommand extends AgentCommand {

    @Parameters(paramLabel = "MIGRATION", description = "The migration id.")
    String migrationId;

    @Mixin
    ProgressOptions progress;

    @Override
    public Integer call() {
        try (AgentClient a = connect("agent")) {
            MigrationInfo end = MigrationFollower.follow(a, migrationId, progress.intervalMs,
                    json() ? progress.eventStream(out()) : progress.view(context(), out(), err(), false));
            if (!json()) {
                out().println();
                MigrationSummary.print(out(), end);
            }
            return MigrateCommand.failIfUnsuccessful(end);
        }
    }
}
