package dev.pagehop.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** The README's main job: a short local demonstration. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the local demo on an embedded default.")
final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getOut().println("pagehop demo: nothing to show yet");
        return 0;
    }
}
