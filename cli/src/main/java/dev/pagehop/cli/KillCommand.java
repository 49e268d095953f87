package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.cli.output.Json;
import dev.pagehop.cli.output.Names;
import dev.pagehop.proto.control.v1.ProcessInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "kill", mixinStandardHelpOptions = true,
        description = "Stop a process and release its memory (refused while it is migrating).")
final class KillCommand extends AgentCommand {

    @Parameters(paramLabel = "PID", description = "The process id on that agent.")
    int pid;

    @Override
    public Integer call() {
        try (AgentClient a = connect("agent")) {
            ProcessInfo p = a.kill(pid);
            if (json()) {
                Json.print(out(), p);
            } else {
                out().println("killed pid " + p.getPid() + " on " + a.address() + " (" + Names.of(p.getState()) + ")");
                out().flush();
            }
        }
        return ExitCode.OK.code();
    }
}
