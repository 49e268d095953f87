package dev.pagehop.track;

import dev.pagehop.mm.FaultCounters;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.Pagemap;
import dev.pagehop.mm.VmaInfo;
import java.util.Arrays;
import java.util.List;

/**
 * Soft-dirty tracking as x86 Linux and CRIU do it: {@code clear_refs 4} write-protects every pte
 * and clears bit 55; a write faults once and sets it again; a collect reads pagemap bit 55 of
 * every mapped page, then clears again. On arm64 this needs the hypothetical RFC layout
 * ({@code MmConfig.withSoftDirty(true)}); on a stock arm64 kernel clear_refs 4 silently does
 * nothing and bit 55 is always 0, so this tracker refuses to run there rather than report
 * nothing.
 *
 * <p>Reading and clearing are two steps with no atomic get-and-clear, so the collect runs with
 * the writers frozen ({@link WriterFreeze}), as a CRIU pre-dump freezes the task.
 *
 * <p>Soft-dirty loses zaps: MADV_DONTNEED leaves bit 55 clear although the page is now zero
 * (§B.1). The tracker therefore remembers the frame of every page present at the previous
 * collect and also reports a page whose frame is gone or changed (zapped, or zapped and
 * re-faulted as the zero page). New, merged and moved VMAs read soft-dirty everywhere
 * (VM_SOFTDIRTY): those are the mechanism's false positives and are reported as they are.
 */
public final class SoftDirtyTracker extends LifecycleTracker {
    public static final String NAME = "soft-dirty";

    private static final int CLEAR_SOFT_DIRTY = 4;
    private static final long PRESENT_OR_SWAPPED = Pagemap.PM_PRESENT | Pagemap.PM_SWAP;

    private final WriterFreeze freeze;
    /** Pages present (or swapped) at the previous collect, address-ordered, with their pagemap PFN field. */
    private long[] presentPages = new long[0];
    private long[] presentFrames = new long[0];
    private int presentCount;

    public SoftDirtyTracker(MemoryManager mm, TrackerOptions options) {
        super(mm, options);
        if (!mm.config().softDirty()) {
            throw new IllegalStateException("soft-dirty tracker: this kernel has no soft-dirty (stock arm64: clear_refs 4"
                    + " does nothing and pagemap bit 55 stays 0); build the address space with"
                    + " MmConfig.withSoftDirty(true) or use the uffd-wp-async tracker");
        }
        if (options.writerFreeze() == null) {
            throw new IllegalArgumentException("soft-dirty tracker: needs a WriterFreeze, because reading bit 55 and"
                    + " clear_refs are not atomic; pass WriterFreeze.callerGuaranteesQuiescence() if no thread stores"
                    + " during collect()");
        }
        this.freeze = options.writerFreeze();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    protected WriterFreeze.Thaw quiesce() {
        return freeze.freeze();
    }

    @Override
    protected void doStart() {
        walk(null);
        mm.clearRefs(CLEAR_SOFT_DIRTY);
        // Soft-dirty write faults resolve in the kernel; only its fault counters see them.
        FaultCounters base = mm.faultCounters();
        meter.kernelTraps(() -> {
            FaultCounters now = mm.faultCounters();
            return new long[] {now.softDirtyFaults() - base.softDirtyFaults(), now.softDirtyNanos() - base.softDirtyNanos()};
        });
    }

    @Override
    protected void doCollect(List<PageRange> layout, List<PageRange> previousLayout, RangeList written,
            RangeList remapped) {
        walk(written);
        mm.clearRefs(CLEAR_SOFT_DIRTY);
    }

    /**
     * Reads the pagemap entry of every mapped page; adds soft-dirty and zapped pages to
     * {@code written} (when given); remembers what is present now.
     */
    private void walk(RangeList written) {
        long[] oldPages = presentPages;
        long[] oldFrames = presentFrames;
        int oldCount = presentCount;
        int cursor = 0;
        long[] pages = new long[Math.max(16, oldCount)];
        long[] frames = new long[pages.length];
        int count = 0;
        for (VmaInfo vma : mm.vmas()) {
            for (long a = vma.start(); a < vma.end(); a += pageSize) {
                long e = mm.pagemapEntry(a);
                boolean present = (e & PRESENT_OR_SWAPPED) != 0;
                long frame = e & (Pagemap.PM_PFRAME_MASK | PRESENT_OR_SWAPPED);
                while (cursor < oldCount && oldPages[cursor] < a) {
                    cursor++;
                }
                boolean wasPresent = cursor < oldCount && oldPages[cursor] == a;
                boolean dirty = (e & Pagemap.PM_SOFT_DIRTY) != 0;
                boolean zapped = wasPresent && (!present || oldFrames[cursor] != frame);
                if (written != null && (dirty || zapped)) {
                    written.add(a, a + pageSize);
                }
                if (present) {
                    if (count == pages.length) {
                        pages = Arrays.copyOf(pages, count * 2);
                        frames = Arrays.copyOf(frames, count * 2);
                    }
                    pages[count] = a;
                    frames[count] = frame;
                    count++;
                }
            }
        }
        presentPages = pages;
        presentFrames = frames;
        presentCount = count;
    }

    @Override
    protected void doStop() {
        presentPages = new long[0];
        presentFrames = new long[0];
        presentCount = 0;
    }
}
