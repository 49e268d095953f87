package dev.pagehop.bench.report;

/**
 * What one tracker did on one case and granule. Counts are summed over all rounds.
 *
 * @param kase                 case name
 * @param granule              4K, 16K or 64K
 * @param tracker              tracker name, or {@code none} for the untracked baseline
 * @param pageSize             bytes per page
 * @param rounds               collects
 * @param steps                workload steps, all threads
 * @param workloadNanos        wall time the threads ran between collects (the workload's progress rate)
 * @param traps                write faults taken because of tracking (kernel counter for async uffd-wp and
 *                             soft-dirty, monitor-resolved faults for sync uffd-wp)
 * @param trapNanos            time in those faults (fault entry to return; for sync, until the monitor woke the thread)
 * @param collectNanos         time in collect() over all rounds
 * @param maxCollectNanos      the slowest single collect
 * @param pageTablesAfterArm   page-table pages right after the tracker armed (start)
 * @param pageTablesBaseline   page-table pages before arming
 * @param pageTablesPopulated  page tables the tracker populated (its own counter)
 * @param pagesWritten         pages whose contents changed (ground truth, exact)
 * @param pagesReported        pages the tracker reported written
 * @param falsePositives       reported but not changed
 * @param falseNegatives       changed, still mapped, and not reported (must be 0)
 * @param thpAllocated         PMD blocks mapped during the run
 * @param thpSplits            PMD blocks split during the run
 * @param movesReplayed        mremap calls replayed by {@link MremapFallback} (0 once the kernel has mremap)
 */
public record TrackerRun(String kase, String granule, String tracker, long pageSize, int rounds, long steps,
        long workloadNanos, long traps, long trapNanos, long collectNanos, long maxCollectNanos,
        long pageTablesAfterArm, long pageTablesBaseline, long pageTablesPopulated, long pagesWritten,
        long pagesReported, long falsePositives, long falseNegatives, long thpAllocated, long thpSplits,
        long movesReplayed) {

    /** Bytes a migration would send for these rounds: every reported page, once per round it was reported. */
    public long bytesToSend() {
        return pagesReported * pageSize;
    }

    public double falsePositivePercent() {
        return pagesReported == 0 ? 0 : 100.0 * falsePositives / pagesReported;
    }

    public double nanosPerTrap() {
        return traps == 0 ? 0 : (double) trapNanos / traps;
    }

    public double collectMillisPerRound() {
        return rounds == 0 ? 0 : collectNanos / 1e6 / rounds;
    }

    /** Workload progress in nanoseconds per step (all threads): lower is faster. */
    public double nanosPerStep() {
        return steps == 0 ? 0 : (double) workloadNanos / steps;
    }

    static final String CSV_HEADER = "case,granule,tracker,page_size,rounds,steps,workload_ns,ns_per_step,traps,trap_ns,"
            + "ns_per_trap,collect_ns,collect_ms_per_round,max_collect_ns,page_tables_baseline,page_tables_after_arm,"
            + "page_tables_populated,pages_written,pages_reported,false_positives,false_positive_pct,false_negatives,"
            + "bytes_to_send,thp_allocated,thp_splits,moves_replayed";

    String csvRow() {
        return String.join(",", kase, granule, tracker, Long.toString(pageSize), Integer.toString(rounds),
                Long.toString(steps), Long.toString(workloadNanos), String.format("%.1f", nanosPerStep()),
                Long.toString(traps), Long.toString(trapNanos), String.format("%.1f", nanosPerTrap()),
                Long.toString(collectNanos), String.format("%.3f", collectMillisPerRound()),
                Long.toString(maxCollectNanos), Long.toString(pageTablesBaseline), Long.toString(pageTablesAfterArm),
                Long.toString(pageTablesPopulated), Long.toString(pagesWritten), Long.toString(pagesReported),
                Long.toString(falsePositives), String.format("%.2f", falsePositivePercent()),
                Long.toString(falseNegatives), Long.toString(bytesToSend()), Long.toString(thpAllocated),
                Long.toString(thpSplits), Long.toString(movesReplayed));
    }
}
