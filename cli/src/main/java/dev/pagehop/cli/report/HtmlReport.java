package dev.pagehop.cli.report;

import dev.pagehop.cli.output.Headline;
import dev.pagehop.cli.output.MigrationSummary;
import dev.pagehop.cli.output.Names;
import dev.pagehop.cli.output.Units;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.RoundStats;
import dev.pagehop.proto.types.v1.MigrationMode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.jfree.chart.JFreeChart;

/**
 * A self-contained HTML page about one finished migration: the headline figures of METRICS.md,
 * the charts (PNG, inlined as data URIs so the file can be mailed or attached to a bug as is), the
 * per-round table and the policy in force. Elements carry ids ({@code chart-pages-per-round},
 * {@code headline}, {@code rounds}) so tools and tests can find them.
 */
public final class HtmlReport {

    /** What was written: the page and the ids of the charts it contains. */
    public record Rendered(String html, List<String> chartIds) {
    }

    private HtmlReport() {
    }

    public static Rendered render(ReportData d, Instant generatedAt) {
        MigrationInfo m = d.info();
        StringBuilder h = new StringBuilder(256 * 1024);
        List<String> charts = new ArrayList<>();
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>pagehop migration ")
                .append(esc(m.getMigrationId())).append("</title>\n<style>\n")
                .append("body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}")
                .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;")
                .append("text-align:left;vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums}")
                .append("figure{margin:1.5em 0}img{max-width:100%}.failure{color:#a00;font-weight:bold}")
                .append(".note{color:#666}\n</style>\n</head>\n<body>\n");
        h.append("<h1>Migration ").append(esc(m.getMigrationId())).append("</h1>\n");
        h.append("<p id=\"title\">").append(esc(MigrationSummary.title(m))).append("</p>\n");
        if (!m.getFailure().isEmpty()) {
            h.append("<p class=\"failure\" id=\"failure\">").append(esc(m.getFailure())).append("</p>\n");
        }

        h.append("<h2>Headline figures</h2>\n<table id=\"headline\">\n<tr><th>metric</th><th>value</th><th>detail</th></tr>\n");
        for (Headline.Figure f : Headline.of(m)) {
            h.append("<tr data-metric=\"").append(esc(f.key())).append("\"><th>").append(esc(f.metric()))
                    .append("</th><td class=\"num\">").append(esc(f.value())).append("</td><td>").append(esc(f.detail()))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");

        h.append("<h2>Charts</h2>\n");
        if (d.rounds().isEmpty()) {
            h.append("<p class=\"note\">No rounds were recorded: the migration ended before its first round.</p>\n");
        } else {
            chart(h, charts, "chart-pages-per-round", ReportCharts.pagesPerRound(d),
                    "Pages sent in each round, with contents and as zero-page markers.");
            chart(h, charts, "chart-dirty-rate-vs-bandwidth", ReportCharts.dirtyRateVsBandwidth(d),
                    "Dirty rate and bandwidth per round; pre-copy converges while bandwidth stays above the dirty rate.");
            chart(h, charts, "chart-remaining-over-time", ReportCharts.remainingOverTime(d),
                    "Bytes still to send after each round, from the start of the migration.");
        }
        if (!d.faultLatency().isEmpty()) {
            chart(h, charts, "chart-fault-latency", ReportCharts.faultLatency(d),
                    "Round trip of each post-copy fault: target fault → source page → UFFDIO_COPY → wake.");
        } else if (m.getMode() == MigrationMode.MIGRATION_MODE_PRECOPY) {
            h.append("<p class=\"note\" id=\"no-fault-latency\">No post-copy fault latency histogram: this was a "
                    + "pre-copy migration, so the process never waited on a remote page.</p>\n");
        } else if (m.getStats().hasPostcopy()) {
            h.append("<p class=\"note\" id=\"no-fault-latency\">No post-copy fault latency histogram: no thread "
                    + "waited on the source; every missing page arrived in the background.</p>\n");
        } else {
            h.append("<p class=\"note\" id=\"no-fault-latency\">No post-copy fault latency histogram: the migration "
                    + "did not reach post-copy, or the agent did not report post-copy figures.</p>\n");
        }
        if (m.getStats().hasPostcopy()) {
            postcopy(h, m.getStats().getPostcopy());
        }

        h.append("<h2>Rounds</h2>\n<table id=\"rounds\">\n<tr><th>round</th><th>time</th><th>pages</th><th>zero</th>")
                .append("<th>sent</th><th>dirty after</th><th>dirty rate</th><th>bandwidth</th><th>exp. downtime</th>")
                .append("<th>throttle</th><th>collect</th><th>decision</th></tr>\n");
        for (RoundStats r : m.getStats().getPerRoundList()) {
            h.append("<tr><td class=\"num\">").append(r.getRound()).append(r.getFinal() ? " (final)" : "")
                    .append("</td>").append(num(Units.nanos(r.getDurationNs()))).append(num(Long.toString(r.getNormalPages())))
                    .append(num(Long.toString(r.getZeroPages()))).append(num(Units.bytes(r.getTransferredBytes())))
                    .append(num(Long.toString(r.getDirtyPagesAfter())))
                    .append(num(Units.rate(r.getDirtyRateBytesPerSec()))).append(num(Units.rate(r.getBandwidthBytesPerSec())))
                    .append(num(r.getExpectedDowntimeMs() + " ms")).append(num(r.getThrottlePercent() + " %"))
                    .append(num(Units.nanos(r.getCollectNs())))
                    .append("<td>").append(esc(Names.of(r.getDecision())))
                    .append(r.getDecisionReason().isEmpty() ? "" : ": " + esc(r.getDecisionReason())).append("</td></tr>\n");
        }
        h.append("</table>\n");

        MigrationPolicy p = m.getPolicy();
        h.append("<h2>Policy</h2>\n<table id=\"policy\">\n");
        policyRow(h, "downtime limit", p.getDowntimeLimitMs() + " ms");
        policyRow(h, "bandwidth cap", p.getMaxBandwidthBytesPerSec() == 0 ? "unlimited" : Units.rate(p.getMaxBandwidthBytesPerSec()));
        policyRow(h, "max rounds", Integer.toString(p.getMaxRounds()));
        policyRow(h, "stop pages", Long.toString(p.getStopPages()));
        policyRow(h, "growth stop", p.getDisableGrowthRule() ? "off" : p.getGrowthStopPercent() + " %");
        policyRow(h, "auto-converge", Names.of(p.getAutoConverge()));
        policyRow(h, "on no convergence", Names.of(p.getNoConvergenceAction()));
        policyRow(h, "progress timeout", Units.millis(p.getProgressTimeoutMs()));
        policyRow(h, "overall timeout", Units.millis(p.getOverallTimeoutMs()));
        policyRow(h, "max amplification", p.getMaxAmplification() + "×");
        h.append("</table>\n");
        h.append("<footer class=\"note\">Generated by pagehop 0.1.0 at ").append(generatedAt).append(".</footer>\n");
        h.append("</body>\n</html>\n");
        return new Rendered(h.toString(), List.copyOf(charts));
    }

    private static void chart(StringBuilder h, List<String> ids, String id, JFreeChart chart, String caption) {
        String title = chart.getTitle().getText();
        h.append("<figure id=\"").append(id).append("\">\n<img width=\"").append(ReportCharts.WIDTH)
                .append("\" height=\"").append(ReportCharts.HEIGHT).append("\" alt=\"").append(esc(title))
                .append("\" src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(ReportCharts.png(chart)))
                .append("\">\n<figcaption>").append(esc(title)).append(": ").append(esc(caption))
                .append("</figcaption>\n</figure>\n");
        ids.add(id);
    }

    /** The post-copy figures: latency percentiles, blocktime, pages by how they came, each thread's wait. */
    private static void postcopy(StringBuilder h, dev.pagehop.proto.types.v1.PostcopyStats p) {
        h.append("<h2>Post-copy</h2>\n<table id=\"postcopy\">\n");
        policyRow(h, "faults", p.getFaults() + " (+ " + p.getFaultsOnPagesInFlight() + " on pages in flight, "
                + p.getZeroPagesMapped() + " zero pages)");
        policyRow(h, "fault round trip p50 / p99 / max", Units.nanos(p.getFaultLatencyP50Ns()) + " / "
                + Units.nanos(p.getFaultLatencyP99Ns()) + " / " + Units.nanos(p.getFaultLatencyMaxNs()));
        policyRow(h, "blocktime (every thread at once)", Units.nanos(p.getAllThreadsBlockedNs()));
        policyRow(h, "blocked, summed over threads", Units.nanos(p.getBlockedTotalNs()));
        policyRow(h, "pages on demand / background", p.getPagesOnDemand() + " / " + p.getPagesBackground());
        policyRow(h, "pages missing at switchover / now", p.getPagesMissingAtStart() + " / " + p.getPagesMissing());
        policyRow(h, "duration", Units.nanos(p.getDurationNs()));
        h.append("</table>\n");
        if (p.getBlockedPerThreadCount() > 0) {
            h.append("<table id=\"postcopy-threads\">\n<tr><th>thread</th><th>blocked</th></tr>\n");
            for (dev.pagehop.proto.types.v1.ThreadBlocktime t : p.getBlockedPerThreadList()) {
                h.append("<tr><td class=\"num\">").append(t.getTid()).append("</td>")
                        .append(num(Units.nanos(t.getBlockedNs()))).append("</tr>\n");
            }
            h.append("</table>\n");
        }
    }

    private static void policyRow(StringBuilder h, String name, String value) {
        h.append("<tr><th>").append(esc(name)).append("</th><td>").append(esc(value)).append("</td></tr>\n");
    }

    private static String num(String v) {
        return "<td class=\"num\">" + esc(v) + "</td>";
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
