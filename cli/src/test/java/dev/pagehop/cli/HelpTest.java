package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** --help on every command: exit 0, usage on stdout, and the exit codes listed. */
class HelpTest {

    @Test
    void everyCommandHasHelpWithTheExitCodes() throws Exception {
        try (CliHarness cli = new CliHarness()) {
            List<String> names = Pagehop.commandLine(cli.context()).getSubcommands().keySet().stream()
                    .filter(n -> !n.equals("help") && !n.equals("list")).toList();
            assertThat(names).contains("info", "spawn", "ps", "inspect", "kill", "migrate", "status", "watch", "cancel",
                    "recover", "stats", "report", "demo", "mm-demo", "generate-completion");
            for (String n : names) {
                CliHarness.Result r = cli.run(n, "--help");
                assertThat(r.exitCode()).as(n).isZero();
                assertThat(r.out()).as(n).startsWith("Usage: pagehop " + n).contains("Exit codes:")
                        .contains(" 3   an agent could not be reached").contains(" 6   timed out");
            }
            CliHarness.Result root = cli.run("--help");
            assertThat(root.out()).contains("Commands:").contains("migrate").contains("Exit codes:");
        }
    }

    @Test
    void commandsThatPrintDataTakeOutputJson() throws Exception {
        try (CliHarness cli = new CliHarness()) {
            CommandLine cl = Pagehop.commandLine(cli.context());
            for (String n : List.of("info", "spawn", "ps", "inspect", "kill", "migrate", "status", "watch", "cancel",
                    "recover", "stats", "report")) {
                assertThat(cl.getSubcommands().get(n).getCommandSpec().findOption("--output")).as(n).isNotNull();
            }
        }
    }

    @Test
    void migrateParsesOnItsOwnAsManifestTestsReadIt() {
        MigrateCommand m = new MigrateCommand();
        new CommandLine(m).parseArgs("--source", "pagehop-source:7070", "--target", "10.0.0.7:7071", "--pid", "1000",
                "--tracker", "soft-dirty", "--mode", "hybrid", "-o", "json", "--progress", "plain");
        assertThat(m.agent.toString()).isEqualTo("pagehop-source:7070");
        assertThat(m.target.toString()).isEqualTo("10.0.0.7:7071");
        assertThat(m.pidOption).isEqualTo(1000);
        assertThat(m.tracker.wire()).isEqualTo(dev.pagehop.proto.types.v1.Tracker.TRACKER_SOFT_DIRTY);
        assertThat(new CommandLine(new Pagehop()).getSubcommands()).containsKey("migrate");
    }

    @Test
    void completionScriptKnowsTheCommandsAndTheirOptions() throws Exception {
        try (CliHarness cli = new CliHarness()) {
            CliHarness.Result r = cli.run("generate-completion");
            assertThat(r.exitCode()).isZero();
            assertThat(r.out()).contains("complete -F _complete_pagehop").contains("migrate").contains("--downtime-limit")
                    .contains("uffd-wp-async");
        }
    }

    @Test
    void noCommandPrintsUsageAndUnknownCommandIsAUsageError() throws Exception {
        try (CliHarness cli = new CliHarness()) {
            assertThat(cli.run().out()).startsWith("Usage: pagehop");
            CliHarness.Result r = cli.run("teleport");
            assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
            assertThat(r.err()).contains("Unmatched argument at index 0: 'teleport'").contains("see 'pagehop --help'");
        }
    }
}
