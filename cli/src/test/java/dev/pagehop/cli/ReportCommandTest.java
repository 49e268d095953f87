package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.cli.output.Json;
import dev.pagehop.proto.control.v1.MigrationInfo;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pagehop report: the HTML it writes has the charts (real PNG images) and the figures. */
class ReportCommandTest {
    private static final Pattern IMG = Pattern.compile(
            "<figure id=\"(chart-[a-z-]+)\">\\s*<img width=\"800\" height=\"400\" alt=\"([^\"]+)\" src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\">");

    CliHarness cli;
    @TempDir
    Path dir;

    @BeforeEach
    void start() throws Exception {
        cli = new CliHarness();
        MigrationInfo m = Migrations.completed("m-1", 1, cli.targetAddress.toString());
        cli.source.migrations.put("m-1", m);
    }

    @AfterEach
    void stop() throws Exception {
        cli.close();
    }

    record Chart(String id, String alt, BufferedImage image) {
    }

    static List<Chart> charts(String html) throws Exception {
        List<Chart> charts = new ArrayList<>();
        Matcher m = IMG.matcher(html);
        while (m.find()) {
            byte[] png = Base64.getDecoder().decode(m.group(3));
            assertThat(png).startsWith(0x89, 'P', 'N', 'G');
            charts.add(new Chart(m.group(1), m.group(2), ImageIO.read(new ByteArrayInputStream(png))));
        }
        return charts;
    }

    @Test
    void writesAnHtmlPageWithChartsAndHeadlineFigures() throws Exception {
        Path file = dir.resolve("out/report.html");
        CliHarness.Result r = cli.onSource("report", "m-1", "--file", file.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("wrote " + file + " (3 charts: chart-pages-per-round, chart-dirty-rate-vs-bandwidth, "
                + "chart-remaining-over-time)\n");

        String html = Files.readString(file, StandardCharsets.UTF_8);
        assertThat(html).startsWith("<!DOCTYPE html>").contains("<title>pagehop migration m-1</title>").endsWith("</html>\n");
        List<Chart> charts = charts(html);
        assertThat(charts).extracting(Chart::id).containsExactly("chart-pages-per-round", "chart-dirty-rate-vs-bandwidth",
                "chart-remaining-over-time");
        assertThat(charts).extracting(Chart::alt).containsExactly("Pages per round", "Dirty rate vs bandwidth",
                "Remaining bytes over time");
        for (Chart c : charts) {
            assertThat(c.image().getWidth()).isEqualTo(800);
            assertThat(c.image().getHeight()).isEqualTo(400);
            assertThat(distinctColours(c.image())).as(c.id()).isGreaterThan(5);
        }
        // Headline figures, keyed by metric.
        assertThat(html).contains("<tr data-metric=\"downtime\"><th>Downtime</th><td class=\"num\">42 ms</td>")
                .contains("<tr data-metric=\"total-time\"><th>Total migration time</th><td class=\"num\">1234 ms</td>")
                .contains("<tr data-metric=\"transferred\"><th>Data transferred</th><td class=\"num\">70.0 MiB</td>")
                .contains("<tr data-metric=\"amplification\"><th>Amplification</th><td class=\"num\">1.09×</td>")
                .contains("<tr data-metric=\"rounds\"><th>Rounds</th><td class=\"num\">3</td>")
                .contains("<tr data-metric=\"digest\"><th>Memory digest</th><td class=\"num\">match</td>");
        // The round table and the policy; and the note that a pre-copy run has no fault histogram.
        assertThat(html).contains("<table id=\"rounds\">").contains("<td class=\"num\">2 (final)</td>")
                .contains("<table id=\"policy\">").contains("<tr><th>downtime limit</th><td>300 ms</td></tr>")
                .contains("id=\"no-fault-latency\"").contains("pre-copy migration");
    }

    private static int distinctColours(BufferedImage img) {
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 4) {
            for (int x = 0; x < img.getWidth(); x += 4) {
                colours.add(img.getRGB(x, y));
            }
        }
        return colours.size();
    }

    @Test
    void aPostcopyMigrationsReportChartsItsFaultLatencyHistogram() throws Exception {
        cli.source.migrations.put("m-pc", Migrations.postcopy("m-pc", 1, cli.targetAddress.toString()));
        Path file = dir.resolve("pc.html");
        CliHarness.Result r = cli.onSource("report", "m-pc", "--file", file.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("4 charts").contains("chart-fault-latency");
        String html = Files.readString(file, StandardCharsets.UTF_8);
        List<Chart> charts = charts(html);
        assertThat(charts).extracting(Chart::id).containsExactly("chart-pages-per-round", "chart-dirty-rate-vs-bandwidth",
                "chart-remaining-over-time", "chart-fault-latency");
        Chart latency = charts.getLast();
        assertThat(latency.alt()).isEqualTo("Post-copy fault latency");
        assertThat(distinctColours(latency.image())).isGreaterThan(5);
        assertThat(html).doesNotContain("no-fault-latency")
                .contains("<tr data-metric=\"postcopy\"><th>Post-copy faults</th><td class=\"num\">3</td>")
                .contains("<tr data-metric=\"postcopy-blocktime\"><th>Post-copy blocktime</th><td class=\"num\">90.0 µs</td>")
                .contains("<table id=\"postcopy\">").contains("<table id=\"postcopy-threads\">")
                .contains("<td class=\"num\">101</td>");
    }

    @Test
    void readsASavedStatusJsonWithoutAnAgent() throws Exception {
        Path saved = dir.resolve("m.json");
        Files.writeString(saved, cli.onSource("status", "m-1", "-o", "json").out());
        Path file = dir.resolve("r.html");
        CliHarness.Result r = cli.run("report", "--from", saved.toString(), "-f", file.toString(), "-o", "json",
                "--agent", "nowhere:1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("\"migrationId\": \"m-1\"").contains("\"chart-remaining-over-time\"");
        assertThat(charts(Files.readString(file))).hasSize(3);
    }

    @Test
    void refusesARunningMigration() {
        cli.source.migrations.put("m-2", Migrations.running(Migrations.completed("m-2", 1, "t:1")).toBuilder()
                .setMigrationId("m-2").build());
        CliHarness.Result r = cli.onSource("report", "m-2", "-f", dir.resolve("x.html").toString());
        assertThat(r.exitCode()).isEqualTo(ExitCode.REFUSED.code());
        assertThat(r.err().strip()).isEqualTo("pagehop: migration m-2 is still iterating; a report needs a finished migration "
                + "(wait with 'pagehop watch m-2')");
        assertThat(dir.resolve("x.html")).doesNotExist();
    }

    @Test
    void badSavedFileIsAUsageError() throws Exception {
        Path saved = dir.resolve("bad.json");
        Files.writeString(saved, "{\"migrationId\": 12, \"rounds\": [");
        CliHarness.Result r = cli.run("report", "--from", saved.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
        assertThat(r.err()).startsWith("pagehop: --from " + saved + ": not a MigrationInfo in JSON");
        assertThat(cli.run("report", "--from", dir.resolve("none.json").toString()).err()).contains("no such file");
        assertThat(Json.text(Migrations.completed("x", 1, "t:1"))).contains("\"migrationId\": \"x\"");
    }
}
