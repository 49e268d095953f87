package dev.pagehop.migrate;

import java.util.List;

/**
 * The convergence policy as a pure function: round statistics and a policy in, a decision out.
 * No clock, no I/O; the caller passes elapsed times. Rules, first match wins:
 * <ol>
 *   <li>before any round: POSTCOPY in post-copy mode, else CONTINUE;</li>
 *   <li>overall timeout, then progress timeout (no bytes moved): ABORT;</li>
 *   <li>nothing pending: SWITCHOVER;</li>
 *   <li>hybrid after {@code postcopyAfterRounds}: POSTCOPY, even when that round converged —
 *       the user asked for post-copy at round N (QEMU too, since its 2025 rewrite of
 *       {@code migration_iteration_run}, starts post-copy once requested before it checks for
 *       completion); a round before N that converges still ends in pre-copy;</li>
 *   <li>pending ≤ bandwidth × downtime limit (QEMU {@code migration_iteration_run}), or at most
 *       {@code stopPages} pages pending (P.Haul): SWITCHOVER;</li>
 *   <li>hard caps — max rounds, amplification (Xen's 3 ×): the policy's no-convergence action
 *       (abort; switch over; or, in hybrid mode, post-copy). They come before auto-converge: the
 *       throttle is a way to converge within the caps, not a licence to exceed them (QEMU's
 *       throttle runs under the same downtime limit and the caller's overall timeout);</li>
 *   <li>dirty rate too high: THROTTLE raises the throttle (QEMU triggers when a period dirtied
 *       more than {@code throttleTriggerPercent} % of what it sent, twice running), ABORT aborts
 *       and hybrid goes post-copy when the dirty rate reached the bandwidth twice running;</li>
 *   <li>dirty set growing (P.Haul): the policy's no-convergence action — a heuristic, so it
 *       yields to the throttle, which is what makes the dirty set shrink;</li>
 *   <li>otherwise CONTINUE.</li>
 * </ol>
 * The bandwidth every rule uses is the last measured round's, capped by the policy's
 * {@code maxBandwidthBytesPerSec}: the final round is paced to the cap like any other, so a round
 * that happened to measure faster (zero pages are cheap, a burst fills the window) must not
 * promise a faster switchover.
 */
public final class Convergence {
    private Convergence() {
    }

    /**
     * @param rounds           completed rounds, oldest first
     * @param pendingBytes     bytes the next round must send (the dirty set at the last sync)
     * @param memoryBytes      mapped size of the process
     * @param transferredBytes bytes sent so far, all rounds
     * @param elapsedNs        since the migration started
     * @param sinceProgressNs  since bytes last moved
     * @param throttlePercent  the throttle in force now
     */
    public static Decision decide(MigrationPolicy p, List<RoundStats> rounds, long pendingBytes, long pageSize,
            long memoryBytes, long transferredBytes, long elapsedNs, long sinceProgressNs, int throttlePercent) {
        return decide(p, rounds, pendingBytes, pageSize, memoryBytes, transferredBytes, elapsedNs, sinceProgressNs,
                throttlePercent, 0);
    }

    /**
     * As above, with the downtime a switchover costs beyond sending the pending pages:
     * {@code switchoverFixedNs} (freezing, the final collect, capturing and sending the CPU state
     * and process image, the target's restore and the commit, as the caller measured or estimated
     * them). Expected downtime = fixed + pending / bandwidth, and the switch-over rule becomes
     * expected ≤ limit, i.e. pending ≤ bandwidth × (limit − fixed): QEMU's rule when fixed is 0.
     * QEMU's predictor leaves the fixed part out; for a process whose final round is small, it is
     * most of the downtime.
     */
    public static Decision decide(MigrationPolicy p, List<RoundStats> rounds, long pendingBytes, long pageSize,
            long memoryBytes, long transferredBytes, long elapsedNs, long sinceProgressNs, int throttlePercent,
            long switchoverFixedNs) {
        if (switchoverFixedNs < 0) {
            throw new IllegalArgumentException("switchover fixed cost " + switchoverFixedNs + " ns is negative");
        }
        if (rounds.isEmpty()) {
            if (p.mode() == MigrationMode.POSTCOPY) {
                return new Decision(Decision.Action.POSTCOPY, Decision.Reason.POSTCOPY_MODE,
                        "post-copy mode switches over after the layout", throttlePercent, 0, 0);
            }
            return new Decision(Decision.Action.CONTINUE, Decision.Reason.FIRST_ROUND,
                    "round 0 sends every populated page", throttlePercent, 0, 0);
        }
        RoundStats last = rounds.getLast();
        long measured = bandwidth(rounds);
        long bandwidth = achievable(p, measured);
        double expectedNs = bandwidth == 0 ? (pendingBytes == 0 ? switchoverFixedNs : Double.POSITIVE_INFINITY)
                : switchoverFixedNs + pendingBytes * 1e9 / bandwidth;
        long expectedMs = Double.isInfinite(expectedNs) ? Long.MAX_VALUE : (long) Math.ceil(expectedNs / 1e6);
        String numbers = String.format("round %d, pending %d bytes, bandwidth %d B/s%s, expected downtime %s ms "
                + "(%.1f ms of it fixed), limit %d ms", last.round(), pendingBytes, bandwidth,
                bandwidth < measured ? " (measured " + measured + " B/s, capped at " + bandwidth + " B/s)" : "",
                expectedMs == Long.MAX_VALUE ? "unknown" : Long.toString(expectedMs), switchoverFixedNs / 1e6,
                p.downtimeLimitMs());

        if (elapsedNs >= p.overallTimeoutMs() * 1_000_000L) {
            return decision(Decision.Action.ABORT, Decision.Reason.OVERALL_TIMEOUT, String.format(
                    "migration ran %d ms, over the overall timeout of %d ms; %s", elapsedNs / 1_000_000,
                    p.overallTimeoutMs(), numbers), throttlePercent, expectedMs, bandwidth);
        }
        if (sinceProgressNs >= p.progressTimeoutMs() * 1_000_000L) {
            return decision(Decision.Action.ABORT, Decision.Reason.PROGRESS_TIMEOUT, String.format(
                    "no data moved for %d ms, over the progress timeout of %d ms; %s", sinceProgressNs / 1_000_000,
                    p.progressTimeoutMs(), numbers), throttlePercent, expectedMs, bandwidth);
        }
        if (pendingBytes == 0) {
            return decision(Decision.Action.SWITCHOVER, Decision.Reason.NOTHING_PENDING, numbers, throttlePercent,
                    expectedMs, bandwidth);
        }
        // Before the convergence rule: at round N the user asked for post-copy, and a converged
        // round gains nothing by ignoring that (post-copy's downtime is the smaller one).
        if (p.mode() == MigrationMode.HYBRID && p.postcopyAfterRounds() > 0 && rounds.size() >= p.postcopyAfterRounds()) {
            return decision(Decision.Action.POSTCOPY, Decision.Reason.POSTCOPY_AFTER_ROUNDS, String.format(
                    "%d pre-copy rounds done, post-copy after %d; %s", rounds.size(), p.postcopyAfterRounds(), numbers),
                    throttlePercent, expectedMs, bandwidth);
        }
        // QEMU: threshold = bandwidth × downtime_limit; pending ≤ threshold; here with the limit
        // less the switchover's fixed cost. In doubles, without overflow.
        if (bandwidth > 0 && pendingBytes * 1e9 <= (double) bandwidth * (p.downtimeLimitMs() * 1e6 - switchoverFixedNs)) {
            return decision(Decision.Action.SWITCHOVER, Decision.Reason.CONVERGED, numbers, throttlePercent,
                    expectedMs, bandwidth);
        }
        long pendingPages = pendingBytes / pageSize;
        if (pendingPages <= p.stopPages()) {
            return decision(Decision.Action.SWITCHOVER, Decision.Reason.FEW_PAGES, String.format(
                    "%d pages pending, at most %d; %s", pendingPages, p.stopPages(), numbers), throttlePercent,
                    expectedMs, bandwidth);
        }
        if (rounds.size() >= p.maxRounds()) {
            return noConvergence(p, Decision.Reason.MAX_ROUNDS, String.format("%d rounds done, at most %d; %s",
                    rounds.size(), p.maxRounds(), numbers), throttlePercent, expectedMs, bandwidth);
        }
        if (memoryBytes > 0 && transferredBytes >= p.maxAmplification() * memoryBytes) {
            return noConvergence(p, Decision.Reason.AMPLIFICATION, String.format(
                    "sent %d bytes, %.2f x the memory size %d, cap %.2f x; %s", transferredBytes,
                    transferredBytes / (double) memoryBytes, memoryBytes, p.maxAmplification(), numbers),
                    throttlePercent, expectedMs, bandwidth);
        }
        if (p.autoConverge() == AutoConverge.THROTTLE && throttlePercent < p.throttleMaxPercent()
                && dirtyAbove(rounds, p.throttleTriggerPercent())) {
            int next = throttlePercent == 0 ? p.throttleInitialPercent()
                    : Math.min(p.throttleMaxPercent(), throttlePercent + p.throttleIncrementPercent());
            return decision(Decision.Action.CONTINUE, Decision.Reason.THROTTLING, String.format(
                    "dirty rate %d B/s over %d %% of bandwidth twice running, throttle %d %% -> %d %%; %s",
                    last.dirtyRateBytesPerSec(), p.throttleTriggerPercent(), throttlePercent, next, numbers),
                    next, expectedMs, bandwidth);
        }
        if (dirtyAbove(rounds, 100)) {
            if (p.autoConverge() == AutoConverge.ABORT) {
                return decision(Decision.Action.ABORT, Decision.Reason.DIRTY_RATE_EXCEEDS_BANDWIDTH, String.format(
                        "dirty rate %d B/s at or above bandwidth twice running; %s", last.dirtyRateBytesPerSec(),
                        numbers), throttlePercent, expectedMs, bandwidth);
            }
            if (p.noConvergenceAction() == NoConvergenceAction.POSTCOPY) {
                return decision(Decision.Action.POSTCOPY, Decision.Reason.CANNOT_KEEP_UP, String.format(
                        "dirty rate %d B/s at or above bandwidth twice running; %s", last.dirtyRateBytesPerSec(),
                        numbers), throttlePercent, expectedMs, bandwidth);
            }
        }
        if (p.growthRule() && rounds.size() >= 2) {
            long before = rounds.get(rounds.size() - 2).dirtyBytesAfter();
            long now = last.dirtyBytesAfter();
            if (before > 0 && now * 100 > before * (100L + p.growthStopPercent())) {
                return noConvergence(p, Decision.Reason.DIRTY_SET_GROWING, String.format(
                        "dirty set grew from %d to %d bytes, more than %d %%; %s", before, now, p.growthStopPercent(),
                        numbers), throttlePercent, expectedMs, bandwidth);
            }
        }
        return decision(Decision.Action.CONTINUE, Decision.Reason.ITERATING, numbers, throttlePercent, expectedMs,
                bandwidth);
    }

    /**
     * Bandwidth of the most recent round that moved pages: a round with nothing to send (or too
     * short to time) says nothing about the link, so an earlier measurement stands.
     */
    static long bandwidth(List<RoundStats> rounds) {
        for (int i = rounds.size() - 1; i >= 0; i--) {
            long b = rounds.get(i).bandwidthBytesPerSec();
            if (b > 0) {
                return b;
            }
        }
        return 0;
    }

    /**
     * The bandwidth the next round can count on: the measured one, but never above the policy's
     * cap, since the sender paces every round to it. 0 (unknown) stays 0.
     */
    static long achievable(MigrationPolicy p, long measured) {
        long cap = p.maxBandwidthBytesPerSec();
        return cap > 0 ? Math.min(measured, cap) : measured;
    }

    /** Dirty rate above {@code percent} % of bandwidth in each of the last two rounds. */
    static boolean dirtyAbove(List<RoundStats> rounds, int percent) {
        if (rounds.size() < 2) {
            return false;
        }
        for (int i = rounds.size() - 2; i < rounds.size(); i++) {
            RoundStats r = rounds.get(i);
            long bw = r.bandwidthBytesPerSec();
            if (bw == 0 || r.dirtyRateBytesPerSec() * 100.0 < (double) bw * percent) {
                return false;
            }
        }
        return true;
    }

    private static Decision noConvergence(MigrationPolicy p, Decision.Reason reason, String detail, int throttle,
            long expectedMs, long bandwidth) {
        Decision.Action action = switch (p.noConvergenceAction()) {
            case ABORT -> Decision.Action.ABORT;
            case SWITCHOVER -> Decision.Action.SWITCHOVER;
            case POSTCOPY -> Decision.Action.POSTCOPY;
        };
        return decision(action, reason, detail, throttle, expectedMs, bandwidth);
    }

    private static Decision decision(Decision.Action a, Decision.Reason r, String detail, int throttle,
            long expectedMs, long bandwidth) {
        return new Decision(a, r, detail, throttle, expectedMs == Long.MAX_VALUE ? -1 : expectedMs, bandwidth);
    }
}
