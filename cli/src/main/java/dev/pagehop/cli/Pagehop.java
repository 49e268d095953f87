package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentAddress;
import dev.pagehop.cli.options.Choices;
import dev.pagehop.cli.options.Converters;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code pagehop} command. Each verb is a subcommand returning its exit code; failures reach
 * the user as one line ("pagehop: ...") and a code from {@link ExitCode}, listed in every help.
 */
@Command(name = "pagehop", mixinStandardHelpOptions = true, version = "pagehop 0.1.0",
        description = {"Live migration of an emulated arm64 Linux process between two agents.", "",
                "Agents are addressed as HOST:PORT; --agent defaults to $PAGEHOP_AGENT, else 127.0.0.1:7070.",
                "Every command that prints data takes --output text|json."},
        commandListHeading = "%nCommands:%n",
        exitCodeListHeading = "%nExit codes:%n",
        subcommands = {InfoCommand.class, SpawnCommand.class, PsCommand.class, InspectCommand.class, KillCommand.class,
                MigrateCommand.class, StatusCommand.class, WatchCommand.class, CancelCommand.class, RecoverCommand.class,
                StatsCommand.class, ReportCommand.class, DemoCommand.class, MmDemoCommand.class,
                AutoComplete.GenerateCompletion.class, CommandLine.HelpCommand.class})
public final class Pagehop implements Callable<Integer> {

    private final CliContext context;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--debug", description = "On failure, print the stack trace after the one-line message.")
    boolean debug;

    /** The command as run from a shell: TCP to agents, this terminal, agents as processes for the demo. */
    public Pagehop() {
        this(CliContext.system());
    }

    public Pagehop(CliContext context) {
        this.context = context;
    }

    CliContext context() {
        return context;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return ExitCode.OK.code();
    }

    public static CommandLine commandLine(CliContext context) {
        Pagehop root = new Pagehop(context);
        CommandLine cl = new CommandLine(root);
        cl.registerConverter(AgentAddress.class, new Converters.Address());
        cl.registerConverter(Choices.TrackerChoice.class, Converters.choice(Choices.TrackerChoice.class, "tracker"));
        cl.registerConverter(Choices.ModeChoice.class, Converters.choice(Choices.ModeChoice.class, "mode"));
        cl.registerConverter(Choices.GranuleChoice.class, Converters.choice(Choices.GranuleChoice.class, "granule"));
        cl.registerConverter(Choices.AutoConvergeChoice.class,
                Converters.choice(Choices.AutoConvergeChoice.class, "auto-converge"));
        cl.registerConverter(Choices.NoConvergenceChoice.class,
                Converters.choice(Choices.NoConvergenceChoice.class, "no-convergence action"));
        cl.registerConverter(Choices.ProgressChoice.class, Converters.choice(Choices.ProgressChoice.class, "progress"));
        cl.registerConverter(Choices.OutputChoice.class, Converters.choice(Choices.OutputChoice.class, "output"));
        applyExitCodeList(cl);
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            CliFailure f = ex instanceof CliFailure c ? c
                    : new CliFailure(ExitCode.FAILED, "internal error: " + ex, ex);
            PrintWriter err = cmd.getErr();
            err.println("pagehop: " + f.getMessage());
            if (root.debug) {
                ex.printStackTrace(err);
            }
            err.flush();
            return f.exitCode().code();
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            PrintWriter err = cmd.getErr();
            String name = cmd.getCommandSpec().qualifiedName();
            err.println(name + ": " + ex.getMessage() + " (see '" + name + " --help')");
            err.flush();
            return ExitCode.USAGE.code();
        });
        return cl;
    }

    private static void applyExitCodeList(CommandLine cl) {
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(ExitCode.helpList());
        for (CommandLine sub : cl.getSubcommands().values()) {
            applyExitCodeList(sub);
        }
    }

    public static void main(String[] args) {
        // Charts render off-screen; a JDK on a server without X must not try to open a display.
        System.setProperty("java.awt.headless", "true");
        System.exit(commandLine(CliContext.system()).execute(args));
    }
}
