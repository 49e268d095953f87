package dev.pagehop.bench.scenario;

import java.util.List;

/**
 * What one scenario run measured, with the names of METRICS.md. Times in ms, sizes in bytes,
 * rates per second. Fields that a run did not reach (a skipped or failed run) are 0.
 *
 * @param status          COMPLETED; ABORTED (the convergence policy gave up: a result, not an error);
 *                        FAILED, CANCELLED or TIMEOUT (the run broke); SKIPPED (this machine or build cannot run it)
 * @param reason          why it failed or was skipped, or the last decision's reason when it completed
 * @param dirtyRateBytesPerSec the workload's measured dirtying rate before the migration (pages/s x page size)
 * @param baselineStepsPerSec  workload progress before the migration
 * @param duringStepsPerSec    workload progress on the source while pre-copy ran
 * @param slowdownPercent      how much slower the workload progressed during pre-copy
 * @param msPerGbBefore        guestperf's figure: ms the workload needs to write 1 GB, before the migration
 * @param msPerGbDuring        the same while pre-copy ran
 * @param sourceCpuPercent     source agent CPU (user+system) over the migration's wall time, 100 = one core
 * @param digestChecked       both agents digested the memory at the switchover (pre-copy's stop-and-copy;
 *                            a post-copy switchover has no complete memory on the target to digest)
 * @param digestsMatch        the target's memory digest equals the source's at freeze
 * @param resumedOnTarget     the workload made progress on the target after the switchover
 * @param loadAvgStart        the machine's 1-minute load average when the run started (other users' load:
 *                            compare runs of one suite run only, as ratios)
 * @param loadAvgEnd          the same when it ended
 * @param linkBytes           bytes the source's end of the capped link sent during the migration (pages,
 *                            post-copy answers, TCP/IP overhead), -1 on loopback
 * @param agentRun            1 for the first run of a freshly started agent pair, then 2, 3, ... as the
 *                            runner reuses the pair; 0 when no agents ran
 */
public record RunResult(String id, String scenarioFile, String memory, long memoryBytes, String workload, int threads,
        String granule, String tracker, String mode, String bandwidth, long downtimeLimitMs, int repetition,
        String status, String reason,
        long totalTimeMs, long setupTimeMs, long downtimeMs, long expectedDowntimeMs, int rounds,
        long transferredBytes, long precopyBytes, long downtimeBytes, long postcopyBytes, long normalPages,
        long zeroPages, long mappedBytes, double amplification, double mbps, long bandwidthBytesPerSec,
        String lastDecision, int throttlePercent,
        long dirtyRateBytesPerSec, double baselineStepsPerSec, double duringStepsPerSec, double slowdownPercent,
        double msPerGbBefore, double msPerGbDuring,
        long sourceCpuMs, long targetCpuMs, double sourceCpuPercent, double targetCpuPercent,
        long traps, long trapNs, long collects, long collectNs, long pageTablesPopulated, long pagesReported,
        long falsePositivePages,
        long freezeNs, long finalRoundNs, long stateCaptureNs, long stateSendNs, long completeNs,
        boolean digestChecked, boolean digestsMatch, boolean resumedOnTarget, double loadAvgStart, double loadAvgEnd, long linkBytes,
        int agentRun, List<Round> perRound) {

    /** One pre-copy round (QEMU dirty-sync), as the source reported it. */
    public record Round(int round, boolean fin, long durationMs, long normalPages, long zeroPages,
            long transferredBytes, long dirtyPagesAfter, long dirtyRateBytesPerSec, long bandwidthBytesPerSec,
            long expectedDowntimeMs, int throttlePercent, double collectMs, String decision) {
    }

    public static final String CSV_HEADER = "id,scenario_file,memory,memory_bytes,workload,threads,granule,tracker,mode,"
            + "bandwidth,downtime_limit_ms,repetition,status,total_time_ms,setup_time_ms,downtime_ms,"
            + "expected_downtime_ms,rounds,transferred_bytes,precopy_bytes,downtime_bytes,postcopy_bytes,normal_pages,"
            + "zero_pages,mapped_bytes,amplification,mbps,bandwidth_bytes_per_sec,last_decision,throttle_percent,"
            + "dirty_rate_bytes_per_sec,baseline_steps_per_sec,during_steps_per_sec,slowdown_percent,ms_per_gb_before,"
            + "ms_per_gb_during,source_cpu_ms,target_cpu_ms,source_cpu_percent,target_cpu_percent,traps,trap_ns,collects,"
            + "collect_ns,page_tables_populated,pages_reported,false_positive_pages,freeze_ns,final_round_ns,"
            + "state_capture_ns,state_send_ns,complete_ns,digest_checked,digests_match,resumed_on_target,load_avg_start,load_avg_end,"
            + "link_bytes,agent_run,reason";

    public String csvRow() {
        Object[] v = {id, scenarioFile, memory, memoryBytes, workload, threads, granule, tracker, mode, bandwidth,
                downtimeLimitMs, repetition, status, totalTimeMs, setupTimeMs, downtimeMs, expectedDowntimeMs, rounds,
                transferredBytes, precopyBytes, downtimeBytes, postcopyBytes, normalPages, zeroPages, mappedBytes,
                fmt(amplification), fmt(mbps), bandwidthBytesPerSec, lastDecision, throttlePercent, dirtyRateBytesPerSec,
                fmt(baselineStepsPerSec), fmt(duringStepsPerSec), fmt(slowdownPercent), fmt(msPerGbBefore),
                fmt(msPerGbDuring), sourceCpuMs, targetCpuMs, fmt(sourceCpuPercent), fmt(targetCpuPercent), traps, trapNs,
                collects, collectNs, pageTablesPopulated, pagesReported, falsePositivePages, freezeNs, finalRoundNs,
                stateCaptureNs, stateSendNs, completeNs, digestChecked, digestsMatch, resumedOnTarget, fmt(loadAvgStart), fmt(loadAvgEnd),
                linkBytes, agentRun, quote(reason)};
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append(v[i]);
        }
        return b.toString();
    }

    public static final String ROUNDS_CSV_HEADER = "id,round,final,duration_ms,normal_pages,zero_pages,transferred_bytes,"
            + "dirty_pages_after,dirty_rate_bytes_per_sec,bandwidth_bytes_per_sec,expected_downtime_ms,throttle_percent,"
            + "collect_ms,decision";

    public List<String> roundRows() {
        return perRound.stream().map(r -> String.join(",", id, Integer.toString(r.round()), Boolean.toString(r.fin()),
                Long.toString(r.durationMs()), Long.toString(r.normalPages()), Long.toString(r.zeroPages()),
                Long.toString(r.transferredBytes()), Long.toString(r.dirtyPagesAfter()),
                Long.toString(r.dirtyRateBytesPerSec()), Long.toString(r.bandwidthBytesPerSec()),
                Long.toString(r.expectedDowntimeMs()), Integer.toString(r.throttlePercent()), fmt(r.collectMs()),
                r.decision())).toList();
    }

    private static String fmt(double d) {
        return Double.isNaN(d) ? "" : String.format(java.util.Locale.ROOT, "%.2f", d);
    }

    private static String quote(String s) {
        return s == null ? "" : '"' + s.replace("\"", "\"\"").replace('\n', ' ') + '"';
    }

    /** Completed, digested on both sides, and the digests differ: the target lost a change. */
    public boolean digestMismatch() {
        return completed() && digestChecked && !digestsMatch;
    }

    public boolean completed() {
        return status.equals("COMPLETED");
    }

    /** A run that did not reach the agents (or broke before it measured): only the scenario and the reason are set. */
    public static RunResult skipped(String file, Scenario s, String status, String reason) {
        return new RunResult(s.id(), file, (s.memoryBytes() >> 20) + "MiB", s.memoryBytes(), s.workloadName(), s.threads(),
                s.granule(), s.tracker(), s.mode(), s.bandwidth(), s.downtimeLimitMs(), s.repetition(), status, reason,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "", 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, 0, 0, Double.NaN, Double.NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, false, false, Double.NaN,
                Double.NaN, -1, 0, List.of());
    }

    /** This run with the host's figures the runner measured around it. */
    RunResult withHost(double loadStart, double loadEnd, long link, int agentRunOnPair) {
        return new RunResult(id, scenarioFile, memory, memoryBytes, workload, threads, granule, tracker, mode, bandwidth,
                downtimeLimitMs, repetition, status, reason, totalTimeMs, setupTimeMs, downtimeMs, expectedDowntimeMs,
                rounds, transferredBytes, precopyBytes, downtimeBytes, postcopyBytes, normalPages, zeroPages, mappedBytes,
                amplification, mbps, bandwidthBytesPerSec, lastDecision, throttlePercent, dirtyRateBytesPerSec,
                baselineStepsPerSec, duringStepsPerSec, slowdownPercent, msPerGbBefore, msPerGbDuring, sourceCpuMs,
                targetCpuMs, sourceCpuPercent, targetCpuPercent, traps, trapNs, collects, collectNs, pageTablesPopulated,
                pagesReported, falsePositivePages, freezeNs, finalRoundNs, stateCaptureNs, stateSendNs, completeNs,
                digestChecked, digestsMatch, resumedOnTarget, loadStart, loadEnd, link, agentRunOnPair, perRound);
    }

    /** Broken runs: the runner restarts the agents after one. */
    public boolean broken() {
        return status.equals("FAILED") || status.equals("TIMEOUT") || status.equals("CANCELLED");
    }
}
