package dev.pagehop.bench.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Writes the tracker comparison as CSV, JSON, a Markdown table and one PNG chart per question. */
public final class TrackerReport {

    private final List<TrackerRun> runs;
    private final List<TrackerComparison.Skip> skips;

    public TrackerReport(List<TrackerRun> runs, List<TrackerComparison.Skip> skips) {
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("tracker report: no runs to report (" + skips.size() + " skipped)");
        }
        this.runs = List.copyOf(runs);
        this.skips = List.copyOf(skips);
    }

    /** Writes trackers.csv, trackers.json, trackers.md and the tracker-*.png charts into {@code dir}. */
    public List<Path> write(Path dir, String machine, String command) throws IOException {
        Files.createDirectories(dir);
        List<Path> out = new ArrayList<>();
        Path csv = dir.resolve("trackers.csv");
        List<String> lines = new ArrayList<>();
        lines.add(TrackerRun.CSV_HEADER);
        runs.forEach(r -> lines.add(r.csvRow()));
        Files.write(csv, lines);
        out.add(csv);
        Path json = dir.resolve("trackers.json");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(),
                new Document(machine, command, runs, skips));
        out.add(json);
        Path md = dir.resolve("trackers.md");
        Files.writeString(md, markdown());
        out.add(md);
        out.addAll(charts(dir));
        return out;
    }

    record Document(String machine, String command, List<TrackerRun> runs, List<TrackerComparison.Skip> skipped) {
    }

    /** Rebuilds the tables and charts of an earlier run from its trackers.json (no re-measuring). */
    public static List<Path> rerender(Path dir) throws IOException {
        Document d = new ObjectMapper().readValue(dir.resolve("trackers.json").toFile(), Document.class);
        return new TrackerReport(d.runs(), d.skipped() == null ? List.of() : d.skipped()).write(dir, d.machine(), d.command());
    }

    private List<String> cases() {
        Set<String> s = new LinkedHashSet<>();
        runs.forEach(r -> s.add(r.kase()));
        return List.copyOf(s);
    }

    private List<String> granules() {
        Set<String> s = new LinkedHashSet<>();
        runs.forEach(r -> s.add(r.granule()));
        return List.copyOf(s);
    }

    private List<String> trackers() {
        Set<String> s = new LinkedHashSet<>();
        runs.forEach(r -> {
            if (!r.tracker().equals(TrackerComparison.NONE)) {
                s.add(r.tracker());
            }
        });
        return List.copyOf(s);
    }

    Optional<TrackerRun> find(String kase, String granule, String tracker) {
        return runs.stream().filter(r -> r.kase().equals(kase) && r.granule().equals(granule)
                && r.tracker().equals(tracker)).findFirst();
    }

    /** Workload time per step relative to the untracked run of the same case and granule, in percent. */
    double slowdownPercent(TrackerRun r) {
        return find(r.kase(), r.granule(), TrackerComparison.NONE)
                .filter(base -> base.nanosPerStep() > 0)
                .map(base -> 100.0 * (r.nanosPerStep() - base.nanosPerStep()) / base.nanosPerStep())
                .orElse(Double.NaN);
    }

    String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("| case | granule | tracker | traps | ns/trap | collect ms/round | max collect ms | page tables armed "
                + "(before) | pages written | pages reported | false positives | FP % | false negatives | "
                + "MiB to send | workload ns/step | slowdown vs untracked |\n");
        b.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (TrackerRun r : runs) {
            boolean none = r.tracker().equals(TrackerComparison.NONE);
            b.append(String.format("| %s | %s | %s | %s | %s | %s | %s | %d (%d) | %d | %s | %s | %s | %s | %s | %.0f | %s |%n",
                    r.kase(), r.granule(), r.tracker(), none ? "-" : Long.toString(r.traps()),
                    none ? "-" : String.format("%.0f", r.nanosPerTrap()),
                    none ? "-" : String.format("%.2f", r.collectMillisPerRound()),
                    none ? "-" : String.format("%.2f", r.maxCollectNanos() / 1e6), r.pageTablesAfterArm(),
                    r.pageTablesBaseline(), r.pagesWritten(), none ? "-" : Long.toString(r.pagesReported()),
                    none ? "-" : Long.toString(r.falsePositives()),
                    none ? "-" : String.format("%.1f", r.falsePositivePercent()),
                    none ? "-" : Long.toString(r.falseNegatives()),
                    none ? "-" : String.format("%.1f", r.bytesToSend() / 1048576.0), r.nanosPerStep(),
                    none ? "-" : String.format("%+.0f %%", slowdownPercent(r))));
        }
        if (!skips.isEmpty()) {
            b.append("\nSkipped:\n\n");
            for (TrackerComparison.Skip s : skips) {
                b.append(String.format("- %s %s %s: %s%n", s.kase(), s.granule(), s.tracker(), s.reason()));
            }
        }
        return b.toString();
    }

    private List<Path> charts(Path dir) {
        List<Path> out = new ArrayList<>();
        List<String> trackers = trackers();
        List<String> granules = granules();
        String first = granules.getFirst();

        List<Charts.Bar> trap = new ArrayList<>();
        List<Charts.Bar> collect = new ArrayList<>();
        List<Charts.Bar> fp = new ArrayList<>();
        List<Charts.Bar> fn = new ArrayList<>();
        List<Charts.Bar> sendBytes = new ArrayList<>();
        List<Charts.Bar> slowdown = new ArrayList<>();
        List<Charts.Bar> tables = new ArrayList<>();
        for (String kase : cases()) {
            for (String g : granules) {
                String cat = kase + " " + g;
                for (String t : trackers) {
                    find(kase, g, t).ifPresent(r -> {
                        trap.add(new Charts.Bar(t, cat, r.nanosPerTrap()));
                        collect.add(new Charts.Bar(t, cat, r.collectMillisPerRound()));
                        fp.add(new Charts.Bar(t, cat, r.falsePositivePercent()));
                        fn.add(new Charts.Bar(t, cat, r.falseNegatives()));
                        sendBytes.add(new Charts.Bar(t, cat, r.bytesToSend() / 1048576.0));
                        double s = slowdownPercent(r);
                        if (!Double.isNaN(s)) {
                            slowdown.add(new Charts.Bar(t, cat, s));
                        }
                    });
                }
            }
        }
        for (String g : granules) {
            find("sparse-1g", g, TrackerComparison.NONE)
                    .ifPresent(r -> tables.add(new Charts.Bar("untracked", g, r.pageTablesAfterArm())));
            for (String t : trackers) {
                find("sparse-1g", g, t).ifPresent(r -> tables.add(new Charts.Bar(t, g, r.pageTablesAfterArm())));
            }
        }
        out.add(chart(dir, "tracker-trap-ns.png", "Time per write trap (ns)", "case, granule", "ns per trap (log)", trap, true));
        out.add(chart(dir, "tracker-collect-ms.png", "Collect time per round (ms)", "case, granule",
                "ms per collect (log)", collect, true));
        out.add(chart(dir, "tracker-false-positives.png", "Pages reported but not written (% of reported)",
                "case, granule", "false positives %", fp, false));
        out.add(chart(dir, "tracker-false-negatives.png", "Changed pages never reported (lost writes)", "case, granule",
                "pages", fn, false));
        out.add(chart(dir, "tracker-bytes-to-send.png", "Data the rounds would send (MiB)", "case, granule",
                "MiB (log)", sendBytes, true));
        out.add(chart(dir, "tracker-slowdown.png", "Workload slowdown vs untracked (%)", "case, granule",
                "% longer per step", slowdown, false));
        if (!tables.isEmpty()) {
            out.add(chart(dir, "tracker-page-tables.png", "Page-table pages after arming, 1 GiB sparse mapping",
                    "granule", "page-table pages (log)", tables, true));
        }
        return out;
    }

    private static Path chart(Path dir, String file, String title, String x, String y, List<Charts.Bar> bars, boolean log) {
        Path p = dir.resolve(file);
        Charts.bars(p, title, x, y, bars, log);
        return p;
    }
}
