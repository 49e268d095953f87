package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.cli.output.Json;
import dev.pagehop.cli.output.Names;
import dev.pagehop.cli.progress.MigrationFollower;
import dev.pagehop.proto.control.v1.MigrationInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "recover", mixinStandardHelpOptions = true,
        description = {"Resume a paused post-copy migration.",
                "After a lost connection (QEMU's migrate-recover): the source reconnects, the target says what it still misses, and the",
                "page streams restart from there. Then follows it like 'watch' unless --detach."})
final class RecoverCommand extends AgentCommand {

    @Parameters(paramLabel = "MIGRATION", description = "The paused migration's id, on the source agent.")
    String migrationId;

    @Option(names = {"-d", "--detach"}, description = "Return once the recovery has started.")
    boolean detach;

    @Mixin
    ProgressOptions progress;

    @Override
    public Integer call() {
        try (AgentClient a = connect("source agent")) {
            MigrationInfo resumed = a.recover(migrationId);
            if (detach) {
                if (json()) {
                    Json.print(out(), resumed);
                } else {
                    out().println("recovering migration " + resumed.getMigrationId() + ": " + Names.phase(resumed));
                    out().flush();
                }
                return ExitCode.OK.code();
            }
            MigrationInfo end = MigrationFollower.follow(a, migrationId, progress.intervalMs,
                    progress.view(context(), out(), err(), json()));
            if (json()) {
                Json.print(out(), end);
            } else {
                out().println();
                dev.pagehop.cli.output.MigrationSummary.print(out(), end);
            }
            return MigrateCommand.failIfUnsuccessful(end);
        }
    }
}
