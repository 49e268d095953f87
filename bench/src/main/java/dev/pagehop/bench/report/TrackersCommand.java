package dev.pagehop.bench.report;

import dev.pagehop.bench.scenario.Machine;
import dev.pagehop.mm.Granule;
import dev.pagehop.track.DirtyTrackers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code suite trackers}: the soft-dirty vs uffd-wp comparison, no network involved. */
@Command(name = "trackers", mixinStandardHelpOptions = true,
        description = {"Runs soft-dirty, uffd-wp-async and uffd-wp-sync (and an untracked baseline) on identical",
                "seeded workloads per granule and writes trackers.csv/json/md and PNG charts."})
public final class TrackersCommand implements Callable<Integer> {

    @Option(names = "--out", defaultValue = "bench/results/trackers", description = "Output directory (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--scale", defaultValue = "1.0",
            description = "Fraction of the documented step counts (1.0 = the recorded run; CI smoke uses 0.02).")
    double scale;

    @Option(names = "--granules", split = ",", defaultValue = "K4,K16,K64", description = "Granules: ${COMPLETION-CANDIDATES}.")
    List<Granule> granules;

    @Option(names = "--cases", split = ",", description = "Only these cases (default all).")
    List<String> cases;

    @Option(names = "--rerender", description = "Only redraw tables and charts from the trackers.json in --out.")
    boolean rerender;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (rerender) {
            List<Path> files = TrackerReport.rerender(out);
            spec.commandLine().getOut().println("redrew " + files.size() + " files in " + out);
            return 0;
        }
        List<TrackerCase> selected = new ArrayList<>();
        for (TrackerCase c : TrackerCase.standard(scale)) {
            if (cases == null || cases.contains(c.name())) {
                selected.add(c);
            }
        }
        if (selected.isEmpty()) {
            spec.commandLine().getErr().println("suite trackers: no case matches " + cases + "; known: "
                    + TrackerCase.standard(1).stream().map(TrackerCase::name).toList());
            return 2;
        }
        List<String> trackers = new ArrayList<>();
        trackers.add(TrackerComparison.NONE);
        trackers.addAll(DirtyTrackers.NAMES);
        var w = spec.commandLine().getOut();
        TrackerComparison.Results results = TrackerComparison.runAll(selected, granules, trackers, r -> {
            w.printf("%-10s %-4s %-14s traps=%-8d collect=%7.2f ms/round reported=%-8d written=%-8d fp=%-7d fn=%d%n",
                    r.kase(), r.granule(), r.tracker(), r.traps(), r.collectMillisPerRound(), r.pagesReported(),
                    r.pagesWritten(), r.falsePositives(), r.falseNegatives());
            w.flush();
        }, s -> {
            w.printf("%-10s %-4s %-14s SKIPPED: %s%n", s.kase(), s.granule(), s.tracker(), s.reason());
            w.flush();
        });
        List<TrackerRun> runs = results.runs();
        String command = "./dev suite trackers --scale " + scale + " --granules "
                + String.join(",", granules.stream().map(Enum::name).toList()) + " --out " + out;
        List<Path> files = new TrackerReport(runs, results.skips()).write(out, Machine.describe(), command);
        w.println("wrote " + files.size() + " files to " + out.toAbsolutePath());
        long falseNegatives = runs.stream().mapToLong(TrackerRun::falseNegatives).sum();
        if (falseNegatives > 0) {
            // Reported, not fatal: the comparison exists to surface exactly this.
            spec.commandLine().getErr().println("suite trackers: WARNING " + falseNegatives
                    + " changed pages were never reported (false negatives; see trackers.csv)");
        }
        return 0;
    }
}
