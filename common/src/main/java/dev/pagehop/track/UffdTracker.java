package dev.pagehop.track;

import dev.pagehop.mm.Errno;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.uffd.PageRegion;
import dev.pagehop.uffd.PmScanArg;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.Userfaultfd;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What both uffd-wp trackers share: one userfaultfd, WP registration of every VMA (and of VMAs
 * that appear later), arming with UFFDIO_WRITEPROTECT (markers on unpopulated pages thanks to
 * WP_UNPOPULATED), and chunked PAGEMAP_SCAN walks.
 *
 * <p>A VMA that appears after start ("adopted") is registered and armed at the next collect, and
 * all of it is reported written, populated or not: the tracker never armed it, so it cannot say
 * which of its pages changed since a consumer last read them. A consumer may well have read the
 * range in between, since it reads its own layout at its own moments (a migration captures one
 * after start and after every collect): mapped after the tracker's look, read by the consumer,
 * then zapped or replaced before the next collect, an unpopulated page there is zero now but
 * not in the consumer's copy. A range that was
 * mapped at the previous collect and is now held by a VMA this uffd never registered was unmapped
 * and mapped again in between; it is reported unmapped (old contents gone) and its pages written.
 */
abstract class UffdTracker extends LifecycleTracker {
    private static final Logger LOG = LoggerFactory.getLogger(UffdTracker.class);

    protected Userfaultfd uffd;
    /** Ranges this uffd registered that are still mapped, as far as the last collect knew. */
    protected List<PageRange> registered = List.of();
    private PageRegion[] vec;

    UffdTracker(MemoryManager mm, TrackerOptions options) {
        super(mm, options);
    }

    /** Features to ask UFFDIO_API for; each must come back as supported. */
    protected abstract long requiredFeatures();

    /** Called once the uffd is armed over the whole address space. */
    protected void afterArmed() {
    }

    @Override
    protected final void doStart() {
        vec = new PageRegion[options.scanChunkRegions()];
        uffd = mm.userfaultfd(Uffd.USER_MODE_ONLY);
        long want = requiredFeatures();
        long supported = uffd.api(want);
        if ((supported & want) != want) {
            throw new IllegalStateException(String.format(
                    "%s tracker: the kernel lacks userfaultfd features 0x%x (asked 0x%x, supported 0x%x)",
                    name(), want & ~supported, want, supported));
        }
        RangeList armed = new RangeList();
        for (VmaInfo vma : mm.vmas()) {
            if (arm(vma.start(), vma.end())) {
                armed.add(vma.start(), vma.end());
            }
        }
        registered = armed.toList();
        afterArmed();
    }

    /**
     * UFFDIO_REGISTER(WP) + UFFDIO_WRITEPROTECT(WP) over [start, end). False when the range
     * cannot be tracked: no VMA any more (unmapped concurrently) or a VMA that can never be
     * written (!VM_MAYWRITE, EPERM), which needs no tracking.
     */
    protected final boolean arm(long start, long end) {
        try {
            uffd.register(start, end - start, Uffd.REGISTER_MODE_WP);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.EPERM) {
                LOG.debug("{} tracker: [0x{}, 0x{}) can never be written, not tracked", name(),
                        Long.toHexString(start), Long.toHexString(end));
                return false;
            }
            if (e.errno() == Errno.EINVAL) {
                return false;
            }
            throw new IllegalStateException(String.format("%s tracker: cannot register [0x%x, 0x%x) for write-protect: %s",
                    name(), start, end, e.getMessage()), e);
        }
        long tablesBefore = mm.pageTablesPopulated();
        try {
            writeprotect(start, end - start, Uffd.WRITEPROTECT_MODE_WP);
            // Markers on unpopulated pages need PTE tables (§B.8). Faults of other threads in the
            // same instant count too: a small overcount, never an undercount.
            meter.pageTablesPopulated(mm.pageTablesPopulated() - tablesBefore);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.EINVAL) {
                return false;
            }
            throw new IllegalStateException(String.format("%s tracker: cannot write-protect [0x%x, 0x%x): %s",
                    name(), start, end, e.getMessage()), e);
        }
        return true;
    }

    /**
     * Most retries of one UFFDIO_WRITEPROTECT that keeps finding new events pending: each retry
     * first reads every event queued, so only a process producing events faster than the tracker
     * reads them can exhaust this; the error then names the range and the count.
     */
    static final int MAX_EAGAIN_RETRIES = 10_000;

    /**
     * UFFDIO_WRITEPROTECT that reads pending non-cooperative events first when the kernel says
     * so. With event features on, the ioctl fails EAGAIN while an event (unmap, remap, remove)
     * is queued and unread (mmap_changing), because the range it names may be changing under
     * it; the monitor must read and apply the events, then retry. A tracker that gave up would
     * leave a page unprotected, and its next writes untracked.
     */
    protected final void writeprotect(long start, long len, int mode) {
        for (int attempt = 0; ; attempt++) {
            try {
                uffd.writeprotect(start, len, mode);
                return;
            } catch (ErrnoException e) {
                if (e.errno() != Errno.EAGAIN) {
                    throw e;
                }
                if (attempt == MAX_EAGAIN_RETRIES) {
                    throw new IllegalStateException(String.format("%s tracker: UFFDIO_WRITEPROTECT of [0x%x, 0x%x) "
                            + "mode %d still finds unread events after reading them %d times: %s", name(), start,
                            start + len, mode, attempt, e.getMessage()), e);
                }
                drainPendingEvents();
            }
        }
    }

    /**
     * Reads and applies every message queued on the uffd (a tracker with event features must;
     * the default, for trackers without events, has nothing to read).
     */
    protected void drainPendingEvents() {
    }

    /**
     * Registers and arms every mapped range not yet registered, reports its contents as written,
     * and returns the new registered set. Run after the mechanism's own collect.
     */
    protected final void adoptNewRanges(List<PageRange> layout, List<PageRange> previousLayout,
            RangeList written, RangeList remapped) {
        List<PageRange> stillRegistered = RangeList.intersect(registered, layout);
        List<PageRange> fresh = RangeList.subtract(layout, stillRegistered);
        RangeList nowRegistered = new RangeList();
        nowRegistered.addAll(stillRegistered);
        if (!fresh.isEmpty()) {
            for (VmaInfo vma : mm.vmas()) {
                for (PageRange part : RangeList.intersect(List.of(new PageRange(vma.start(), vma.end())), fresh)) {
                    if (!arm(part.start(), part.end())) {
                        continue;
                    }
                    nowRegistered.add(part.start(), part.end());
                    remapped.addAll(RangeList.intersect(List.of(part), previousLayout));
                    // Not just its populated pages: an anonymous page zapped (or a slot replaced
                    // by an unpopulated one) after a consumer read the range reads as zero now,
                    // and shared file pages may hold data written through another mapping.
                    written.add(part.start(), part.end());
                }
            }
        }
        registered = nowRegistered.toList();
    }

    /**
     * PAGEMAP_SCAN over [start, end) in chunks of {@code vec.length} regions, restarting at
     * walk_end while a call fills the whole vec. Returns the number of pages reported.
     */
    protected final long scan(long start, long end, long flags, long mask, long anyof, long inverted,
            long returnMask, RangeList out) {
        long pages = 0;
        long pos = start;
        while (pos < end) {
            PmScanArg arg = new PmScanArg(pos, end).flags(flags).masks(mask, anyof, inverted, returnMask);
            arg.vec = vec;
            arg.vecLen = vec.length;
            long tablesBefore = mm.pageTablesPopulated();
            int n = mm.pagemapScan(arg);
            if ((flags & Uffd.PM_SCAN_WP_MATCHING) != 0) {
                meter.pageTablesPopulated(mm.pageTablesPopulated() - tablesBefore);
            }
            for (int i = 0; i < n; i++) {
                PageRegion r = vec[i];
                out.add(r.start(), r.end());
                pages += (r.end() - r.start()) / pageSize;
                vec[i] = null;
            }
            if (n < vec.length || arg.walkEnd <= pos || arg.walkEnd >= end) {
                break;
            }
            pos = arg.walkEnd;
        }
        return pages;
    }

    @Override
    protected void doStop() {
        if (uffd != null) {
            // Closing resets every uffd-wp bit and marker and wakes any blocked writer (§B.2).
            uffd.close();
        }
    }
}
