package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.cli.output.Json;
import dev.pagehop.cli.output.Names;
import dev.pagehop.proto.control.v1.AgentInfo;
import java.io.PrintWriter;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show an agent's role, version, protocol version, workloads, trackers and granules.")
final class InfoCommand extends AgentCommand {

    @Override
    public Integer call() {
        try (AgentClient a = connect("agent")) {
            AgentInfo info = a.info();
            PrintWriter out = out();
            if (json()) {
                Json.print(out, info);
            } else {
                out.println(a.address() + ": " + Names.of(info.getRole()) + " agent " + info.getName() + ", version "
                        + info.getVersion() + ", protocol " + info.getProtocolVersion());
                out.println("  workloads: " + String.join(", ", info.getWorkloadsList()));
                out.println("  trackers:  " + info.getTrackersList().stream().map(Names::of).collect(Collectors.joining(", ")));
                out.println("  granules:  " + info.getGranulesList().stream().map(Names::of).collect(Collectors.joining(", ")));
                out.flush();
            }
        }
        return ExitCode.OK.code();
    }
}
