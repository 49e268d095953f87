package dev.pagehop.cli.output;

import dev.pagehop.proto.control.v1.Decision;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.RoundStats;
import dev.pagehop.proto.types.v1.LatencyBucket;
import dev.pagehop.proto.types.v1.PostcopyStats;
import dev.pagehop.proto.types.v1.ThreadBlocktime;
import java.io.PrintWriter;

/** The text summary of a migration: who went where, the per-round table and the headline figures. */
public final class MigrationSummary {
    private MigrationSummary() {
    }

    public static void print(PrintWriter out, MigrationInfo m) {
        out.println(title(m));
        if (!m.getFailure().isEmpty()) {
            out.println("  reason: " + m.getFailure());
        }
        if (m.getStats().getPerRoundCount() > 0) {
            out.println();
            rounds(m).print(out);
        }
        // A migration that ended before its first round has no figures worth a table.
        if (m.getStats().getRounds() > 0 || m.getStats().getTransferredBytes() > 0) {
            out.println();
            figures(m).print(out);
        }
        postcopy(out, m);
        out.flush();
    }

    /** Post-copy detail: the fault latency histogram and the time each thread was blocked. */
    public static void postcopy(PrintWriter out, MigrationInfo m) {
        if (!m.getStats().hasPostcopy()) {
            return;
        }
        PostcopyStats p = m.getStats().getPostcopy();
        if (p.getFaultLatencyHistogramCount() > 0) {
            out.println();
            latency(p).print(out);
        }
        if (p.getBlockedPerThreadCount() > 0) {
            out.println();
            Table t = new Table("THREAD", "BLOCKED").right(1);
            for (ThreadBlocktime b : p.getBlockedPerThreadList()) {
                t.row(b.getTid(), Units.nanos(b.getBlockedNs()));
            }
            t.print(out);
        }
    }

    /** The fault round-trip histogram, one row per bucket, with a bar scaled to the largest. */
    public static Table latency(PostcopyStats p) {
        long most = 1;
        for (LatencyBucket b : p.getFaultLatencyHistogramList()) {
            most = Math.max(most, b.getCount());
        }
        Table t = new Table("FAULT ROUND TRIP", "FAULTS", "").right(0, 1);
        for (LatencyBucket b : p.getFaultLatencyHistogramList()) {
            int width = (int) Math.round(40.0 * b.getCount() / most);
            t.row("≤ " + Units.nanos(b.getUpperBoundNs()), b.getCount(), "#".repeat(width));
        }
        return t;
    }

    public static String title(MigrationInfo m) {
        StringBuilder sb = new StringBuilder("migration ").append(m.getMigrationId()).append(": ")
                .append(Names.phase(m)).append(" — pid ").append(m.getPid());
        if (!m.getTarget().isEmpty()) {
            sb.append(" → ").append(m.getTarget());
            if (m.getPeerPid() != 0) {
                sb.append(" pid ").append(m.getPeerPid());
            }
        }
        sb.append(" (").append(Names.of(m.getMode())).append(", ").append(Names.of(m.getTracker())).append(")");
        return sb.toString();
    }

    public static Table rounds(MigrationInfo m) {
        long pageSize = m.getStats().getPageSize();
        Table t = new Table("ROUND", "TIME", "PAGES", "ZERO", "SENT", "DIRTY AFTER", "DIRTY RATE", "BANDWIDTH",
                "EXP. DOWNTIME", "THROTTLE", "DECISION").right(1, 2, 3, 4, 5, 6, 7, 8, 9);
        for (RoundStats r : m.getStats().getPerRoundList()) {
            t.row(r.getRound() + (r.getFinal() ? " final" : ""),
                    Units.nanos(r.getDurationNs()),
                    r.getNormalPages(),
                    r.getZeroPages(),
                    Units.bytes(r.getTransferredBytes()),
                    r.getDirtyPagesAfter() + (pageSize > 0 ? " (" + Units.bytes(r.getDirtyPagesAfter() * pageSize) + ")" : ""),
                    Units.rate(r.getDirtyRateBytesPerSec()),
                    Units.rate(r.getBandwidthBytesPerSec()),
                    r.getExpectedDowntimeMs() + " ms",
                    r.getThrottlePercent() + " %",
                    decision(r.getDecision(), r.getDecisionReason()));
        }
        return t;
    }

    public static Table figures(MigrationInfo m) {
        Table t = new Table("METRIC", "VALUE", "DETAIL").right(1);
        for (Headline.Figure f : Headline.of(m)) {
            t.row(f.metric(), f.value(), f.detail());
        }
        return t;
    }

    private static String decision(Decision d, String reason) {
        String name = Names.of(d);
        return reason.isEmpty() ? name : name + ": " + reason;
    }
}
