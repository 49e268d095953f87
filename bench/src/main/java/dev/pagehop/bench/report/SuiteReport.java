package dev.pagehop.bench.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pagehop.bench.scenario.RunResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The scenario suite's output: runs.csv (one row per run), rounds.csv (one row per round),
 * runs.json (everything, with the machine and the command), summary.md and report.html with one
 * chart per question.
 */
public final class SuiteReport {

    private final List<RunResult> runs;
    private final String machine;
    private final String command;

    public SuiteReport(List<RunResult> runs, String machine, String command) {
        this.runs = List.copyOf(runs);
        this.machine = machine;
        this.command = command;
    }

    record Document(String machine, String command, List<RunResult> runs) {
    }

    public List<Path> write(Path dir) throws IOException {
        return write(dir, true);
    }

    /**
     * Reads a suite's runs.json back, to rewrite its tables and report (after a suite that was
     * stopped, or with a newer report layout).
     */
    public static SuiteReport read(Path runsJson) throws IOException {
        Document d = new ObjectMapper().configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES,
                false).readValue(runsJson.toFile(), Document.class);
        return new SuiteReport(d.runs() == null ? List.of() : d.runs(), d.machine(), d.command());
    }

    public List<RunResult> runs() {
        return runs;
    }

    /** The tables always; the charts and report.html only with {@code charts} (they take a while). */
    public List<Path> write(Path dir, boolean withCharts) throws IOException {
        Files.createDirectories(dir);
        List<Path> out = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        rows.add(RunResult.CSV_HEADER);
        runs.forEach(r -> rows.add(r.csvRow()));
        out.add(Files.write(dir.resolve("runs.csv"), rows));
        List<String> rounds = new ArrayList<>();
        rounds.add(RunResult.ROUNDS_CSV_HEADER);
        runs.forEach(r -> rounds.addAll(r.roundRows()));
        out.add(Files.write(dir.resolve("rounds.csv"), rounds));
        Path json = dir.resolve("runs.json");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(),
                new Document(machine, command, runs));
        out.add(json);
        out.add(Files.writeString(dir.resolve("summary.md"), markdown()));
        if (!withCharts) {
            return out;
        }
        List<Chart> charts = charts(dir);
        out.add(Files.writeString(dir.resolve("report.html"), html(charts)));
        charts.forEach(c -> out.add(c.png()));
        return out;
    }

    private static double mbs(long bytesPerSec) {
        return bytesPerSec / 1e6;
    }

    /** Series name of a run in the charts: tracker and mode, plus the link when the suite has several. */
    private String series(RunResult r) {
        boolean links = runs.stream().map(RunResult::bandwidth).distinct().count() > 1;
        return r.tracker() + " " + r.mode() + (links ? " " + r.bandwidth() : "");
    }

    record Chart(String question, Path png) {
    }

    private List<Chart> charts(Path dir) {
        List<RunResult> done = runs.stream().filter(RunResult::completed).toList();
        List<Chart> out = new ArrayList<>();
        List<Charts.Point> downtime = new ArrayList<>();
        List<Charts.Point> total = new ArrayList<>();
        List<Charts.Point> bytes = new ArrayList<>();
        List<Charts.Bar> rounds = new ArrayList<>();
        List<Charts.Bar> cost = new ArrayList<>();
        List<Charts.Bar> slowdown = new ArrayList<>();
        for (RunResult r : done) {
            double rate = mbs(r.dirtyRateBytesPerSec());
            downtime.add(new Charts.Point(series(r), rate, r.downtimeMs()));
            total.add(new Charts.Point(series(r), rate, r.totalTimeMs()));
            bytes.add(new Charts.Point(r.workload() + " " + r.tracker(), r.memoryBytes() / 1048576.0,
                    r.transferredBytes() / 1048576.0));
            String cell = r.memory() + " " + r.workload() + " " + r.bandwidth();
            rounds.add(new Charts.Bar(r.tracker() + " " + r.mode(), cell, r.rounds()));
            if (r.collects() > 0) {
                cost.add(new Charts.Bar(r.tracker(), cell + " collect ms/round", r.collectNs() / 1e6 / r.collects()));
            }
            if (!Double.isNaN(r.slowdownPercent())) {
                slowdown.add(new Charts.Bar(r.tracker() + " " + r.mode(), cell, r.slowdownPercent()));
            }
        }
        if (!done.isEmpty()) {
            out.add(line(dir, "downtime-vs-dirty-rate.png", "Downtime vs dirty rate, per tracker and mode",
                    "measured dirty rate before migration (MB/s)", "downtime (ms)", downtime));
            out.add(line(dir, "total-time-vs-dirty-rate.png", "Total migration time vs dirty rate, per tracker and mode",
                    "measured dirty rate before migration (MB/s)", "total time (ms)", total));
            out.add(line(dir, "bytes-vs-memory.png", "Bytes sent vs memory size", "process memory (MiB)",
                    "transferred (MiB)", bytes));
            out.add(bar(dir, "rounds.png", "Rounds to convergence", "scenario", "rounds", rounds));
            if (!cost.isEmpty()) {
                out.add(bar(dir, "tracker-cost.png", "Tracker cost: collect time per round", "scenario", "ms", cost));
            }
            if (!slowdown.isEmpty()) {
                out.add(bar(dir, "slowdown.png", "Workload slowdown during pre-copy", "scenario", "% slower", slowdown));
            }
        }
        return out;
    }

    private static Chart line(Path dir, String file, String q, String x, String y, List<Charts.Point> pts) {
        Path p = dir.resolve(file);
        Charts.lines(p, q, x, y, pts);
        return new Chart(q, p);
    }

    private static Chart bar(Path dir, String file, String q, String x, String y, List<Charts.Bar> bars) {
        Path p = dir.resolve(file);
        Charts.bars(p, q, x, y, bars, false);
        return new Chart(q, p);
    }

    /** Load average over the runs that measured it: min, max, mean of start and end; "" when none did. */
    String loadSummary() {
        var stats = runs.stream().flatMapToDouble(r -> java.util.stream.DoubleStream.of(r.loadAvgStart(), r.loadAvgEnd()))
                .filter(d -> !Double.isNaN(d)).summaryStatistics();
        if (stats.getCount() == 0) {
            return "";
        }
        return String.format(Locale.ROOT, "1-minute load average %.1f to %.1f (mean %.1f) over %d runs", stats.getMin(),
                stats.getMax(), stats.getAverage(), runs.stream().filter(r -> !Double.isNaN(r.loadAvgStart())).count());
    }

    String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("Machine: ").append(machine).append("  \nCommand: `").append(command).append("`  \n");
        java.util.Map<String, Long> byStatus = new java.util.TreeMap<>();
        runs.forEach(r -> byStatus.merge(r.status(), 1L, Long::sum));
        b.append("Runs: ").append(runs.size()).append(" ").append(byStatus).append("  \n");
        String load = loadSummary();
        if (!load.isEmpty()) {
            b.append("Host load: ").append(load).append(". The machine is shared: compare runs of this table with "
                    + "each other, as ratios, not with other tables.\n");
        }
        b.append("\n| run | status | dirty MB/s | total ms | downtime ms | rounds | MiB sent | link MiB | ampl. | Mbit/s | "
                + "slowdown % | src CPU % | tgt CPU % | load | digest | note |\n");
        b.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
        for (RunResult r : runs) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %d | %d | %d | %.1f | %s | %.2f | %.0f | %s | %s | %s | %s | %s | %s |%n",
                    r.id(), r.status(), mbs(r.dirtyRateBytesPerSec()), r.totalTimeMs(), r.downtimeMs(), r.rounds(),
                    r.transferredBytes() / 1048576.0, linkMib(r), r.amplification(), r.mbps(), num(r.slowdownPercent()),
                    num(r.sourceCpuPercent()), num(r.targetCpuPercent()), load(r), digest(r),
                    r.reason() == null ? "" : r.reason().replace('|', '/')));
        }
        return b.toString();
    }

    private static String linkMib(RunResult r) {
        return r.linkBytes() < 0 ? "-" : String.format(Locale.ROOT, "%.1f", r.linkBytes() / 1048576.0);
    }

    private static String load(RunResult r) {
        return Double.isNaN(r.loadAvgStart()) ? "-" : String.format(Locale.ROOT, "%.1f–%.1f", r.loadAvgStart(), r.loadAvgEnd());
    }

    private static String digest(RunResult r) {
        if (!r.completed()) {
            return "-";
        }
        if (!r.digestChecked()) {
            return "n/a (post-copy)";
        }
        return r.digestsMatch() ? "match" : "MISMATCH";
    }

    private static String num(double d) {
        return Double.isNaN(d) ? "-" : String.format(Locale.ROOT, "%.0f", d);
    }

    private String html(List<Chart> charts) {
        StringBuilder b = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>pagehop scenario suite"
                + "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}"
                + "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child{text-align:left}</style>"
                + "</head><body><h1>pagehop scenario suite</h1>");
        b.append("<p>Machine: ").append(esc(machine)).append("<br>Command: <code>").append(esc(command)).append("</code>");
        String load = loadSummary();
        if (!load.isEmpty()) {
            b.append("<br>Host load: ").append(esc(load)).append(". The machine is shared with other work: compare runs "
                    + "of this report with each other, as ratios, never with another report's absolute figures.");
        }
        b.append("</p>");
        for (Chart c : charts) {
            b.append("<h2>").append(esc(c.question())).append("</h2><img src=\"").append(c.png().getFileName())
                    .append("\" alt=\"").append(esc(c.question())).append("\">");
        }
        b.append("<h2>Runs</h2><table><tr>");
        for (String h : List.of("run", "status", "dirty MB/s", "total ms", "downtime ms", "rounds", "MiB sent",
                "link MiB", "amplification", "Mbit/s", "slowdown %", "ms/GB before", "ms/GB during", "src CPU %", "tgt CPU %",
                "load", "digest", "note")) {
            b.append("<th>").append(h).append("</th>");
        }
        b.append("</tr>");
        for (RunResult r : runs) {
            b.append("<tr>");
            for (Object v : List.of(r.id(), r.status(), String.format(Locale.ROOT, "%.1f", mbs(r.dirtyRateBytesPerSec())),
                    r.totalTimeMs(), r.downtimeMs(), r.rounds(),
                    String.format(Locale.ROOT, "%.1f", r.transferredBytes() / 1048576.0), linkMib(r),
                    String.format(Locale.ROOT, "%.2f", r.amplification()), String.format(Locale.ROOT, "%.0f", r.mbps()),
                    num(r.slowdownPercent()), num(r.msPerGbBefore()), num(r.msPerGbDuring()), num(r.sourceCpuPercent()),
                    num(r.targetCpuPercent()), load(r), digest(r), r.reason() == null ? "" : r.reason())) {
                b.append("<td>").append(esc(String.valueOf(v))).append("</td>");
            }
            b.append("</tr>");
        }
        return b.append("</table><p>Per-round figures: rounds.csv; everything: runs.json.</p></body></html>\n").toString();
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
