package dev.pagehop.bench.scenario;

import dev.pagehop.bench.report.SuiteReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code suite report DIR}: rewrites a suite run's tables, charts and report.html from its runs.json. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Regenerates runs.csv, rounds.csv, summary.md, the charts and report.html of a suite run from",
                "its runs.json (for a run that was stopped before it wrote the report, or after a report change)."})
public final class ReportCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "A suite run's output directory, e.g. bench/results/full")
    Path dir;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path json = dir.resolve("runs.json");
        if (!Files.isRegularFile(json)) {
            spec.commandLine().getErr().println("suite report: " + json + " does not exist; give the --out directory of a suite run");
            return 2;
        }
        SuiteReport r = SuiteReport.read(json);
        r.write(dir);
        spec.commandLine().getOut().println("suite report: " + r.runs().size() + " runs; wrote " + dir.resolve("report.html"));
        return 0;
    }
}
