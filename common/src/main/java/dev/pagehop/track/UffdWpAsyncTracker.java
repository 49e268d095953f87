package dev.pagehop.track;

import dev.pagehop.mm.Errno;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.FaultCounters;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.uffd.Uffd;
import java.util.ArrayList;
import java.util.List;

/**
 * The default tracker, as CRIU pre-dump does it on arm64 (pagemap.rst): a userfaultfd with
 * WP_ASYNC|WP_UNPOPULATED, WP registration over every VMA, UFFDIO_WRITEPROTECT to arm; a write
 * then clears the page's uffd-wp bit in the kernel without any message. Each collect is
 * PAGEMAP_SCAN(category_mask = return_mask = WRITTEN, flags = WP_MATCHING | CHECK_WPASYNC): the
 * kernel reports every written page and re-arms it in the same page-table lock hold, so a store
 * racing with the collect lands in this collect or the next.
 *
 * <p>Zapped pages (MADV_DONTNEED) lose their uffd-wp bit and read WRITTEN (§B.4), so they are
 * reported and the migration sends zeros. CHECK_WPASYNC turns a VMA this uffd does not cover
 * into EPERM instead of a silent skip; because EPERM is not atomic (VMAs walked before it were
 * already consumed, §B.6.4) the collect scans VMA by VMA and, on EPERM, reports that whole range
 * written and unmapped-then-mapped, and adopts the VMA.
 *
 * <p>Traps: async write faults resolve in the kernel, invisible to user space except through the
 * address space's fault counters (wpAsyncFaults / wpAsyncNanos, like minflt in /proc/PID/stat),
 * which the cost reports relative to start.
 */
public final class UffdWpAsyncTracker extends UffdTracker {
    public static final String NAME = "uffd-wp-async";

    private static final long GET_AND_REARM = Uffd.PM_SCAN_WP_MATCHING | Uffd.PM_SCAN_CHECK_WPASYNC;

    public UffdWpAsyncTracker(MemoryManager mm, TrackerOptions options) {
        super(mm, options);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    protected long requiredFeatures() {
        return Uffd.FEATURE_WP_ASYNC | Uffd.FEATURE_WP_UNPOPULATED;
    }

    @Override
    protected void afterArmed() {
        FaultCounters base = mm.faultCounters();
        meter.kernelTraps(() -> {
            FaultCounters now = mm.faultCounters();
            return new long[] {now.wpAsyncFaults() - base.wpAsyncFaults(), now.wpAsyncNanos() - base.wpAsyncNanos()};
        });
    }

    @Override
    protected void doCollect(List<PageRange> layout, List<PageRange> previousLayout, RangeList written,
            RangeList remapped) {
        List<PageRange> armed = RangeList.intersect(registered, layout);
        RangeList replaced = new RangeList();
        for (PageRange vmaPart : perVma(armed)) {
            try {
                scan(vmaPart.start(), vmaPart.end(), GET_AND_REARM,
                        Uffd.PAGE_IS_WRITTEN, 0, 0, Uffd.PAGE_IS_WRITTEN, written);
            } catch (ErrnoException e) {
                if (e.errno() != Errno.EPERM) {
                    throw new IllegalStateException(String.format("%s tracker: PAGEMAP_SCAN of [0x%x, 0x%x) failed: %s",
                            name(), vmaPart.start(), vmaPart.end(), e.getMessage()), e);
                }
                // The range now holds a VMA this uffd never registered: it was unmapped and
                // mapped again since the last collect, and part of it may have been consumed.
                written.add(vmaPart.start(), vmaPart.end());
                replaced.add(vmaPart.start(), vmaPart.end());
            }
        }
        if (!replaced.isEmpty()) {
            registered = RangeList.subtract(registered, replaced.toList());
        }
        adoptNewRanges(layout, previousLayout, written, remapped);
    }

    /** The armed ranges split at VMA boundaries, so an EPERM names one VMA. */
    private List<PageRange> perVma(List<PageRange> armed) {
        List<PageRange> out = new ArrayList<>();
        mm.vmas().forEach(v -> out.addAll(RangeList.intersect(List.of(new PageRange(v.start(), v.end())), armed)));
        return out;
    }
}
