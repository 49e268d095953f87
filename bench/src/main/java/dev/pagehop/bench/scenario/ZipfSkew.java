package dev.pagehop.bench.scenario;

/**
 * Finds the Zipf exponent that puts a given share of the writes on the first pages of a range:
 * the workload draws page k (1-based) with probability k^-s / H(n, s), so the first h pages get
 * H(h, s) / H(n, s). That share grows with s, so bisection finds s. This is how the hot-set
 * shape ("90 % of writes in 32 MiB of a 384 MiB working set") maps onto the agent's Zipf workload.
 */
public final class ZipfSkew {

    private ZipfSkew() {
    }

    public static double headShare(long n, long head, double s) {
        double total = 0;
        double headSum = 0;
        for (long k = 1; k <= n; k++) {
            double w = Math.pow(k, -s);
            total += w;
            if (k <= head) {
                headSum += w;
            }
        }
        return headSum / total;
    }

    public static double forHeadShare(long n, long head, double share) {
        if (head >= n) {
            throw new IllegalArgumentException("hot set of " + head + " pages is not smaller than the working set of "
                    + n + " pages");
        }
        double uniform = (double) head / n;
        if (share <= uniform) {
            throw new IllegalArgumentException(String.format(
                    "a hot share of %.3f is no more than uniform writes give (%d of %d pages = %.3f)", share, head, n, uniform));
        }
        double lo = 0;
        double hi = 8;
        for (int i = 0; i < 50; i++) {
            double mid = (lo + hi) / 2;
            if (headShare(n, head, mid) < share) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }
}
