package dev.pagehop.cli.output;

import dev.pagehop.proto.control.v1.DowntimeBreakdown;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationStats;
import dev.pagehop.proto.control.v1.TrackerCost;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.PostcopyStats;
import dev.pagehop.proto.types.v1.SourcePhase;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * The headline figures of a migration, numbered and named as in METRICS.md, computed once and
 * shown by the summary after {@code migrate}/{@code watch}, by {@code stats}, and in the HTML
 * report, so the three never disagree.
 */
public final class Headline {

    /** One figure: the METRICS.md name, its value, and what qualifies it. */
    public record Figure(String key, String metric, String value, String detail) {
    }

    private Headline() {
    }

    public static List<Figure> of(MigrationInfo m) {
        MigrationStats s = m.getStats();
        boolean completed = m.getSourcePhase() == SourcePhase.SOURCE_PHASE_COMPLETED;
        List<Figure> f = new ArrayList<>();

        String limit = m.getPolicy().getDowntimeLimitMs() > 0 ? ", limit " + m.getPolicy().getDowntimeLimitMs() + " ms" : "";
        if (completed || s.getDowntimeMs() > 0) {
            f.add(new Figure("downtime", "Downtime", s.getDowntimeMs() + " ms",
                    "expected " + s.getExpectedDowntimeMs() + " ms" + limit + breakdown(s.getDowntimeBreakdown())));
        } else {
            f.add(new Figure("downtime", "Downtime", "-", "reported on completion only; expected "
                    + s.getExpectedDowntimeMs() + " ms" + limit));
        }
        f.add(new Figure("total-time", "Total migration time", Units.millis(s.getTotalTimeMs()),
                "setup " + s.getSetupTimeMs() + " ms"));
        f.add(new Figure("transferred", "Data transferred", Units.bytes(s.getTransferredBytes()),
                "pre-copy " + Units.bytes(s.getPrecopyBytes()) + ", downtime " + Units.bytes(s.getDowntimeBytes())
                        + ", post-copy " + Units.bytes(s.getPostcopyBytes()) + "; " + s.getNormalPages()
                        + " pages with contents, " + s.getZeroPages() + " zero pages"));
        f.add(new Figure("amplification", "Amplification", String.format(Locale.ROOT, "%.2f×", s.getAmplification()),
                "transferred / memory size " + Units.bytes(s.getMemoryBytes())));
        f.add(new Figure("throughput", "Effective throughput", String.format(Locale.ROOT, "%.1f Mbit/s", s.getMbps()),
                "last round's bandwidth " + Units.rate(s.getBandwidthBytesPerSec())
                        + (m.getPolicy().getMaxBandwidthBytesPerSec() > 0
                        ? ", cap " + Units.rate(m.getPolicy().getMaxBandwidthBytesPerSec()) : "")));
        f.add(new Figure("dirty-rate", "Dirty page rate", Units.rate(s.getDirtyRateBytesPerSec()),
                s.getDirtyPagesRate() + " pages/s in the last round"));
        f.add(new Figure("rounds", "Rounds", Integer.toString(s.getRounds()), convergence(m)));
        f.add(new Figure("remaining", "Remaining", Units.bytes(s.getRemainingBytes()),
                "of " + Units.bytes(s.getMemoryBytes()) + " mapped"));
        postcopy(m, f);
        f.add(new Figure("throttle", "Throttle", s.getThrottlePercent() + " %", "auto-converge at the end"));
        f.add(new Figure("tracker-cost", "Tracker cost", trackerCost(s.getTrackerCost()), trackerDetail(s.getTrackerCost())));
        f.add(m.getPolicy().getSkipMemoryDigest()
                ? new Figure("digest", "Memory digest", "skipped", "the policy skipped the whole-memory digest")
                : new Figure("digest", "Memory digest", digestVerdict(s), digestDetail(s)));
        return f;
    }

    /**
     * METRICS.md §8: faults and their round-trip latency, blocked time (QEMU's postcopy-blocktime:
     * every thread blocked at once; and summed over threads), pages on demand vs background.
     */
    private static void postcopy(MigrationInfo m, List<Figure> f) {
        MigrationStats s = m.getStats();
        if (m.getMode() == MigrationMode.MIGRATION_MODE_PRECOPY) {
            f.add(new Figure("postcopy", "Post-copy faults", "none", "pre-copy: the process never waits on a remote page"));
            return;
        }
        if (!s.hasPostcopy()) {
            boolean ended = m.getSourcePhase() == SourcePhase.SOURCE_PHASE_COMPLETED;
            f.add(new Figure("postcopy", "Post-copy faults", ended ? "none" : "-", ended
                    ? "hybrid: converged in pre-copy, no post-copy phase"
                    : "post-copy not started (or the agent does not report post-copy figures)"));
            return;
        }
        PostcopyStats p = s.getPostcopy();
        f.add(new Figure("postcopy", "Post-copy faults", Long.toString(p.getFaults()), "fault round trip p50 "
                + Units.nanos(p.getFaultLatencyP50Ns()) + ", p99 " + Units.nanos(p.getFaultLatencyP99Ns()) + ", max "
                + Units.nanos(p.getFaultLatencyMaxNs()) + "; " + p.getFaultsOnPagesInFlight() + " more on pages in flight, "
                + p.getZeroPagesMapped() + " answered with a zero page" + (p.getComplete() ? "" : " (so far)")));
        f.add(new Figure("postcopy-blocktime", "Post-copy blocktime", Units.nanos(p.getAllThreadsBlockedNs()),
                "every thread blocked at once; " + Units.nanos(p.getBlockedTotalNs()) + " summed over "
                        + p.getBlockedPerThreadCount() + " threads that waited"));
        f.add(new Figure("postcopy-pages", "Post-copy pages", p.getPagesOnDemand() + " on demand",
                p.getPagesBackground() + " in the background, " + p.getPagesMissing() + " of "
                        + p.getPagesMissingAtStart() + " still missing, " + p.getPagesDropped() + " dropped (zapped); "
                        + Units.bytes(s.getPostcopyBytes()) + " in " + Units.millis(s.getPostcopyTimeMs())
                        + (p.getPauses() > 0 ? "; " + p.getPauses() + " pauses, " + p.getReconnects() + " reconnects" : "")));
    }

    private static String breakdown(DowntimeBreakdown b) {
        if (b.equals(DowntimeBreakdown.getDefaultInstance())) {
            return "";
        }
        return "; freeze " + Units.nanos(b.getFreezeNs()) + ", final round " + Units.nanos(b.getFinalRoundNs())
                + ", state capture " + Units.nanos(b.getStateCaptureNs()) + ", state send " + Units.nanos(b.getStateSendNs())
                + ", complete " + Units.nanos(b.getCompleteNs());
    }

    private static String convergence(MigrationInfo m) {
        MigrationStats s = m.getStats();
        String decision = Names.of(s.getLastDecision());
        String reason = s.getLastDecisionReason();
        return "last decision " + decision + (reason.isEmpty() ? "" : ": " + reason);
    }

    private static String trackerCost(TrackerCost t) {
        if (t.equals(TrackerCost.getDefaultInstance())) {
            return "-";
        }
        return t.getTraps() + " traps, " + t.getCollects() + " collects";
    }

    private static String trackerDetail(TrackerCost t) {
        if (t.equals(TrackerCost.getDefaultInstance())) {
            return "not reported";
        }
        return t.getTracker() + ": " + Units.nanos(avg(t.getTrapNs(), t.getTraps())) + " per trap, "
                + Units.nanos(avg(t.getCollectNs(), t.getCollects())) + " per collect; "
                + t.getPageTablesPopulated() + " page tables populated, " + t.getPagesReported() + " pages reported, "
                + t.getFalsePositivePages() + " false positives";
    }

    private static long avg(long total, long n) {
        return n == 0 ? 0 : total / n;
    }

    private static String digestVerdict(MigrationStats s) {
        if (s.getSourceDigest().isEmpty() || s.getTargetDigest().isEmpty()) {
            return "-";
        }
        return s.getSourceDigest().equals(s.getTargetDigest()) ? "match" : "MISMATCH";
    }

    private static String digestDetail(MigrationStats s) {
        if (s.getSourceDigest().isEmpty()) {
            return "computed at switchover";
        }
        String src = shortHex(s.getSourceDigest().toByteArray());
        if (s.getTargetDigest().isEmpty()) {
            return "source at freeze " + src;
        }
        return "source at freeze " + src + ", target " + shortHex(s.getTargetDigest().toByteArray());
    }

    /** The first 8 bytes, as git shows commits: enough to compare by eye. */
    public static String shortHex(byte[] digest) {
        String hex = HexFormat.of().formatHex(digest);
        return hex.length() > 16 ? hex.substring(0, 16) : hex;
    }
}
