package dev.pagehop.bench.report;

import dev.pagehop.mm.FaultCounters;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.ProcessOptions;
import dev.pagehop.track.DirtySet;
import dev.pagehop.track.DirtyTracker;
import dev.pagehop.track.DirtyTrackers;
import dev.pagehop.track.PageRange;
import dev.pagehop.track.SoftDirtyTracker;
import dev.pagehop.track.TrackerCost;
import dev.pagehop.track.TrackerOptions;
import dev.pagehop.track.UffdWpSyncTracker;
import dev.pagehop.track.WriterFreeze;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Runs the trackers side by side on identical workloads. Each round lets every thread run to an
 * exact step count and freezes the process there before the collect, so the stores each tracker
 * sees are identical and the ground truth ({@link ContentChangeLog}) is exact: no slack for
 * racing writers is needed when counting false positives and false negatives.
 */
public final class TrackerComparison {

    /** The untracked baseline's name in results. */
    public static final String NONE = "none";

    private TrackerComparison() {
    }

    /** A cell that could not run, and why (for example a system call the emulated kernel lacks). */
    public record Skip(String kase, String granule, String tracker, String reason) {
    }

    public record Results(List<TrackerRun> runs, List<Skip> skips) {
    }

    /**
     * Every case on every granule with the untracked baseline and every tracker. A cell whose
     * workload stops (its process dies, a system call is missing) is recorded as skipped with
     * the reason, and the rest of the matrix still runs.
     */
    public static Results runAll(List<TrackerCase> cases, List<Granule> granules, List<String> trackers,
            Consumer<TrackerRun> progress, Consumer<Skip> skipped) {
        List<TrackerRun> out = new ArrayList<>();
        List<Skip> skips = new ArrayList<>();
        for (TrackerCase c : cases) {
            for (Granule g : granules) {
                for (String t : trackers) {
                    try {
                        TrackerRun r = run(c, g, t);
                        progress.accept(r);
                        out.add(r);
                    } catch (IllegalStateException e) {
                        Skip s = new Skip(c.name(), label(g), t, e.getMessage());
                        skipped.accept(s);
                        skips.add(s);
                    }
                }
            }
        }
        return new Results(out, skips);
    }

    public static TrackerRun run(TrackerCase c, Granule granule, String trackerName) {
        MmConfig config = MmConfig.arm64(granule).withThp(c.thp());
        if (SoftDirtyTracker.NAME.equals(trackerName)) {
            config = config.withSoftDirty(true);
        }
        MemoryManager mm = MemoryManager.create(config);
        long ps = mm.pageSize();
        ContentChangeLog truth = new ContentChangeLog(ps);
        LongAdder movesReplayed = new LongAdder();
        EmulatedProcess proc = null;
        DirtyTracker tracker = null;
        try {
            proc = EmulatedProcess.spawn(1, MremapFallback.wrap(truth.wrap(mm), movesReplayed),
                    c.specFor(granule), c.threads(), ProcessOptions.defaults());
            long tablesBaseline = mm.pageTablePages();
            if (!NONE.equals(trackerName)) {
                // Collects run with the process frozen, so soft-dirty needs no freeze of its own.
                tracker = DirtyTrackers.create(trackerName, mm, TrackerOptions.defaults()
                        .withWriterFreeze(WriterFreeze.callerGuaranteesQuiescence()));
                tracker.start();
            }
            long tablesAfterArm = mm.pageTablePages();
            truth.drain();
            ContentShadow shadow = new ContentShadow(mm);
            shadow.baseline();
            FaultCounters f0 = mm.faultCounters();
            long workloadNanos = 0;
            long maxCollect = 0;
            long written = 0;
            long reported = 0;
            long falsePositives = 0;
            long falseNegatives = 0;
            for (int round = 1; round <= c.rounds(); round++) {
                long t0 = System.nanoTime();
                proc.freezeAt(round * c.stepsPerRound());
                workloadNanos += System.nanoTime() - t0;
                Set<Long> changed = truth.drain();
                written += changed.size();
                if (tracker == null) {
                    continue;
                }
                long c0 = tracker.cost().collectNanos();
                DirtySet set = tracker.collect();
                maxCollect = Math.max(maxCollect, tracker.cost().collectNanos() - c0);
                Set<Long> got = pages(set.written(), ps);
                // A range reported unmapped is dropped by the target and rebuilt from the layout:
                // a page of it not reported written holds zeros there.
                Set<Long> dropped = pages(set.unmapped(), ps);
                reported += got.size();
                for (Long p : got) {
                    if (!changed.contains(p)) {
                        falsePositives++;
                    }
                }
                List<VmaInfo> vmas = mm.vmas();
                for (Long p : changed) {
                    if (!got.contains(p) && mapped(vmas, p)
                            && (dropped.contains(p) ? shadow.nonZero(p, vmas) : shadow.changed(p, vmas))) {
                        falseNegatives++;
                    }
                }
                for (Long p : changed) {
                    shadow.record(p, vmas);
                }
                // The target forgot what it had for dropped pages; a later change there must be
                // compared with zeros, not with the contents before the range went away.
                for (Long p : dropped) {
                    if (!changed.contains(p)) {
                        shadow.forget(p);
                    }
                }
                for (Long p : got) {
                    shadow.record(p, vmas);
                }
            }
            FaultCounters f1 = mm.faultCounters();
            TrackerCost cost = tracker == null ? new TrackerCost(0, 0, 0, 0, 0, 0, 0) : tracker.cost();
            long traps;
            long trapNanos;
            if (UffdWpSyncTracker.NAME.equals(trackerName)) {
                traps = cost.traps();
                trapNanos = cost.trapNanos();
            } else {
                traps = (f1.wpAsyncFaults() - f0.wpAsyncFaults()) + (f1.softDirtyFaults() - f0.softDirtyFaults());
                trapNanos = (f1.wpAsyncNanos() - f0.wpAsyncNanos()) + (f1.softDirtyNanos() - f0.softDirtyNanos());
            }
            return new TrackerRun(c.name(), label(granule), trackerName, ps, c.rounds(),
                    c.rounds() * c.stepsPerRound() * c.threads(), workloadNanos, traps, trapNanos, cost.collectNanos(),
                    maxCollect, tablesAfterArm, tablesBaseline, cost.pageTablesPopulated(), written, reported,
                    falsePositives, falseNegatives, f1.thpAllocated() - f0.thpAllocated(),
                    f1.thpSplits() - f0.thpSplits(), movesReplayed.sum());
        } finally {
            if (tracker != null) {
                tracker.stop();
            }
            if (proc != null) {
                proc.close();
            }
            mm.close();
        }
    }

    static String label(Granule g) {
        return (g.pageSize() / 1024) + "K";
    }

    private static Set<Long> pages(List<PageRange> ranges, long ps) {
        Set<Long> out = new HashSet<>();
        for (PageRange r : ranges) {
            for (long p = r.start(); p < r.end(); p += ps) {
                out.add(p);
            }
        }
        return out;
    }

    private static boolean mapped(List<VmaInfo> vmas, long page) {
        for (VmaInfo v : vmas) {
            if (page >= v.start() && page < v.end()) {
                return true;
            }
        }
        return false;
    }
}
