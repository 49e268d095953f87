package dev.pagehop.bench.report;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** PNG charts for the reports, rendered headless with JFreeChart. */
public final class Charts {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    public static final int WIDTH = 1100;
    public static final int HEIGHT = 560;

    private Charts() {
    }

    /** One bar per (series, category) value. */
    public record Bar(String series, String category, double value) {
    }

    /** One point of a named line. */
    public record Point(String series, double x, double y) {
    }

    public static void bars(Path png, String title, String categoryAxis, String valueAxis, List<Bar> bars, boolean log) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (Bar b : bars) {
            data.addValue(b.value(), b.series(), b.category());
        }
        JFreeChart chart = ChartFactory.createBarChart(title, categoryAxis, valueAxis, data, PlotOrientation.VERTICAL,
                true, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.getDomainAxis().setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        plot.getDomainAxis().setMaximumCategoryLabelWidthRatio(4f);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        if (log) {
            LogAxis axis = new LogAxis(valueAxis);
            axis.setSmallestValue(0.1);
            // One tick per decade, printed as plain numbers rather than 10^x.
            axis.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1.0));
            axis.setNumberFormatOverride(new java.text.DecimalFormat("#,##0.###"));
            plot.setRangeAxis(axis);
        }
        save(png, chart);
    }

    public static void lines(Path png, String title, String xAxis, String yAxis, List<Point> points) {
        XYSeriesCollection data = new XYSeriesCollection();
        Map<String, XYSeries> series = new java.util.LinkedHashMap<>();
        for (Point p : points) {
            series.computeIfAbsent(p.series(), s -> {
                XYSeries x = new XYSeries(s, true, true);
                data.addSeries(x);
                return x;
            }).add(p.x(), p.y());
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, xAxis, yAxis, data, PlotOrientation.VERTICAL, true,
                false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        var renderer = new org.jfree.chart.renderer.xy.XYLineAndShapeRenderer(true, true);
        plot.setRenderer(renderer);
        save(png, chart);
    }

    private static void save(Path png, JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        try {
            ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write chart " + png + ": " + e.getMessage(), e);
        }
    }
}
