package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentAddress;
import dev.pagehop.cli.agent.AgentChannels;
import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.cli.options.Choices.OutputChoice;
import dev.pagehop.cli.options.Converters;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** What every command that talks to an agent shares: which agent, the call deadline, the output format. */
public abstract class AgentCommand implements Callable<Integer> {

    @ParentCommand
    Pagehop root;

    @Spec
    CommandSpec spec;

    @Option(names = {"-a", "--agent", "--source"}, paramLabel = "HOST:PORT", converter = Converters.Address.class,
            defaultValue = "${env:PAGEHOP_AGENT:-127.0.0.1:7070}",
            description = "The agent's gRPC address (default: $PAGEHOP_AGENT, else ${DEFAULT-VALUE}).")
    AgentAddress agent;

    @Option(names = "--call-timeout", paramLabel = "DURATION", defaultValue = "10s", converter = Converters.Millis.class,
            description = "Deadline of each call to an agent (default ${DEFAULT-VALUE}).")
    long callTimeoutMs;

    @Mixin
    TlsOptions tls;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text", converter = Converters.Output.class,
            description = "Output format: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    OutputChoice output;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    boolean json() {
        return output == OutputChoice.JSON;
    }

    CliContext context() {
        return root.context();
    }

    /** The agent this command addresses; the role names it in messages ("source agent at ..."). */
    AgentClient connect(String role) {
        return connect(role, agent);
    }

    /** The channels this command uses: TLS when TLS flags are given. */
    AgentChannels channels() {
        return tls.channels(context().channels());
    }

    AgentClient connect(String role, AgentAddress address) {
        return new AgentClient(role, address, channels(), callTimeoutMs);
    }
}
