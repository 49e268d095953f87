package dev.pagehop.cli.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The report's charts, drawn by JFreeChart and encoded as PNG. */
public final class ReportCharts {
    static final int WIDTH = 800;
    static final int HEIGHT = 400;
    private static final double MIB = 1024.0 * 1024.0;

    static {
        // The CLI runs on servers and in CI without a display.
        System.setProperty("java.awt.headless", "true");
    }

    private ReportCharts() {
    }

    /** Pages sent per round, with contents and as zero markers, stacked. */
    public static JFreeChart pagesPerRound(ReportData d) {
        DefaultCategoryDataset ds = new DefaultCategoryDataset();
        for (ReportData.RoundPoint r : d.rounds()) {
            String label = r.isFinal() ? r.round() + " (final)" : Integer.toString(r.round());
            ds.addValue(r.normalPages(), "pages with contents", label);
            ds.addValue(r.zeroPages(), "zero pages (markers)", label);
        }
        JFreeChart c = ChartFactory.createStackedBarChart("Pages per round", "round", "pages", ds,
                PlotOrientation.VERTICAL, true, false, false);
        whiteCategoryPlot(c);
        return c;
    }

    /**
     * Dirty rate and bandwidth per round, in MiB/s: the gap between the lines is what makes
     * pre-copy converge; where they cross, it cannot without throttling.
     */
    public static JFreeChart dirtyRateVsBandwidth(ReportData d) {
        XYSeries dirty = new XYSeries("dirty rate");
        XYSeries bw = new XYSeries("bandwidth");
        for (ReportData.RoundPoint r : d.rounds()) {
            dirty.add(r.round(), r.dirtyRateBytesPerSec() / MIB);
            bw.add(r.round(), r.bandwidthBytesPerSec() / MIB);
        }
        XYSeriesCollection ds = new XYSeriesCollection();
        ds.addSeries(dirty);
        ds.addSeries(bw);
        long cap = d.info().getPolicy().getMaxBandwidthBytesPerSec();
        if (cap > 0 && !d.rounds().isEmpty()) {
            XYSeries capLine = new XYSeries("bandwidth cap");
            capLine.add(d.rounds().getFirst().round(), cap / MIB);
            capLine.add(d.rounds().getLast().round(), cap / MIB);
            ds.addSeries(capLine);
        }
        JFreeChart c = ChartFactory.createXYLineChart("Dirty rate vs bandwidth", "round", "MiB/s", ds);
        styleLines(c);
        // Rounds are whole numbers; JFreeChart would otherwise tick at 0.5.
        c.getXYPlot().getDomainAxis().setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        return c;
    }

    /** Bytes still to send after each round, over the migration's time line. */
    public static JFreeChart remainingOverTime(ReportData d) {
        XYSeries s = new XYSeries("remaining");
        s.add(d.startSeconds(), d.info().getStats().getMemoryBytes() / MIB);
        for (ReportData.RoundPoint r : d.rounds()) {
            s.add(r.endSeconds(), r.remainingBytes() / MIB);
        }
        JFreeChart c = ChartFactory.createXYLineChart("Remaining bytes over time", "time since start (s)", "MiB",
                new XYSeriesCollection(s));
        styleLines(c);
        return c;
    }

    /** Post-copy fault round-trip latencies, one bar per bucket, labelled by the bucket's upper bound. */
    public static JFreeChart faultLatency(ReportData d) {
        DefaultCategoryDataset ds = new DefaultCategoryDataset();
        for (ReportData.LatencyBucket b : d.faultLatency()) {
            ds.addValue(b.count(), "faults", "≤ " + micros(b.upperBoundNs()));
        }
        JFreeChart c = ChartFactory.createBarChart("Post-copy fault latency", "round trip", "faults", ds,
                PlotOrientation.VERTICAL, false, false, false);
        whiteCategoryPlot(c);
        return c;
    }

    private static void whiteCategoryPlot(JFreeChart c) {
        c.setBackgroundPaint(Color.WHITE);
        c.getCategoryPlot().setBackgroundPaint(Color.WHITE);
        c.getCategoryPlot().setRangeGridlinePaint(Color.LIGHT_GRAY);
    }

    private static String micros(long ns) {
        return ns < 1_000_000 ? (ns / 1000) + " µs" : String.format(java.util.Locale.ROOT, "%.1f ms", ns / 1e6);
    }

    private static void styleLines(JFreeChart c) {
        c.setBackgroundPaint(Color.WHITE);
        XYPlot plot = c.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < plot.getDataset().getSeriesCount(); i++) {
            r.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(r);
    }

    public static byte[] png(JFreeChart chart) {
        BufferedImage img = chart.createBufferedImage(WIDTH, HEIGHT);
        try {
            return ChartUtils.encodeAsPNG(img);
        } catch (IOException e) {
            // Encoding to memory cannot fail on I/O; anything here is a bug in the image.
            throw new UncheckedIOException("cannot encode chart '" + chart.getTitle().getText() + "' as PNG", e);
        }
    }
}
