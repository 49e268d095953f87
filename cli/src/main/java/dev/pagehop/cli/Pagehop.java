package dev.pagehop.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code pagehop} command. Each verb is a subcommand returning its exit code. */
@Command(name = "pagehop", mixinStandardHelpOptions = true, version = "pagehop 0.1.0",
        description = "Live migration of an emulated arm64 Linux process between two agents.",
        subcommands = {DemoCommand.class, CommandLine.HelpCommand.class})
public final class Pagehop implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    public static CommandLine commandLine() {
        return new CommandLine(new Pagehop());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
