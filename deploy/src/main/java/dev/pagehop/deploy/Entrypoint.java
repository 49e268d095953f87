package dev.pagehop.deploy;

import java.io.PrintStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The container image's entry point. The image holds both agents and the CLI on one class path;
 * the first argument picks which one runs, and every further argument goes to it unchanged, so a
 * container takes exactly the flags the same program takes on a host:
 * <pre>
 *   docker run pagehop:VERSION source-agent --bind 0.0.0.0 ...
 *   docker run pagehop:VERSION target-agent --help
 *   docker run pagehop:VERSION pagehop migrate ...
 * </pre>
 * Classes are named rather than referenced so that this module stays a thin launcher; the
 * deploy tests check every name resolves to a {@code public static void main(String[])}.
 */
public final class Entrypoint {

    /** The programs the image can run, by the name a user types. */
    public enum Program {
        SOURCE_AGENT("source-agent", "dev.pagehop.source.SourceAgent"),
        TARGET_AGENT("target-agent", "dev.pagehop.target.TargetAgent"),
        CLI("pagehop", "dev.pagehop.cli.Pagehop");

        private final String command;
        private final String mainClass;

        Program(String command, String mainClass) {
            this.command = command;
            this.mainClass = mainClass;
        }

        public String command() {
            return command;
        }

        public String mainClass() {
            return mainClass;
        }

        public static Optional<Program> byCommand(String command) {
            return Arrays.stream(values()).filter(p -> p.command.equals(command)).findFirst();
        }

        /** The program's {@code main}, looked up without initialising anything else. */
        public MethodHandle main() throws ReflectiveOperationException {
            Class<?> type = Class.forName(mainClass, false, Entrypoint.class.getClassLoader());
            return MethodHandles.publicLookup().findStatic(type, "main",
                    MethodType.methodType(void.class, String[].class));
        }
    }

    private Entrypoint() {
    }

    public static void main(String[] args) throws Throwable {
        int usage = usage(args, System.err);
        if (usage != 0) {
            System.exit(usage);
        }
        Program program = Program.byCommand(args[0]).orElseThrow();
        program.main().invokeExact(Arrays.copyOfRange(args, 1, args.length));
    }

    /**
     * Checks the first argument; prints what went wrong and returns the exit code (0 = go on, 2
     * = usage error, as picocli uses) so the check is testable without exiting the JVM.
     */
    static int usage(String[] args, PrintStream err) {
        String names = Arrays.stream(Program.values()).map(Program::command).collect(Collectors.joining(", "));
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            err.println("usage: <program> [arguments...] where <program> is one of: " + names);
            err.println("  e.g. source-agent --help, target-agent --help, pagehop --help");
            return 2;
        }
        if (Program.byCommand(args[0]).isEmpty()) {
            err.println("unknown program '" + args[0] + "'; this image runs one of: " + names);
            return 2;
        }
        return 0;
    }
}
