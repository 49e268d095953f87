package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.cli.output.Json;
import dev.pagehop.cli.output.Names;
import dev.pagehop.cli.output.Table;
import dev.pagehop.cli.output.Units;
import dev.pagehop.proto.control.v1.MappedRange;
import dev.pagehop.proto.control.v1.ProcessInspection;
import java.io.PrintWriter;
import java.util.HexFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Show one process in detail: memory digest, layout, threads, and the workload's self-check.",
                "Exits 8 when --check is given and the self-check fails."})
final class InspectCommand extends AgentCommand {

    @Parameters(paramLabel = "PID", description = "The process id on that agent.")
    int pid;

    @Option(names = "--check", description = "Also run the workload's integrity self-check over memory.")
    boolean check;

    @Override
    public Integer call() {
        try (AgentClient a = connect("agent")) {
            ProcessInspection p = a.inspect(pid, check);
            if (json()) {
                Json.print(out(), p);
            } else {
                PrintWriter out = out();
                out.println("pid " + p.getProcess().getPid() + " on " + a.address() + ": " + p.getProcess().getWorkload() + ", "
                        + Names.of(p.getProcess().getState()) + ", " + Units.bytes(p.getProcess().getMappedBytes()) + " mapped, "
                        + Units.bytes(p.getProcess().getResidentBytes()) + " resident, " + p.getCpuStatesCount() + " threads");
                out.println("memory digest: " + HexFormat.of().formatHex(p.getMemoryDigest().toByteArray()));
                if (p.getIntegrityChecked()) {
                    out.println("integrity: " + (p.getIntegrityOk() ? "ok" : "FAILED")
                            + (p.getIntegrityDetail().isEmpty() ? "" : " (" + p.getIntegrityDetail() + ")"));
                }
                Table t = new Table("START", "END", "SIZE", "PROT", "SHARED").right(2);
                for (MappedRange r : p.getLayoutList()) {
                    t.row(String.format("%012x", r.getStart()), String.format("%012x", r.getEnd()),
                            Units.bytes(r.getEnd() - r.getStart()), prot(r.getProt()), r.getShared() ? "shared" : "private");
                }
                if (t.size() > 0) {
                    out.println();
                    t.print(out);
                }
                out.flush();
            }
            if (check && p.getIntegrityChecked() && !p.getIntegrityOk()) {
                throw new CliFailure(ExitCode.VERIFY_FAILED, "pid " + pid + " on " + a.address()
                        + " failed its integrity check: " + p.getIntegrityDetail());
            }
        }
        return ExitCode.OK.code();
    }

    /** PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4, shown as /proc/PID/maps does. */
    static String prot(int p) {
        return ((p & 1) != 0 ? "r" : "-") + ((p & 2) != 0 ? "w" : "-") + ((p & 4) != 0 ? "x" : "-");
    }
}
