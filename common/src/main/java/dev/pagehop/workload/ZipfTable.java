package dev.pagehop.workload;

import java.util.Arrays;

/**
 * Samples ranks 0..n-1 with probability proportional to 1 / (rank + 1)^s by inverting a
 * precomputed CDF. Built with {@link StrictMath} so the table, and so every sampled page, is
 * the same on every JVM and machine: a migrated process must draw what the source would have.
 */
final class ZipfTable {
    private final double[] cdf;

    ZipfTable(int n, double skew) {
        cdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1.0 / StrictMath.pow(i + 1, skew);
            cdf[i] = sum;
        }
        for (int i = 0; i < n; i++) {
            cdf[i] /= sum;
        }
        cdf[n - 1] = 1.0;
    }

    int size() {
        return cdf.length;
    }

    int sample(long random) {
        double u = Mix.unit(random);
        int i = Arrays.binarySearch(cdf, u);
        int rank = i >= 0 ? i + 1 : -i - 1;
        return Math.min(rank, cdf.length - 1);
    }

    double probability(int rank) {
        return rank == 0 ? cdf[0] : cdf[rank] - cdf[rank - 1];
    }
}
