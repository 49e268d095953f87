package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.cli.output.Json;
import dev.pagehop.cli.output.Names;
import dev.pagehop.cli.output.Table;
import dev.pagehop.cli.output.Units;
import dev.pagehop.proto.control.v1.ListProcessesResponse;
import dev.pagehop.proto.control.v1.ProcessInfo;
import java.util.List;
import picocli.CommandLine.Command;

@Command(name = "ps", aliases = "list", mixinStandardHelpOptions = true,
        description = "List the processes an agent runs (source) or has received (target).")
final class PsCommand extends AgentCommand {

    @Override
    public Integer call() {
        try (AgentClient a = connect("agent")) {
            List<ProcessInfo> ps = a.processes();
            if (json()) {
                Json.print(out(), ListProcessesResponse.newBuilder().addAllProcesses(ps).build());
                return ExitCode.OK.code();
            }
            if (ps.isEmpty()) {
                out().println("no processes on " + a.address());
                out().flush();
                return ExitCode.OK.code();
            }
            Table t = new Table("PID", "WORKLOAD", "STATE", "MEMORY", "RESIDENT", "GRANULE", "THREADS", "WRITE RATE",
                    "PROGRESS", "MIGRATION").right(0, 3, 4, 6, 7, 8);
            for (ProcessInfo p : ps) {
                t.row(p.getPid(), p.getWorkload(),
                        Names.of(p.getState()) + (p.getStopReason().isEmpty() ? "" : " (" + p.getStopReason() + ")"),
                        Units.bytes(p.getMemoryBytes()), Units.bytes(p.getResidentBytes()), Names.of(p.getGranule()),
                        p.getThreads(), Units.rate(p.getWriteRateBytesPerSec()), p.getProgress(),
                        p.getMigrationId().isEmpty() ? "-" : p.getMigrationId());
            }
            t.print(out());
            out().flush();
        }
        return ExitCode.OK.code();
    }
}
