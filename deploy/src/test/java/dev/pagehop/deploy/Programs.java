package dev.pagehop.deploy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * What the image's programs really accept, read from their picocli command specs: options, the
 * environment variable behind each option (declared as {@code defaultValue = "${env:NAME:-x}"}),
 * and the value an option takes for a given command line and environment.
 */
final class Programs {
    private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?}");

    private Programs() {
    }

    /** A fresh spec of the image program named {@code command} (e.g. "target-agent"). */
    static CommandLine commandLine(String command) {
        Entrypoint.Program program = Entrypoint.Program.byCommand(command)
                .orElseThrow(() -> new AssertionError("'" + command + "' is not a program of the image"));
        try {
            Class<?> type = Class.forName(program.mainClass());
            var constructor = type.getDeclaredConstructor();
            constructor.setAccessible(true);
            return new CommandLine(constructor.newInstance());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(program.mainClass() + " has no usable no-arg constructor", e);
        }
    }

    /** The sub-command a command line selects, following positional sub-command names. */
    static CommandLine select(CommandLine root, List<String> args, List<String> rest) {
        CommandLine current = root;
        int i = 0;
        while (i < args.size() && current.getSubcommands().containsKey(args.get(i))) {
            current = current.getSubcommands().get(args.get(i));
            i++;
        }
        rest.addAll(args.subList(i, args.size()));
        return current;
    }

    /**
     * Environment variable name → option name, for every option whose default comes from the
     * environment. Read with variable interpolation off: picocli otherwise hands out the default
     * already resolved against this JVM's environment.
     */
    static Map<String, String> environment(String command, List<String> subcommands) {
        CommandLine raw = commandLine(command);
        raw.setInterpolateVariables(false);
        CommandSpec spec = select(raw, subcommands, new ArrayList<>()).getCommandSpec();
        Map<String, String> out = new LinkedHashMap<>();
        for (OptionSpec o : spec.options()) {
            envName(o).ifPresent(name -> out.put(name, o.longestName()));
        }
        return out;
    }

    static Optional<String> envName(OptionSpec o) {
        if (o.defaultValue() == null) {
            return Optional.empty();
        }
        Matcher m = ENV_DEFAULT.matcher(o.defaultValue());
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** The default an option has when its environment variable is not set (null if none). */
    static String plainDefault(OptionSpec o) {
        if (o.defaultValue() == null) {
            return null;
        }
        Matcher m = ENV_DEFAULT.matcher(o.defaultValue());
        return m.matches() ? m.group(2) : o.defaultValue();
    }

    /**
     * Parses {@code args} with the program's spec as the container would run it, with {@code env}
     * as its environment: every variable the spec maps to an option and that the arguments do not
     * give becomes that option's argument. Picocli rejects unknown options and bad values.
     */
    static Parsed parse(String command, List<String> args, Map<String, String> env) {
        CommandLine root = commandLine(command);
        List<String> rest = new ArrayList<>();
        CommandLine selected = select(root, args, rest);
        CommandSpec spec = selected.getCommandSpec();
        List<String> prefix = args.subList(0, args.size() - rest.size());
        Map<String, String> declared = environment(command, prefix);
        List<String> effective = new ArrayList<>();
        for (Map.Entry<String, String> e : declared.entrySet()) {
            if (env.containsKey(e.getKey()) && !givenIn(rest, spec.findOption(e.getValue()))) {
                effective.add(e.getValue() + "=" + env.get(e.getKey()));
            }
        }
        effective.addAll(rest);
        List<String> all = new ArrayList<>(prefix);
        all.addAll(effective);
        CommandLine.ParseResult result = root.parseArgs(all.toArray(String[]::new));
        while (result.hasSubcommand()) {
            result = result.subcommand();
        }
        return new Parsed(spec, result, declared);
    }

    private static boolean givenIn(List<String> args, OptionSpec o) {
        for (String a : args) {
            for (String name : o.names()) {
                if (a.equals(name) || a.startsWith(name + "=")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A parsed command line: option values as the program would see them. */
    record Parsed(CommandSpec spec, CommandLine.ParseResult result, Map<String, String> environment) {
        /** The option's value: given on the command line, else its plain default. */
        String value(String option) {
            OptionSpec o = spec.findOption(option);
            if (o == null) {
                throw new AssertionError(spec.qualifiedName() + " has no option " + option + "; it has "
                        + spec.options().stream().map(OptionSpec::longestName).toList());
            }
            if (result.hasMatchedOption(option)) {
                return result.matchedOption(option).stringValues().getLast();
            }
            return plainDefault(o);
        }

        int intValue(String option) {
            return Integer.parseInt(value(option));
        }
    }
}
