package dev.pagehop.cli.progress;

import dev.pagehop.cli.output.Names;
import dev.pagehop.cli.output.Units;
import dev.pagehop.proto.control.v1.MigrationEvent;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.RoundStats;
import dev.pagehop.proto.types.v1.SourcePhase;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The words both displays use. It remembers the memory size and downtime limit from the first
 * event that carries the full record, since progress events carry only the moving figures.
 */
final class ProgressText {
    private long memoryBytes;
    private int roundsShown;
    private long downtimeLimitMs;

    void learn(MigrationEvent e) {
        if (e.hasInfo()) {
            MigrationInfo i = e.getInfo();
            if (i.getStats().getMemoryBytes() > 0) {
                memoryBytes = i.getStats().getMemoryBytes();
            }
            if (i.getPolicy().getDowntimeLimitMs() > 0) {
                downtimeLimitMs = i.getPolicy().getDowntimeLimitMs();
            }
        }
    }

    /** Fraction of memory already in sync on the target, when the memory size is known. */
    OptionalDouble fraction(MigrationEvent e) {
        if (memoryBytes <= 0) {
            return OptionalDouble.empty();
        }
        double f = 1.0 - (double) e.getRemainingBytes() / memoryBytes;
        return OptionalDouble.of(Math.max(0, Math.min(1, f)));
    }

    String progress(MigrationEvent e) {
        if (e.getSourcePhase() == SourcePhase.SOURCE_PHASE_NEW || e.getSourcePhase() == SourcePhase.SOURCE_PHASE_PREPARING) {
            return "preparing: the target checks the layout and reserves memory";
        }
        if (e.hasPostcopy()) {
            return postcopy(e);
        }
        OptionalDouble f = fraction(e);
        OptionalDouble eta = Eta.seconds(e.getRemainingBytes(), e.getBandwidthBytesPerSec(), e.getDirtyRateBytesPerSec(),
                downtimeLimitMs);
        return "round " + e.getRound()
                + (f.isPresent() ? "  " + Units.percent(f.getAsDouble()) : "")
                + "  remaining " + Units.bytes(e.getRemainingBytes())
                + "  sent " + Units.bytes(e.getTransferredBytes())
                + "  rate " + Units.rate(e.getBandwidthBytesPerSec())
                + "  dirty " + Units.rate(e.getDirtyRateBytesPerSec())
                + "  ETA " + eta(e, eta)
                + "  exp. downtime " + e.getExpectedDowntimeMs() + " ms"
                + (e.getThrottlePercent() > 0 ? "  throttle " + e.getThrottlePercent() + " %" : "");
    }

    /** Post-copy: the process runs on the target; what matters is what is still missing and what faults cost. */
    private String postcopy(MigrationEvent e) {
        dev.pagehop.proto.types.v1.PostcopyStats p = e.getPostcopy();
        OptionalDouble f = fraction(e);
        return (e.getSourcePhase() == SourcePhase.SOURCE_PHASE_POSTCOPY_PAUSED ? "post-copy PAUSED" : "post-copy")
                + (f.isPresent() ? "  " + Units.percent(f.getAsDouble()) : "")
                + "  missing " + p.getPagesMissing() + " pages (" + Units.bytes(e.getRemainingBytes()) + ")"
                + "  faults " + p.getFaults() + " (p99 " + Units.nanos(p.getFaultLatencyP99Ns()) + ")"
                + "  pages on demand " + p.getPagesOnDemand() + ", background " + p.getPagesBackground()
                + "  blocktime " + Units.nanos(p.getAllThreadsBlockedNs());
    }

    private static String eta(MigrationEvent e, OptionalDouble eta) {
        if (eta.isPresent()) {
            // Past an hour the estimate only says "not converging at this rate"; the policy acts long before.
            return eta.getAsDouble() > 3600 ? "> 1 h" : Units.seconds(eta.getAsDouble());
        }
        // Bandwidth is measured at the end of the first round; before that there is nothing to divide by.
        return e.getBandwidthBytesPerSec() == 0 ? "? (measuring)" : "∞ (dirty rate ≥ bandwidth)";
    }

    String bar(MigrationEvent e, int width) {
        OptionalDouble f = fraction(e);
        if (f.isEmpty() || width < 3) {
            return "";
        }
        int filled = (int) Math.round(f.getAsDouble() * width);
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "] ";
    }

    String phase(MigrationEvent e) {
        return "phase " + (e.getSourcePhase().getNumber() != 0 ? Names.of(e.getSourcePhase()) : Names.of(e.getTargetPhase()));
    }

    String start(MigrationEvent e) {
        MigrationInfo i = e.getInfo();
        return "watching migration " + i.getMigrationId() + ": pid " + i.getPid() + " → " + i.getTarget()
                + " (" + Names.of(i.getMode()) + ", " + Names.of(i.getTracker())
                + (i.getStats().getMemoryBytes() > 0 ? ", " + Units.bytes(i.getStats().getMemoryBytes()) : "") + "), "
                + Names.phase(i);
    }

    /**
     * A line for every round the event's record has that was not shown yet. Agents send a round's
     * end as its own event, but when a round ends together with a phase change only the phase
     * event may go out; the record it carries still has the round.
     */
    List<String> newRounds(MigrationEvent e) {
        List<String> lines = new ArrayList<>();
        if (e.hasInfo()) {
            List<RoundStats> rounds = e.getInfo().getStats().getPerRoundList();
            for (int i = roundsShown; i < rounds.size(); i++) {
                lines.add(round(rounds.get(i)));
            }
            roundsShown = Math.max(roundsShown, rounds.size());
        } else if (e.getKind() == MigrationEvent.Kind.KIND_ROUND_END) {
            lines.add("round " + e.getRound() + " done: " + Units.bytes(e.getTransferredBytes()) + " sent, "
                    + Units.bytes(e.getRemainingBytes()) + " remaining");
        }
        return lines;
    }

    private static String round(RoundStats r) {
        return "round " + r.getRound() + (r.getFinal() ? " (final)" : "") + " done in " + Units.nanos(r.getDurationNs())
                + ": " + r.getNormalPages() + " pages + " + r.getZeroPages() + " zero, "
                + Units.bytes(r.getTransferredBytes()) + " sent, " + r.getDirtyPagesAfter() + " pages dirty after, "
                + "bandwidth " + Units.rate(r.getBandwidthBytesPerSec()) + ", dirty " + Units.rate(r.getDirtyRateBytesPerSec())
                + ", exp. downtime " + r.getExpectedDowntimeMs() + " ms → " + Names.of(r.getDecision())
                + (r.getDecisionReason().isEmpty() ? "" : " (" + r.getDecisionReason() + ")");
    }

    String end(MigrationEvent e) {
        MigrationInfo i = e.getInfo();
        return "migration " + e.getMigrationId() + " " + Names.phase(i)
                + (i.getFailure().isEmpty() ? "" : ": " + i.getFailure());
    }
}
