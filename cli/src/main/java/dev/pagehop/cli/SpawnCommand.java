package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.cli.options.Choices.GranuleChoice;
import dev.pagehop.cli.options.Converters;
import dev.pagehop.cli.output.Json;
import dev.pagehop.cli.output.Names;
import dev.pagehop.cli.output.Units;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.SpawnRequest;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "spawn", mixinStandardHelpOptions = true,
        description = {"Start an emulated arm64 process running a workload on a source agent.",
                "Prints the new process (its pid is what migrate takes)."})
final class SpawnCommand extends AgentCommand {

    @Option(names = {"-w", "--workload"}, defaultValue = "kv",
            description = "Workload (see 'pagehop info' for the agent's list; default ${DEFAULT-VALUE}).")
    String workload;

    @Option(names = {"-m", "--memory"}, paramLabel = "SIZE", defaultValue = "64MiB", converter = Converters.Size.class,
            description = "Size of the workload's memory, a multiple of the page size (default ${DEFAULT-VALUE}).")
    long memoryBytes;

    @Option(names = {"-g", "--granule"}, defaultValue = "4k",
            description = "Translation granule: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    GranuleChoice granule;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the workload's random streams (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-T", "--threads"}, defaultValue = "1", description = "Threads running the workload (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--write-rate", paramLabel = "RATE", defaultValue = "0", converter = Converters.Rate.class,
            description = "Target write rate, e.g. 32MiB/s; 0 = as fast as the emulator runs (default).")
    long writeRate;

    @Option(names = "--soft-dirty", description = "Compile in the hypothetical arm64 soft-dirty (needed by --tracker soft-dirty).")
    boolean softDirty;

    @Option(names = {"-p", "--param"}, paramLabel = "KEY=VALUE",
            description = "Workload parameter, repeatable (e.g. -p hot_fraction=0.1).")
    Map<String, String> params = new LinkedHashMap<>();

    @Override
    public Integer call() {
        if (threads < 1) {
            throw new CliFailure(ExitCode.USAGE, "--threads " + threads + " must be at least 1");
        }
        if (memoryBytes <= 0) {
            throw new CliFailure(ExitCode.USAGE, "--memory " + memoryBytes + " must be positive");
        }
        try (AgentClient a = connect("source agent")) {
            ProcessInfo p = a.spawn(SpawnRequest.newBuilder()
                    .setWorkload(workload).setMemoryBytes(memoryBytes).setGranule(granule.wire()).setSeed(seed)
                    .setThreads(threads).setWriteRateBytesPerSec(writeRate).setSoftDirty(softDirty).putAllParameters(params)
                    .build());
            if (json()) {
                Json.print(out(), p);
            } else {
                out().println("spawned pid " + p.getPid() + " on " + a.address() + ": " + p.getWorkload() + ", "
                        + Units.bytes(p.getMemoryBytes()) + ", " + Names.of(p.getGranule()) + " pages, " + p.getThreads()
                        + (p.getThreads() == 1 ? " thread, " : " threads, ") + Names.of(p.getState()));
                out().flush();
            }
        }
        return ExitCode.OK.code();
    }
}
