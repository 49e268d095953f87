package dev.pagehop.bench.scenario;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A one-line description of the machine results were measured on, for reports and BENCHMARKS.md. */
public final class Machine {

    private Machine() {
    }

    /** The 1-minute load average (/proc/loadavg), NaN where there is none. */
    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    public static String describe() {
        String model = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException e) {
            model = "unknown CPU (" + e.getMessage() + ")";
        }
        long memMib = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    memMib = Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                    break;
                }
            }
        } catch (IOException | NumberFormatException e) {
            memMib = -1;
        }
        return String.format("%d cores (%s), %d MiB RAM, %s %s, Java %s", Runtime.getRuntime().availableProcessors(),
                model, memMib, System.getProperty("os.name"), System.getProperty("os.version"),
                System.getProperty("java.version"));
    }
}
