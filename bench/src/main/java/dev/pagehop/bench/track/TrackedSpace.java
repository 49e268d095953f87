package dev.pagehop.bench.track;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.track.DirtyTracker;
import dev.pagehop.track.DirtyTrackers;
import dev.pagehop.track.SoftDirtyTracker;
import dev.pagehop.track.TrackerOptions;
import dev.pagehop.track.WriterFreeze;

/**
 * An address space with one mapping and, unless {@code tracker} is "untracked", a started
 * tracker. Benchmarks never collect while storing, so soft-dirty runs with the caller's
 * quiescence guarantee instead of a freeze.
 */
final class TrackedSpace implements AutoCloseable {
    static final String UNTRACKED = "untracked";

    final MemoryManager mm;
    final long pageSize;
    final long base;
    final DirtyTracker tracker;

    TrackedSpace(String tracker, Granule granule, long pages) {
        MmConfig config = MmConfig.arm64(granule);
        if (SoftDirtyTracker.NAME.equals(tracker)) {
            config = config.withSoftDirty(true);
        }
        this.mm = MemoryManager.create(config);
        this.pageSize = mm.pageSize();
        this.base = mm.mmap(0, pages * pageSize, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        this.tracker = UNTRACKED.equals(tracker) ? null
                : DirtyTrackers.create(tracker, mm, TrackerOptions.defaults()
                        .withWriterFreeze(WriterFreeze.callerGuaranteesQuiescence()));
    }

    void start() {
        if (tracker != null) {
            tracker.start();
        }
    }

    /** Re-arms every page written so far (the tracker's collect), or nothing when untracked. */
    void rearm() {
        if (tracker != null) {
            tracker.collect();
        }
    }

    @Override
    public void close() {
        if (tracker != null) {
            tracker.stop();
        }
        mm.close();
    }
}
