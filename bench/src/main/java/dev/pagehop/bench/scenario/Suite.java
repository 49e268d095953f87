package dev.pagehop.bench.scenario;

import dev.pagehop.bench.report.TrackersCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ./dev suite ...}: the tracker comparison and the migration scenario runner. */
@Command(name = "suite", mixinStandardHelpOptions = true, subcommands = {TrackersCommand.class, RunCommand.class, ReportCommand.class},
        description = "pagehop benchmark suite: tracker comparison and migration scenarios.")
public final class Suite implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(new CommandLine(new Suite()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
    }
}
