package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.cli.output.Json;
import dev.pagehop.cli.output.Names;
import dev.pagehop.proto.control.v1.MigrationInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "cancel", mixinStandardHelpOptions = true,
        description = {"Cancel a migration before switchover.",
                "The target discards what it received and the source process keeps running unchanged.",
                "Refused (exit 5) once switchover has started."})
final class CancelCommand extends AgentCommand {

    @Parameters(paramLabel = "MIGRATION", description = "The migration id.")
    String migrationId;

    @Override
    public Integer call() {
        try (AgentClient a = connect("agent")) {
            MigrationInfo m = a.cancel(migrationId);
            if (json()) {
                Json.print(out(), m);
            } else {
                out().println("migration " + m.getMigrationId() + " " + Names.phase(m) + "; pid " + m.getPid()
                        + " keeps running on " + a.address());
                out().flush();
            }
        }
        return ExitCode.OK.code();
    }
}
