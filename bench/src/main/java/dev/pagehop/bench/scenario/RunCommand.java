package dev.pagehop.bench.scenario;

import dev.pagehop.bench.report.SuiteReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code suite run FILE}: runs a scenario matrix against real agent processes. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs every scenario of a matrix file (bench/scenarios/*.json): two agent processes per run,",
                "the workload spawned on the source, migrated, and measured. Writes runs.csv, rounds.csv, runs.json,",
                "summary.md and report.html with charts."})
public final class RunCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "Scenario file, e.g. bench/scenarios/short.json")
    Path file;

    @Option(names = "--out", description = "Output directory (default bench/results/<scenario name>).")
    Path out;

    @Option(names = "--only", split = ",", description = {"Run only scenarios whose id contains this text (comma-separated or",
            "repeated: any of them), e.g. --only -postcopy-,-hybrid-"})
    List<String> only;

    @Option(names = "--classpath", description = "Classpath the agents start from (default: this program's own).")
    String classpath;

    @Option(names = "--deadline", description = {"Start no run after this instant (ISO-8601, e.g. 2026-11-26T07:05:00Z);",
            "the runs left are recorded as NOT_RUN, and the report covers what finished."})
    java.time.Instant deadline;

    @Option(names = "--fresh-agents", description = "Start a fresh agent pair for every run instead of reusing one per network profile.")
    boolean freshAgents;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var w = spec.commandLine().getOut();
        ScenarioFile f;
        try {
            f = ScenarioFile.load(file);
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("suite run: " + e.getMessage());
            return 2;
        }
        Path dir = out != null ? out : Path.of("bench", "results", f.name());
        Path logs = dir.resolve("logs");
        Files.createDirectories(logs);
        String cp = classpath != null ? classpath : System.getProperty("java.class.path");
        List<Scenario> all = f.expand();
        List<Scenario> selected = all.stream().filter(s -> only == null || only.stream().anyMatch(s.id()::contains)).toList();
        w.printf("suite run %s: %d of %d scenarios, results in %s%n", f.name(), selected.size(), all.size(), dir);
        String missing = ScenarioRunner.agentsMissing();
        if (missing != null) {
            w.println("suite run: " + missing + "; every scenario is recorded as skipped");
        }
        List<Scenario> order = ScenarioRunner.executionOrder(selected);
        String command = "./dev suite run " + file + (only == null ? "" : " --only " + String.join(",", only)) + " --out " + dir
                + (deadline == null ? "" : " --deadline " + deadline) + (freshAgents ? " --fresh-agents" : "");
        java.util.Map<Integer, RunResult> byIndex = new java.util.TreeMap<>();
        try (ScenarioRunner runner = new ScenarioRunner(f, file.getFileName().toString(), cp, logs, w::println,
                !freshAgents)) {
            // SIGTERM or Ctrl-C mid-suite: kill the agents and remove the namespaces on the way out
            // (the tables already hold every finished run).
            Thread cleanup = new Thread(runner::close, "suite-cleanup");
            Runtime.getRuntime().addShutdownHook(cleanup);
            for (Scenario s : order) {
                if (deadline != null && java.time.Instant.now().isAfter(deadline)) {
                    byIndex.put(s.index(), RunResult.skipped(file.getFileName().toString(), s, "NOT_RUN",
                            "not started: the suite's deadline " + deadline + " had passed"));
                    continue;
                }
                RunResult r = runner.run(s);
                byIndex.put(s.index(), r);
                w.printf("%-70s %-9s total=%6d ms downtime=%5d ms rounds=%2d sent=%8.1f MiB load=%.1f %s%n", r.id(),
                        r.status(), r.totalTimeMs(), r.downtimeMs(), r.rounds(), r.transferredBytes() / 1048576.0,
                        r.loadAvgEnd(), r.completed() ? "" : r.reason());
                w.flush();
                // Tables after every run, so a suite stopped early still has every run that finished.
                new SuiteReport(List.copyOf(byIndex.values()), Machine.describe(), command).write(dir, false);
            }
            Runtime.getRuntime().removeShutdownHook(cleanup);
        }
        List<RunResult> results = List.copyOf(byIndex.values());
        new SuiteReport(results, Machine.describe(), command).write(dir);
        w.println("wrote " + dir.resolve("report.html"));
        long failed = results.stream().filter(RunResult::broken).count();
        long incomplete = results.stream().filter(RunResult::digestMismatch).count();
        if (incomplete > 0) {
            spec.commandLine().getErr().println("suite run: " + incomplete + " completed runs have a memory digest mismatch");
        }
        return failed + incomplete == 0 ? 0 : 1;
    }
}
