package dev.pagehop.track;

import dev.pagehop.mm.MemoryManager;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The part every tracker shares: the NEW → TRACKING → STOPPED life with checked transitions,
 * the layout diff that finds ranges unmapped since the previous collect, and cost accounting.
 * Subclasses implement the mechanism.
 */
abstract class LifecycleTracker implements DirtyTracker {
    private static final Logger LOG = LoggerFactory.getLogger(LifecycleTracker.class);

    protected final MemoryManager mm;
    protected final long pageSize;
    protected final TrackerOptions options;
    protected final CostMeter meter;

    private TrackerState state = TrackerState.NEW;
    /** What was mapped at the previous collect (or at start). */
    private List<PageRange> previousLayout = List.of();

    LifecycleTracker(MemoryManager mm, TrackerOptions options) {
        if (mm == null || options == null) {
            throw new IllegalArgumentException("a tracker needs an address space and options, got " + mm + ", " + options);
        }
        this.mm = mm;
        this.pageSize = mm.pageSize();
        this.options = options;
        this.meter = new CostMeter(options.trueWriteLog(), pageSize);
    }

    @Override
    public final synchronized void start() {
        moveTo(TrackerState.TRACKING, "start");
        meter.started();
        try (WriterFreeze.Thaw q = quiesce()) {
            previousLayout = layout();
            doStart();
        } catch (RuntimeException e) {
            state = TrackerState.STOPPED;
            safeStop();
            throw e;
        }
    }

    @Override
    public final synchronized DirtySet collect() {
        if (state != TrackerState.TRACKING) {
            throw new IllegalStateException(name() + " tracker: collect() needs a started tracker, state is " + state);
        }
        long t0 = System.nanoTime();
        meter.collectStarting();
        List<PageRange> layout;
        List<PageRange> unmapped;
        RangeList written = new RangeList();
        RangeList remapped = new RangeList();
        // The layout must be read in the same quiet moment as the mechanism's state: a range
        // unmapped between the two would be neither walked nor reported as gone.
        try (WriterFreeze.Thaw q = quiesce()) {
            layout = layout();
            unmapped = RangeList.subtract(previousLayout, layout);
            doCollect(layout, previousLayout, written, remapped);
        }
        previousLayout = layout;
        RangeList gone = new RangeList();
        gone.addAll(unmapped);
        gone.addAll(remapped.toList());
        DirtySet set = new DirtySet(written.toList(), gone.toList());
        meter.collected(System.nanoTime() - t0, set);
        return set;
    }

    @Override
    public final synchronized void stop() {
        if (state == TrackerState.STOPPED) {
            return;
        }
        moveTo(TrackerState.STOPPED, "stop");
        safeStop();
    }

    private void safeStop() {
        try {
            doStop();
        } catch (RuntimeException e) {
            LOG.warn("{} tracker: releasing the kernel state failed: {}", name(), e.toString());
        }
    }

    @Override
    public final TrackerCost cost() {
        return meter.snapshot();
    }

    private void moveTo(TrackerState next, String why) {
        if (!state.canMoveTo(next)) {
            throw new IllegalStateException(name() + " tracker: cannot " + why + " in state " + state);
        }
        LOG.debug("{} tracker: {} -> {} ({})", name(), state, next, why);
        state = next;
    }

    /** The mapped ranges of the address space now, coalesced. */
    protected final List<PageRange> layout() {
        RangeList out = new RangeList();
        mm.vmas().forEach(v -> out.add(v.start(), v.end()));
        return out.toList();
    }

    /**
     * Holds the writers still around {@link #doStart} and {@link #doCollect} and the layout
     * reads that go with them, for a mechanism that cannot read and re-arm atomically. The
     * uffd-wp trackers get-and-rearm in one step and see layout changes as events, so by default
     * nothing is held.
     */
    protected WriterFreeze.Thaw quiesce() {
        return () -> { };
    }

    protected abstract void doStart();

    /**
     * Fills {@code written} with the pages written since the previous collect (and re-arms them);
     * adds to {@code remapped} ranges whose old contents vanished although they are mapped again
     * (unmapped and mapped anew between collects), which the caller reports as unmapped too.
     */
    protected abstract void doCollect(List<PageRange> layout, List<PageRange> previousLayout,
            RangeList written, RangeList remapped);

    protected abstract void doStop();
}
