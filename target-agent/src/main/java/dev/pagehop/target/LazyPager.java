package dev.pagehop.target;

import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.Errno;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.track.PageRange;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.UffdMsg;
import dev.pagehop.uffd.Userfaultfd;
import dev.pagehop.xfer.PageRangeSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target's post-copy engine, after CRIU's lazy-pages daemon and QEMU's postcopy-ram: every
 * VMA of the restored process is registered with userfaultfd MISSING; a fault on a page the source
 * still holds is requested on the urgent path and installed with UFFDIO_COPY (which wakes the
 * faulting thread), while a background pull brings in everything else. A page is requested once
 * while in flight, however many threads fault on it.
 *
 * <p>The background pull restarts just after the most recent fault with a small chunk and grows
 * it while no fault comes (64 KiB, +64 KiB per chunk, up to 4 MiB: CRIU's update_xfer_len), so
 * pages near the working set arrive first and big chunks go out only while nobody waits.
 *
 * <p>Pages the target knows (received in pre-copy rounds, or zero) are never fetched: present
 * pages do not fault, and a fault on a page outside the missing set (a zero page, or one the
 * process zapped since) is answered with UFFDIO_ZEROPAGE. EVENT_REMOVE and EVENT_UNMAP drop
 * pages from the missing set (the process threw their contents away); EVENT_REMAP moves them,
 * remembering where they live on the source.
 *
 * <p>A failed request never zero-fills: on {@link PageLink.Failure#UNREACHABLE} the pager goes
 * PAUSED, faulting threads stay asleep, and reconnect attempts run with exponential backoff (or
 * {@link #reconnect} is called); pages already installed are never asked for again. On
 * {@link PageLink.Failure#SOURCE_LOST} the pager goes CANNOT_COMPLETE and the threads stay asleep:
 * the process is frozen for good, as it must be without its memory.
 */
final class LazyPager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LazyPager.class);
    static final long MIN_CHUNK = 64 * 1024;
    static final long MAX_CHUNK = 4 * 1024 * 1024;
    private static final long BACKOFF_MIN_MS = 10;
    private static final long BACKOFF_MAX_MS = 2_000;

    private final String id;
    private final MemoryManager mm;
    private final long pageSize;
    private final LongSupplier nanoTime;
    private final Supplier<PageLink> connector;
    private final ScheduledExecutorService scheduler;
    private final Userfaultfd uffd;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    // guarded by lock
    private final PageRangeSet missing;
    private final PageRangeSet inFlight;
    /** Pages someone is blocked on: page → the faults (thread, time read) waiting for it. */
    private final Map<Long, List<long[]>> waiting = new HashMap<>();
    /** Urgent requests in flight: page → time sent (for the round-trip histogram). */
    private final Map<Long, Long> demandSent = new HashMap<>();
    /** Ranges moved by mremap: target start → {end, source address of start}. */
    private final TreeMap<Long, long[]> moved = new TreeMap<>();
    private final Histogram latency = new Histogram(3_600_000_000_000L, 3);
    private final Map<Long, Long> blockedByThread = new HashMap<>();
    private PostcopyState state = PostcopyState.RUNNING;
    private PageLink link;
    private long generation;
    /** The background request the pull loop waits on; cancelled when the link is replaced under it. */
    private CompletableFuture<byte[]> pullInFlight;
    private long cursor;
    private long chunkBytes = MIN_CHUNK;
    private long faults;
    private long faultsOnInFlight;
    private long blockedTotal;
    private long pagesOnDemand;
    private long pagesBackground;
    private long pagesZeroMapped;
    private long pagesDropped;
    private long bytesReceived;
    private long pauses;
    private long reconnects;
    private long backoffMs = BACKOFF_MIN_MS;
    private String failure = "";
    private final long startNs;
    private long endNs;
    private final long initialMissing;

    private final long sourceLostAfterMs;
    private final java.util.concurrent.ExecutorService installer = java.util.concurrent.Executors
            .newSingleThreadExecutor(r -> Thread.ofPlatform().name("lazy-pager-install").daemon().unstarted(r));
    private final Thread faultThread;
    private final Thread pullThread;

    /**
     * Registers every VMA of {@code mm} with MISSING and starts the pager. {@code missing} are the
     * pages the source still holds; call before the process resumes.
     */
    LazyPager(String id, MemoryManager mm, PageRangeSet missing, PageLink link, Supplier<PageLink> connector,
            ScheduledExecutorService scheduler, LongSupplier nanoTime) {
        this(id, mm, missing, link, connector, scheduler, nanoTime, 0);
    }

    /**
     * @param sourceLostAfterMs how long PAUSED may last before the source counts as gone for good
     *                          (CANNOT_COMPLETE, the process stays frozen); 0 waits forever, as QEMU's
     *                          postcopy-paused does
     */
    LazyPager(String id, MemoryManager mm, PageRangeSet missing, PageLink link, Supplier<PageLink> connector,
            ScheduledExecutorService scheduler, LongSupplier nanoTime, long sourceLostAfterMs) {
        this.sourceLostAfterMs = sourceLostAfterMs;
        this.id = id;
        this.mm = mm;
        this.pageSize = mm.pageSize();
        this.missing = missing.copy();
        this.inFlight = new PageRangeSet(pageSize);
        this.link = link;
        this.connector = connector;
        this.scheduler = scheduler;
        this.nanoTime = nanoTime;
        this.initialMissing = missing.pageCount();
        this.uffd = mm.userfaultfd(Uffd.CLOEXEC);
        uffd.api(Uffd.FEATURE_THREAD_ID | Uffd.FEATURE_EVENT_REMOVE | Uffd.FEATURE_EVENT_UNMAP
                | Uffd.FEATURE_EVENT_REMAP | Uffd.FEATURE_MISSING_SHMEM);
        for (VmaInfo v : mm.vmas()) {
            uffd.register(v.start(), v.end() - v.start(), Uffd.REGISTER_MODE_MISSING);
        }
        List<PageRange> ranges = this.missing.toList();
        this.cursor = ranges.isEmpty() ? 0 : ranges.get(0).start();
        this.startNs = nanoTime.getAsLong();
        LOG.info("migration {}: post-copy starts with {} pages missing in {} ranges", id, initialMissing, ranges.size());
        faultThread = Thread.ofPlatform().name("lazy-pager-faults-" + id).daemon().unstarted(this::faultLoop);
        pullThread = Thread.ofPlatform().name("lazy-pager-pull-" + id).daemon().unstarted(this::pullLoop);
        if (this.missing.isEmpty()) {
            complete();
        }
        faultThread.start();
        pullThread.start();
    }

    PostcopyState state() {
        lock.lock();
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    String failure() {
        lock.lock();
        try {
            return failure;
        } finally {
            lock.unlock();
        }
    }

    /** Blocks until the pager reaches {@code wanted} or a terminal state; returns the state. */
    PostcopyState await(PostcopyState wanted, long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        lock.lock();
        try {
            while (state != wanted && !state.terminal()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                changed.awaitNanos(left);
            }
            return state;
        } finally {
            lock.unlock();
        }
    }

    /** Blocks until {@code n} faults have been read (the threads are parked in their userfaults). */
    void awaitFaults(long n, long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        lock.lock();
        try {
            while (faults + faultsOnInFlight < n) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("migration " + id + ": " + (faults + faultsOnInFlight)
                            + " faults read, waited for " + n);
                }
                changed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    PostcopyStats stats() {
        lock.lock();
        try {
            long end = endNs != 0 ? endNs : nanoTime.getAsLong();
            return new PostcopyStats(faults, faultsOnInFlight, latency.getValueAtPercentile(50),
                    latency.getValueAtPercentile(99), latency.getMaxValue(), blockedTotal, Map.copyOf(blockedByThread),
                    pagesOnDemand, pagesBackground, pagesZeroMapped, pagesDropped, bytesReceived, end - startNs,
                    missing.pageCount(), pauses, reconnects);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Resumes after a lost connection with {@code next}: the pages threads are blocked on are
     * asked for again (nothing installed is); the background pull continues where it stopped.
     */
    void reconnect(PageLink next) {
        lock.lock();
        try {
            if (state != PostcopyState.PAUSED) {
                throw new IllegalStateException("migration " + id + ": reconnect in post-copy state " + state
                        + "; only a PAUSED migration reconnects");
            }
            link = next;
            generation++;
            reconnects++;
            // A link replaced while still taken for alive (the source reopened its stream after a
            // silent cut) may never answer the request the pull loop waits on: release it.
            if (pullInFlight != null) {
                pullInFlight.cancel(false);
            }
            backoffMs = BACKOFF_MIN_MS;
            state(PostcopyState.RUNNING, "reconnected");
            // Background requests of the lost link are forgotten (the pull takes them again);
            // the blocked threads' pages go out again at once.
            inFlight.clear();
            demandSent.clear();
            for (long page : new ArrayList<>(waiting.keySet())) {
                if (missing.contains(page)) {
                    sendDemand(page);
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * A new link from the source (it reopened its stream). A link still taken for alive is
     * dropped first, as if it had failed: its open requests are asked again on the new one.
     */
    void replaceLink(PageLink next) {
        lock.lock();
        try {
            if (state.terminal()) {
                return;
            }
            if (state == PostcopyState.RUNNING) {
                pauses++;
                failure = "the source replaced the page stream";
                state(PostcopyState.PAUSED, failure);
            }
            reconnect(next);
        } finally {
            lock.unlock();
        }
    }

    // --- faults ---------------------------------------------------------------------------------

    private void faultLoop() {
        while (true) {
            UffdMsg m;
            try {
                m = uffd.read();
            } catch (InterruptedException e) {
                return;
            } catch (ErrnoException e) {
                // EBADF: closed.
                return;
            }
            if (m == null) {
                return;
            }
            lock.lock();
            try {
                retryZero();
                switch (m.event()) {
                    case Uffd.EVENT_PAGEFAULT -> fault(m);
                    case Uffd.EVENT_REMOVE, Uffd.EVENT_UNMAP -> drop(m.start(), m.end());
                    case Uffd.EVENT_REMAP -> remap(m.from(), m.to(), m.len());
                    default -> LOG.warn("migration {}: unexpected userfaultfd event 0x{}", id, Integer.toHexString(m.event()));
                }
                retryZero();
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private void fault(UffdMsg m) {
        long page = m.address() & -pageSize;
        long now = nanoTime.getAsLong();
        if (!missing.contains(page)) {
            // Known to the target: a zero page (or zapped since the switchover), or installed
            // between the fault and this read (the copy woke the thread already).
            pagesZeroMapped += zeroOrWake(page);
            faults++;
            return;
        }
        waiting.computeIfAbsent(page, p -> new ArrayList<>()).add(new long[] {m.ptid(), now});
        cursor = page + pageSize;
        chunkBytes = MIN_CHUNK;
        if (inFlight.contains(page) || demandSent.containsKey(page)) {
            faultsOnInFlight++;
            return;
        }
        faults++;
        if (state == PostcopyState.RUNNING) {
            sendDemand(page);
        }
    }

    private void sendDemand(long page) {
        demandSent.put(page, nanoTime.getAsLong());
        long gen = generation;
        PageLink l = link;
        CompletableFuture<byte[]> f;
        try {
            f = l.demand(sourceAddress(page), 1);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        // Never installed on the fault-reading thread: a copy can wait (EAGAIN) for an event
        // only that thread reads.
        f.whenCompleteAsync((data, err) -> {
            if (err != null) {
                linkFailed(gen, err);
            } else {
                installed(page, data, true);
            }
        }, installer);
    }

    /** Zero pages whose UFFDIO_ZEROPAGE met an unread non-cooperative event (EAGAIN). */
    private final java.util.ArrayDeque<Long> zeroLater = new java.util.ArrayDeque<>();

    private void retryZero() {
        for (int n = zeroLater.size(); n > 0; n--) {
            long page = zeroLater.poll();
            pagesZeroMapped += zeroOrWake(page);
        }
    }

    private long zeroOrWake(long page) {
        try {
            uffd.zeropage(page, pageSize, 0);
            return 1;
        } catch (ErrnoException e) {
            if (e.errno() == Errno.EEXIST) {
                uffd.wake(page, pageSize);
                return 0;
            }
            if (e.errno() == Errno.ENOENT) {
                // The mapping went away: the fault resolves with SIGSEGV once woken.
                uffd.wake(page, pageSize);
                return 0;
            }
            if (e.errno() == Errno.EAGAIN) {
                // The event is queued behind this fault: this thread reads it next, then retries.
                zeroLater.add(page);
                return 0;
            }
            throw e;
        }
    }

    private void drop(long start, long end) {
        PageRangeSet gone = missing.intersect(List.of(new PageRange(start, end)));
        pagesDropped += gone.pageCount();
        missing.remove(start, end);
        for (long page : new ArrayList<>(waiting.keySet())) {
            if (page >= start && page < end) {
                waiting.remove(page);
            }
        }
        forgetMoved(start, end);
        checkComplete();
    }

    private void remap(long from, long to, long len) {
        PageRangeSet moving = missing.intersect(List.of(new PageRange(from, from + len)));
        if (moving.isEmpty()) {
            forgetMoved(to, to + len);
            return;
        }
        long srcOfFrom = sourceAddress(from);
        missing.remove(from, from + len);
        for (PageRange r : moving.toList()) {
            missing.add(r.start() - from + to, r.end() - from + to);
        }
        forgetMoved(from, from + len);
        forgetMoved(to, to + len);
        // Contiguous on the source unless an earlier mremap already split it; split ranges are
        // recorded page by page (rare: a second mremap of a half-fetched range).
        boolean contiguous = true;
        for (long a = from; a < from + len; a += pageSize) {
            if (sourceAddress(a) != srcOfFrom + (a - from)) {
                contiguous = false;
                break;
            }
        }
        if (contiguous) {
            moved.put(to, new long[] {to + len, srcOfFrom});
        } else {
            for (long a = from; a < from + len; a += pageSize) {
                moved.put(a - from + to, new long[] {a - from + to + pageSize, sourceAddress(a)});
            }
        }
        LOG.info("migration {}: mremap moved {} missing pages from 0x{} to 0x{}", id, moving.pageCount(),
                Long.toHexString(from), Long.toHexString(to));
    }

    private void forgetMoved(long start, long end) {
        for (var e : new ArrayList<>(moved.subMap(start, end).entrySet())) {
            moved.remove(e.getKey());
        }
        var below = moved.lowerEntry(start);
        if (below != null && below.getValue()[0] > start) {
            long[] v = below.getValue();
            moved.put(below.getKey(), new long[] {start, v[1]});
            if (v[0] > end) {
                moved.put(end, new long[] {v[0], v[1] + (end - below.getKey())});
            }
        }
    }

    /** Where the page now at {@code address} lives in the source's frozen image. */
    private long sourceAddress(long address) {
        var e = moved.floorEntry(address);
        if (e != null && address < e.getValue()[0]) {
            return e.getValue()[1] + (address - e.getKey());
        }
        return address;
    }

    // --- background pull --------------------------------------------------------------------

    private void pullLoop() {
        while (true) {
            long start;
            int pages;
            CompletableFuture<byte[]> f;
            long gen;
            lock.lock();
            try {
                while (state == PostcopyState.PAUSED || (state == PostcopyState.RUNNING && nextPull() == null)) {
                    changed.await();
                }
                if (state.terminal()) {
                    return;
                }
                PageRange r = nextPull();
                start = r.start();
                pages = Math.toIntExact((r.end() - r.start()) / pageSize);
                inFlight.add(r.start(), r.end());
                cursor = r.end();
                // A fault meanwhile sets it back to MIN_CHUNK (see fault()).
                chunkBytes = Math.min(MAX_CHUNK, chunkBytes + MIN_CHUNK);
                gen = generation;
                PageLink l = link;
                try {
                    f = l.pull(sourceAddress(start), pages);
                } catch (RuntimeException e) {
                    f = CompletableFuture.failedFuture(e);
                }
                pullInFlight = f;
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            try {
                byte[] data = f.join();
                installed(start, data, false);
            } catch (java.util.concurrent.CompletionException e) {
                linkFailed(gen, e.getCause() != null ? e.getCause() : e);
            } catch (java.util.concurrent.CancellationException e) {
                linkFailed(gen, e);
            }
        }
    }

    /**
     * The next background run: missing pages from the cursor on (wrapping around), skipping
     * pages in flight, at most one chunk and contiguous on the source.
     */
    private PageRange nextPull() {
        if (missing.isEmpty()) {
            return null;
        }
        PageRange r = firstNotInFlight(cursor, Long.MAX_VALUE);
        if (r == null) {
            r = firstNotInFlight(0, cursor);
        }
        if (r == null) {
            return null;
        }
        long end = Math.min(r.end(), r.start() + Math.max(pageSize, chunkBytes));
        long src = sourceAddress(r.start());
        for (long a = r.start() + pageSize; a < end; a += pageSize) {
            if (sourceAddress(a) != src + (a - r.start())) {
                end = a;
                break;
            }
        }
        return new PageRange(r.start(), end);
    }

    private PageRange firstNotInFlight(long from, long to) {
        for (PageRange m : missing.slice(from, to)) {
            long a = m.start();
            while (a < m.end()) {
                if (inFlight.contains(a) || demandSent.containsKey(a)) {
                    a += pageSize;
                    continue;
                }
                long e = a + pageSize;
                while (e < m.end() && !inFlight.contains(e) && !demandSent.containsKey(e)) {
                    e += pageSize;
                }
                return new PageRange(a, e);
            }
        }
        return null;
    }

    // --- installing -----------------------------------------------------------------------------

    private void installed(long start, byte[] data, boolean urgent) {
        lock.lock();
        try {
            int pages = data.length / Math.toIntExact(pageSize);
            bytesReceived += data.length;
            long now = nanoTime.getAsLong();
            byte[] page = new byte[Math.toIntExact(pageSize)];
            for (int i = 0; i < pages; i++) {
                long addr = start + i * pageSize;
                inFlight.remove(addr, addr + pageSize);
                Long sent = urgent ? demandSent.remove(addr) : null;
                if (!missing.contains(addr)) {
                    // Installed already by the other path, or zapped/unmapped since it was asked for.
                    continue;
                }
                System.arraycopy(data, i * page.length, page, 0, page.length);
                copy(addr, page);
                missing.remove(addr, addr + pageSize);
                if (urgent) {
                    pagesOnDemand++;
                } else {
                    pagesBackground++;
                }
                if (sent != null) {
                    latency.recordValue(Math.max(0, now - sent));
                }
                List<long[]> w = waiting.remove(addr);
                if (w != null) {
                    for (long[] t : w) {
                        long blocked = Math.max(0, now - t[1]);
                        blockedTotal += blocked;
                        blockedByThread.merge(t[0], blocked, Long::sum);
                    }
                }
            }
            checkComplete();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void copy(long addr, byte[] page) {
        while (true) {
            try {
                uffd.copy(addr, page, 0);
                return;
            } catch (ErrnoException e) {
                if (e.errno() == Errno.EEXIST) {
                    uffd.wake(addr, pageSize);
                    return;
                }
                if (e.errno() == Errno.EAGAIN) {
                    // A non-cooperative event (remove, unmap, remap) waits for the fault loop,
                    // which needs the lock this thread holds: let it run, then look again.
                    lock.unlock();
                    try {
                        Thread.yield();
                    } finally {
                        lock.lock();
                    }
                    if (!missing.contains(addr)) {
                        return;
                    }
                    continue;
                }
                throw e;
            }
        }
    }

    private void checkComplete() {
        if (missing.isEmpty() && state == PostcopyState.RUNNING) {
            complete();
        }
    }

    private void complete() {
        state(PostcopyState.COMPLETED, "nothing missing");
        endNs = nanoTime.getAsLong();
        changed.signalAll();
        PageLink l = link;
        try {
            scheduler.execute(() -> {
                try {
                    l.release();
                } catch (RuntimeException e) {
                    LOG.warn("migration {}: post-copy complete, but telling the source to release failed: {}", id,
                            e.toString());
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.warn("migration {}: post-copy complete while the agent shuts down; the source is not told", id);
        }
    }

    // --- link failures ----------------------------------------------------------------------

    private void linkFailed(long gen, Throwable err) {
        lock.lock();
        try {
            if (gen != generation || state.terminal()) {
                return;
            }
            PageLink.Failure kind = err instanceof PageLink.LinkException le ? le.failure() : PageLink.Failure.UNREACHABLE;
            if (kind == PageLink.Failure.SOURCE_LOST) {
                failure = "the source lost its frozen image (" + err.getMessage() + "): " + missing.pageCount()
                        + " pages can never arrive; the process stays frozen";
                state(PostcopyState.CANNOT_COMPLETE, failure);
            } else if (state == PostcopyState.RUNNING) {
                pauses++;
                failure = "source unreachable (" + err.getMessage() + "), " + missing.pageCount() + " pages missing, "
                        + waiting.size() + " pages with blocked threads";
                state(PostcopyState.PAUSED, failure);
                scheduleReconnect();
                scheduleSourceLost();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void scheduleSourceLost() {
        if (sourceLostAfterMs <= 0) {
            return;
        }
        long pausedAt = pauses;
        try {
            scheduler.schedule(() -> {
                lock.lock();
                try {
                    if (state == PostcopyState.PAUSED && pauses == pausedAt) {
                        failure = "the source was unreachable for " + sourceLostAfterMs + " ms: " + missing.pageCount()
                                + " pages can never arrive; the process stays frozen";
                        state(PostcopyState.CANNOT_COMPLETE, failure);
                        changed.signalAll();
                    }
                } finally {
                    lock.unlock();
                }
            }, sourceLostAfterMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.warn("migration {}: no source-lost deadline, the agent shuts down", id);
        }
    }

    private void scheduleReconnect() {
        if (connector == null) {
            return;
        }
        long delay = backoffMs;
        backoffMs = Math.min(BACKOFF_MAX_MS, backoffMs * 2);
        try {
            scheduler.schedule(this::tryReconnect, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.warn("migration {}: no reconnect attempt, the agent shuts down", id);
        }
    }

    private void tryReconnect() {
        if (state() != PostcopyState.PAUSED) {
            return;
        }
        PageLink next;
        try {
            next = connector.get();
        } catch (PageLink.LinkException e) {
            if (e.failure() == PageLink.Failure.SOURCE_LOST) {
                linkFailedForGood(e);
                return;
            }
            next = null;
        } catch (RuntimeException e) {
            next = null;
        }
        lock.lock();
        try {
            if (state != PostcopyState.PAUSED) {
                return;
            }
            if (next == null) {
                scheduleReconnect();
                return;
            }
            LOG.info("migration {}: reconnected after {} attempts' backoff", id, reconnects + 1);
            reconnect(next);
        } finally {
            lock.unlock();
        }
    }

    private void linkFailedForGood(PageLink.LinkException e) {
        lock.lock();
        try {
            if (state == PostcopyState.PAUSED) {
                failure = "the source lost its frozen image (" + e.getMessage() + "): " + missing.pageCount()
                        + " pages can never arrive; the process stays frozen";
                state(PostcopyState.CANNOT_COMPLETE, failure);
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    private void state(PostcopyState next, String why) {
        state = state.checkTransition(next, id);
        LOG.info("migration {}: post-copy {} ({})", id, next, why);
        java.util.function.Consumer<PostcopyState> l = listener;
        if (l != null) {
            l.accept(next);
        }
    }

    private volatile java.util.function.Consumer<PostcopyState> listener;

    /**
     * Tells {@code l} every state change from now on, and the current state at once. Called
     * under the pager's lock: {@code l} must hand off, never block.
     */
    void onState(java.util.function.Consumer<PostcopyState> l) {
        lock.lock();
        try {
            listener = l;
            l.accept(state);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops the pager threads. After COMPLETED the userfaultfd is released (nothing can fault
     * any more); otherwise it stays open, because closing it would let blocked threads fault in
     * zero pages: once the process itself is gone, {@link #releaseAfterProcessGone} closes it.
     */
    @Override
    public void close() {
        faultThread.interrupt();
        pullThread.interrupt();
        installer.shutdownNow();
        if (state() == PostcopyState.COMPLETED) {
            uffd.close();
        }
    }

    /** Closes the userfaultfd whatever the state: only once no thread of the process can run. */
    void releaseAfterProcessGone() {
        close();
        uffd.close();
    }
}
