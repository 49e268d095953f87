package dev.pagehop.track;

import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.UffdMsg;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * uffd-wp in sync mode, for comparison with the async tracker: every first write after arming
 * stops the writing thread and sends a WP fault message; a monitor thread records the page and
 * unprotects it (UFFDIO_WRITEPROTECT mode 0, which wakes the writer). A collect takes the
 * recorded pages and write-protects them again before returning, under the same lock the monitor
 * records under, so a page is either in this collect (and its later writes trap again) or in the
 * next.
 *
 * <p>WP_UNPOPULATED puts markers on unpopulated pages so their first write traps too. An anon
 * zap (MADV_DONTNEED) drops markers and contents without a fault: EVENT_REMOVE reports it, the
 * range is reported written (now zero) and re-armed at the next collect.
 *
 * <p>Trap time is measured on the monitor: from reading the message to the unprotect returning
 * (it excludes the time the message waited in the queue).
 */
public final class UffdWpSyncTracker extends UffdTracker {
    public static final String NAME = "uffd-wp-sync";

    private static final Logger LOG = LoggerFactory.getLogger(UffdWpSyncTracker.class);
    /**
     * How long the monitor waits for a message before letting a collect in (and looking at its
     * stop flag): bounds how long a collect waits for the monitor, 5 ms.
     */
    private static final long MONITOR_POLL_MILLIS = 5;

    private final Object recordLock = new Object();
    /**
     * Held by the monitor from reading a message until it is handled, and by a collect: a
     * process released by reading its event (munmap, mremap, madvise) could otherwise call
     * collect() before the monitor recorded the event. Fair, so a collect gets in right after
     * the current poll.
     */
    private final ReentrantLock monitorLock = new ReentrantLock(true);
    private long[] recorded = new long[1024];
    private int recordedCount;
    private RangeList zapped = new RangeList();
    /**
     * Registration changes reported by events since the last collect, in order: {+1|-1, start,
     * end}. Order matters: a range moved in and then unmapped in the same round is not registered.
     */
    private List<long[]> registrationEvents = new ArrayList<>();
    private volatile boolean running;
    private Thread monitor;
    private volatile Throwable monitorFailure;

    public UffdWpSyncTracker(MemoryManager mm, TrackerOptions options) {
        super(mm, options);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    protected long requiredFeatures() {
        return Uffd.FEATURE_WP_UNPOPULATED | Uffd.FEATURE_EVENT_REMOVE | Uffd.FEATURE_EVENT_UNMAP
                | Uffd.FEATURE_EVENT_REMAP;
    }

    @Override
    protected void afterArmed() {
        running = true;
        monitor = Thread.ofPlatform().daemon().name("uffd-wp-sync-monitor").start(this::monitorLoop);
    }

    private void monitorLoop() {
        try {
            while (running) {
                monitorLock.lockInterruptibly();
                try {
                    UffdMsg msg = uffd.poll(MONITOR_POLL_MILLIS);
                    if (msg != null) {
                        handle(msg);
                    }
                } finally {
                    monitorLock.unlock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            if (running) {
                monitorFailure = e;
                LOG.error("{} tracker: monitor failed; collect() will report it", NAME, e);
            }
        }
    }

    private void handle(UffdMsg msg) {
        switch (msg.event()) {
            case Uffd.EVENT_PAGEFAULT -> {
                long t0 = System.nanoTime();
                long page = msg.address() & -pageSize;
                synchronized (recordLock) {
                    record(page);
                    try {
                        writeprotect(page, pageSize, 0);
                    } catch (ErrnoException e) {
                        // The VMA went away or changed under the fault; just let the writer retry.
                        uffd.wake(page, pageSize);
                    }
                }
                meter.trap(System.nanoTime() - t0);
            }
            case Uffd.EVENT_REMOVE -> {
                synchronized (recordLock) {
                    zapped.add(msg.start(), msg.end());
                }
            }
            case Uffd.EVENT_UNMAP -> {
                // Forget the registration: a mapping placed here before the next collect is a
                // new, unregistered VMA and must be adopted, not trusted.
                synchronized (recordLock) {
                    registrationEvents.add(new long[] {-1, msg.start(), msg.end()});
                }
            }
            case Uffd.EVENT_REMAP -> {
                // The registration and its armed bits moved with the VMA; the contents are new at
                // the destination, so report it written (and re-arm it) at the next collect.
                synchronized (recordLock) {
                    registrationEvents.add(new long[] {-1, msg.from(), msg.from() + msg.len()});
                    registrationEvents.add(new long[] {+1, msg.to(), msg.to() + msg.len()});
                    zapped.add(msg.to(), msg.to() + msg.len());
                }
            }
            default -> LOG.debug("{} tracker: ignoring uffd event 0x{}", NAME, Integer.toHexString(msg.event()));
        }
    }

    private void record(long page) {
        if (recordedCount == recorded.length) {
            recorded = Arrays.copyOf(recorded, recorded.length * 2);
        }
        recorded[recordedCount++] = page;
    }

    @Override
    protected void doCollect(List<PageRange> layout, List<PageRange> previousLayout, RangeList written,
            RangeList remapped) {
        Throwable failure = monitorFailure;
        if (failure != null) {
            throw new IllegalStateException(NAME + " tracker: the fault monitor died, written pages may be missing", failure);
        }
        monitorLock.lock();
        try {
            drainMessages();
            takeRecorded(layout, written);
        } finally {
            monitorLock.unlock();
        }
        adoptNewRanges(layout, previousLayout, written, remapped);
    }

    /** Handles every message already queued (events whose process is waiting, faults). */
    private void drainMessages() {
        try {
            for (UffdMsg msg = uffd.poll(0); msg != null; msg = uffd.poll(0)) {
                handle(msg);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(NAME + " tracker: interrupted while draining fault messages", e);
        }
    }

    private void takeRecorded(List<PageRange> layout, RangeList written) {
        synchronized (recordLock) {
            long[] pages = Arrays.copyOf(recorded, recordedCount);
            recordedCount = 0;
            Arrays.sort(pages);
            RangeList taken = new RangeList();
            for (long p : pages) {
                taken.add(p, p + pageSize);
            }
            taken.addAll(zapped.toList());
            zapped = new RangeList();
            for (long[] ev : registrationEvents) {
                List<PageRange> range = List.of(new PageRange(ev[1], ev[2]));
                if (ev[0] < 0) {
                    registered = RangeList.subtract(registered, range);
                } else {
                    RangeList reg = new RangeList();
                    reg.addAll(registered);
                    reg.addAll(range);
                    registered = reg.toList();
                }
            }
            registrationEvents = new ArrayList<>();
            List<PageRange> rearm = RangeList.intersect(taken.toList(), RangeList.intersect(registered, layout));
            for (PageRange r : rearm) {
                rearm(r);
            }
            written.addAll(RangeList.intersect(taken.toList(), layout));
        }
    }

    /**
     * Re-protects a range the last collect reported. UFFDIO_WRITEPROTECT stops at the first VMA
     * that is not registered (one mapped into a hole since), leaving the VMAs after it as they
     * were; so on ENOENT each current VMA piece of the range is re-protected on its own, and only
     * pieces that are really gone are skipped (the layout diff reports those).
     */
    private void rearm(PageRange r) {
        try {
            writeprotect(r.start(), r.lengthBytes(), Uffd.WRITEPROTECT_MODE_WP);
            return;
        } catch (ErrnoException e) {
            LOG.debug("{} tracker: re-arm of [0x{}, 0x{}) failed whole ({}); re-arming VMA by VMA", NAME,
                    Long.toHexString(r.start()), Long.toHexString(r.end()), e.getMessage());
        }
        for (dev.pagehop.mm.VmaInfo v : mm.vmas()) {
            long s = Math.max(r.start(), v.start());
            long e = Math.min(r.end(), v.end());
            if (s >= e) {
                continue;
            }
            try {
                writeprotect(s, e - s, Uffd.WRITEPROTECT_MODE_WP);
            } catch (ErrnoException gone) {
                LOG.debug("{} tracker: re-arm of [0x{}, 0x{}) skipped: {}", NAME, Long.toHexString(s),
                        Long.toHexString(e), gone.getMessage());
            }
        }
    }

    /**
     * Reads every queued message under the monitor's lock, so the monitor thread cannot read an
     * event between this drain and the caller's retry and leave it half-applied. Called from the
     * monitor itself (the lock is reentrant) and from collect().
     */
    @Override
    protected void drainPendingEvents() {
        monitorLock.lock();
        try {
            drainMessages();
        } finally {
            monitorLock.unlock();
        }
    }

    @Override
    protected void doStop() {
        running = false;
        super.doStop();
        Thread m = monitor;
        if (m != null) {
            m.interrupt();
            try {
                m.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
