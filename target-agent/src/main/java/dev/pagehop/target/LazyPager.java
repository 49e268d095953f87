package dev.pagehop.target;

import dev.pagehop.mm.Errno;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.track.PageRange;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.UffdMsg;
import dev.pagehop.uffd.Userfaultfd;
import dev.pagehop.xfer.PageRangeSet;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
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
 * <p>One thread owns the userfaultfd, as CRIU's single event loop does: it reads fault messages
 * and non-cooperative events <em>and</em> installs every page that arrives (answers are queued
 * to it and it is woken by interrupt). A second installing thread would race with the events:
 * between the monitor reading EVENT_REMOVE (which ends mmap_changing) and applying it, a copy
 * from another thread would succeed and put stale source bytes where the process had just
 * thrown its contents away. Serialising both on one thread makes "event applied before any later
 * copy" hold by construction.
 *
 * <p>The background pull restarts just after the most recent fault with a small chunk and grows
 * it while no fault comes (64 KiB, +64 KiB per chunk, up to 4 MiB: CRIU's update_xfer_len),
 * capped by {@link Limits#maxPullBytes} so an answer fits the transport's largest message.
 *
 * <p>Pages the target knows (received in pre-copy rounds, or zero) are never fetched: present
 * pages do not fault, and a fault on a page outside the missing set (a zero page, or one the
 * process zapped since) is answered with UFFDIO_ZEROPAGE. EVENT_REMOVE and EVENT_UNMAP drop
 * pages from the missing set (the process threw their contents away); EVENT_REMAP moves them,
 * remembering where they live on the source. An answer is installed only where the page is still
 * missing and still maps to the source address it was asked for.
 *
 * <p>A failed request never zero-fills: on {@link PageLink.Failure#UNREACHABLE} (or an answer
 * overdue by {@link Limits#requestTimeoutMs}) the pager goes PAUSED, faulting threads stay
 * asleep, and reconnect attempts run with exponential backoff (or {@link #reconnect} is called);
 * pages already installed are never asked for again. On {@link PageLink.Failure#SOURCE_LOST}, or
 * an explicit "not in the source's image" answer for a page still missing, the pager goes
 * CANNOT_COMPLETE and the threads stay asleep: the process is frozen for good, as it must be
 * without its memory.
 */
final class LazyPager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LazyPager.class);
    static final long MIN_CHUNK = 64 * 1024;
    static final long MAX_CHUNK = 4 * 1024 * 1024;
    /**
     * gRPC refuses inbound messages over 4 MiB unless a server raises its limit; an answer carries
     * its header and zero bitmap besides the pages, so pulls stay 64 KiB (a multiple of every
     * granule) below that.
     */
    static final long MAX_PULL_BYTES_DEFAULT_GRPC = MAX_CHUNK - 64 * 1024;
    /** QEMU and CRIU wait forever; an answer this late means the stream is stuck, not slow. */
    static final long DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
    private static final long BACKOFF_MIN_MS = 10;
    private static final long BACKOFF_MAX_MS = 2_000;

    /**
     * @param maxPullBytes      largest background request (the transport's message limit)
     * @param requestTimeoutMs  an answer later than this abandons the link (PAUSED, reconnect)
     * @param sourceLostAfterMs how long PAUSED may last before the source counts as gone for good
     *                          (CANNOT_COMPLETE, the process stays frozen); 0 waits forever, as
     *                          QEMU's postcopy-paused does
     */
    record Limits(long maxPullBytes, long requestTimeoutMs, long sourceLostAfterMs) {
        Limits {
            if (maxPullBytes < 1 || requestTimeoutMs < 1 || sourceLostAfterMs < 0) {
                throw new IllegalArgumentException("post-copy limits: pulls of " + maxPullBytes + " bytes, request timeout "
                        + requestTimeoutMs + " ms, source lost after " + sourceLostAfterMs + " ms");
            }
        }

        static Limits defaults() {
            return new Limits(MAX_PULL_BYTES_DEFAULT_GRPC, DEFAULT_REQUEST_TIMEOUT_MS, 0);
        }

        Limits withSourceLostAfterMs(long ms) {
            return new Limits(maxPullBytes, requestTimeoutMs, ms);
        }

        Limits withMaxPullBytes(long bytes) {
            return new Limits(bytes, requestTimeoutMs, sourceLostAfterMs);
        }

        Limits withRequestTimeoutMs(long ms) {
            return new Limits(maxPullBytes, ms, sourceLostAfterMs);
        }
    }

    /** An answer (or failure) for one request, queued for the userfaultfd thread. */
    private record Answer(long generation, boolean urgent, long target, long source, int pages, byte[] data,
            Throwable error) {
    }

    private final String id;
    private final MemoryManager mm;
    private final long pageSize;
    private final LongSupplier nanoTime;
    private final Supplier<PageLink> connector;
    private final ScheduledExecutorService scheduler;
    private final Limits limits;
    private final Userfaultfd uffd;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Bounded by the requests in flight: one pull plus one demand per page a thread waits on. */
    private final ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();

    // guarded by lock
    private final PageRangeSet missing;
    private final PageRangeSet inFlight;
    /** Pages someone is blocked on: page → the faults (thread, time read) waiting for it. */
    private final Map<Long, List<long[]>> waiting = new HashMap<>();
    /** Urgent requests in flight: page → time sent (for the round-trip histogram). */
    private final Map<Long, Long> demandSent = new HashMap<>();
    /** Ranges moved by mremap: target start → {end, source address of start}. */
    private final TreeMap<Long, long[]> moved = new TreeMap<>();
    /** Zero pages whose UFFDIO_ZEROPAGE met an unread non-cooperative event (EAGAIN). */
    private final ArrayDeque<Long> zeroLater = new ArrayDeque<>();
    private final Histogram latency = new Histogram(3_600_000_000_000L, 3);
    private final Map<Long, Long> blockedByThread = new HashMap<>();
    private PostcopyState state = PostcopyState.RUNNING;
    private PageLink link;
    private long generation;
    private long cursor;
    private long chunkBytes = MIN_CHUNK;
    private boolean pullOutstanding;
    private boolean releaseDue;
    private boolean failureDue;
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

    private volatile boolean closed;
    private volatile Consumer<PostcopyState> listener;
    private final Thread uffdThread;
    private final Thread pullThread;

    /**
     * Registers every VMA of {@code mm} with MISSING and starts the pager. {@code missing} are the
     * pages the source still holds; call before the process resumes.
     */
    LazyPager(String id, MemoryManager mm, PageRangeSet missing, PageLink link, Supplier<PageLink> connector,
            ScheduledExecutorService scheduler, LongSupplier nanoTime) {
        this(id, mm, missing, link, connector, scheduler, nanoTime, Limits.defaults());
    }

    LazyPager(String id, MemoryManager mm, PageRangeSet missing, PageLink link, Supplier<PageLink> connector,
            ScheduledExecutorService scheduler, LongSupplier nanoTime, long sourceLostAfterMs) {
        this(id, mm, missing, link, connector, scheduler, nanoTime, Limits.defaults().withSourceLostAfterMs(sourceLostAfterMs));
    }

    LazyPager(String id, MemoryManager mm, PageRangeSet missing, PageLink link, Supplier<PageLink> connector,
            ScheduledExecutorService scheduler, LongSupplier nanoTime, Limits limits) {
        this.limits = limits;
        this.id = id;
        this.mm = mm;
        this.pageSize = mm.pageSize();
        if (limits.maxPullBytes() < pageSize) {
            throw new IllegalArgumentException("migration " + id + ": pulls of " + limits.maxPullBytes()
                    + " bytes cannot carry one " + pageSize + "-byte page");
        }
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
        uffdThread = Thread.ofPlatform().name("lazy-pager-" + id).daemon().unstarted(this::uffdLoop);
        pullThread = Thread.ofPlatform().name("lazy-pager-pull-" + id).daemon().unstarted(this::pullLoop);
        if (this.missing.isEmpty()) {
            lock.lock();
            try {
                complete();
            } finally {
                lock.unlock();
            }
        }
        uffdThread.start();
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

    /** The pages still missing, as ranges (for Recover and status). */
    List<PageRange> missingRanges() {
        lock.lock();
        try {
            return missing.toList();
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
            backoffMs = BACKOFF_MIN_MS;
            state(PostcopyState.RUNNING, "reconnected");
            // Requests of the lost link are forgotten (answers still on their way are installed
            // if their pages are still missing, but tracked no longer); the blocked threads'
            // pages go out again at once, the pull takes up the rest.
            inFlight.clear();
            demandSent.clear();
            pullOutstanding = false;
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
     * A new link from the source (it reopened its streams). A link still taken for alive is
     * dropped first, as if it had failed: its open requests are asked again on the new one. A
     * pager that completed tells the new link at once, since the source may have missed it.
     */
    void replaceLink(PageLink next) {
        lock.lock();
        try {
            if (state == PostcopyState.COMPLETED) {
                link = next;
            } else if (state.terminal()) {
                return;
            } else {
                if (state == PostcopyState.RUNNING) {
                    pauses++;
                    failure = "the source replaced the page streams";
                    state(PostcopyState.PAUSED, failure);
                }
                reconnect(next);
                return;
            }
        } finally {
            lock.unlock();
        }
        try {
            next.release();
        } catch (RuntimeException e) {
            LOG.warn("migration {}: post-copy complete, but telling the source's new link failed: {}", id, e.toString());
        }
    }

    // --- the userfaultfd thread ---------------------------------------------------------------

    private void uffdLoop() {
        try {
            while (!closed) {
                installAnswers();
                announceCompletion();
                if (state() == PostcopyState.COMPLETED) {
                    // Nothing is missing: release the registration, so later faults (zero pages)
                    // take the ordinary path, and wake anyone still parked.
                    uffd.close();
                    return;
                }
                UffdMsg m;
                try {
                    m = uffd.read();
                } catch (InterruptedException e) {
                    continue; // an answer arrived, or close()
                } catch (ErrnoException e) {
                    return; // EBADF: released under us (the process is gone)
                }
                if (m == null) {
                    return;
                }
                lock.lock();
                try {
                    handle(m);
                    retryZero();
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ESRCH || e.errno() == Errno.EBADF) {
                LOG.info("migration {}: the restored address space is gone; the pager stops ({})", id, e.getMessage());
                return;
            }
            stuck(e);
        } catch (RuntimeException e) {
            stuck(e);
        }
    }

    /** An unexpected error on the userfaultfd thread: report it, never zero-fill. */
    private void stuck(RuntimeException e) {
        LOG.error("migration {}: the post-copy pager failed", id, e);
        lock.lock();
        try {
            if (!state.terminal()) {
                failure = "the pager failed (" + e + "): " + missing.pageCount()
                        + " pages can never arrive; the process stays frozen";
                state(PostcopyState.CANNOT_COMPLETE, failure);
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    private void wakeUffdThread() {
        if (Thread.currentThread() != uffdThread) {
            uffdThread.interrupt();
        }
    }

    /** Handles every message already queued (after an EAGAIN: an event waits to be read). */
    private void drainMessages() {
        while (true) {
            UffdMsg m;
            try {
                m = uffd.poll(0);
            } catch (InterruptedException e) {
                // Keep the wake-up for the loop; the queued messages come first.
                Thread.currentThread().interrupt();
                return;
            }
            if (m == null) {
                return;
            }
            handle(m);
        }
    }

    private void handle(UffdMsg m) {
        switch (m.event()) {
            case Uffd.EVENT_PAGEFAULT -> fault(m);
            case Uffd.EVENT_REMOVE, Uffd.EVENT_UNMAP -> drop(m.start(), m.end());
            case Uffd.EVENT_REMAP -> remap(m.from(), m.to(), m.len());
            default -> LOG.warn("migration {}: unexpected userfaultfd event 0x{}", id, Integer.toHexString(m.event()));
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
        long sent = nanoTime.getAsLong();
        demandSent.put(page, sent);
        long gen = generation;
        long src = sourceAddress(page);
        CompletableFuture<byte[]> f;
        try {
            f = link.demand(src, 1);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((data, err) -> answered(new Answer(gen, true, page, src, 1, data, err)));
        deadline(gen, () -> demandSent.get(page) != null && demandSent.get(page) == sent,
                () -> String.format("the urgent request for page 0x%x (source 0x%x) got no answer within %d ms", page, src,
                        limits.requestTimeoutMs()));
    }

    /** Queues an answer for the userfaultfd thread (any thread, no lock held). */
    private void answered(Answer a) {
        answers.add(a);
        wakeUffdThread();
    }

    /**
     * After {@link Limits#requestTimeoutMs}, a request still open on the same link abandons the
     * link: the source reconnects and the request goes out again. A stuck stream otherwise
     * leaves a thread blocked for good.
     */
    private void deadline(long gen, java.util.function.BooleanSupplier stillOpen, Supplier<String> what) {
        try {
            scheduler.schedule(() -> {
                PageLink l;
                String why;
                lock.lock();
                try {
                    if (gen != generation || state != PostcopyState.RUNNING || !stillOpen.getAsBoolean()) {
                        return;
                    }
                    why = what.get();
                    l = link;
                    linkFailed(gen, new PageLink.LinkException(PageLink.Failure.UNREACHABLE, why));
                } finally {
                    lock.unlock();
                }
                LOG.warn("migration {}: {}; abandoning the page streams", id, why);
                l.abandon(why);
            }, limits.requestTimeoutMs(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("migration {}: no request deadline, the agent shuts down", id);
        }
    }

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
                // An event is queued behind this fault: this thread reads it next, then retries.
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
        inFlight.remove(start, end);
        for (long page : new ArrayList<>(waiting.keySet())) {
            if (page >= start && page < end) {
                waiting.remove(page);
            }
        }
        forgetMoved(start, end);
        if (!gone.isEmpty()) {
            LOG.info("migration {}: the process dropped [0x{}, 0x{}), {} missing pages no longer fetched", id,
                    Long.toHexString(start), Long.toHexString(end), gone.pageCount());
        }
        checkComplete();
    }

    private void remap(long from, long to, long len) {
        if (from == to) {
            return;
        }
        PageRangeSet moving = missing.intersect(List.of(new PageRange(from, from + len)));
        // Whatever was at the destination is gone (mremap unmaps it first).
        drop(to, to + len);
        if (moving.isEmpty()) {
            forgetMoved(from, from + len);
            return;
        }
        long[] sources = new long[Math.toIntExact(len / pageSize)];
        for (int i = 0; i < sources.length; i++) {
            sources[i] = sourceAddress(from + i * pageSize);
        }
        missing.remove(from, from + len);
        inFlight.remove(from, from + len);
        for (PageRange r : moving.toList()) {
            missing.add(r.start() - from + to, r.end() - from + to);
        }
        forgetMoved(from, from + len);
        // Contiguous on the source unless an earlier mremap already split it; split ranges are
        // recorded page by page (rare: a second mremap of a half-fetched range).
        boolean contiguous = true;
        for (int i = 1; i < sources.length; i++) {
            if (sources[i] != sources[0] + i * pageSize) {
                contiguous = false;
                break;
            }
        }
        if (contiguous) {
            moved.put(to, new long[] {to + len, sources[0]});
        } else {
            for (int i = 0; i < sources.length; i++) {
                long a = to + i * pageSize;
                moved.put(a, new long[] {a + pageSize, sources[i]});
            }
        }
        LOG.info("migration {}: mremap moved {} missing pages from 0x{} to 0x{}", id, moving.pageCount(),
                Long.toHexString(from), Long.toHexString(to));
    }

    private void forgetMoved(long start, long end) {
        var below = moved.lowerEntry(start);
        // Keys first: a TreeMap's live entries can take over a successor's key and value when
        // a node is deleted, so nothing is read from an entry after a remove.
        for (long key : new ArrayList<>(moved.subMap(start, end).keySet())) {
            long[] v = moved.remove(key);
            if (v[0] > end) {
                moved.put(end, new long[] {v[0], v[1] + (end - key)});
            }
        }
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

    // --- installing (userfaultfd thread) --------------------------------------------------------

    private void installAnswers() {
        Answer a;
        while ((a = answers.poll()) != null) {
            lock.lock();
            try {
                install(a);
                retryZero();
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private void install(Answer a) {
        boolean current = a.generation == generation;
        if (current) {
            // This request is settled, whatever came of it.
            if (a.urgent) {
                Long sent = demandSent.get(a.target);
                if (sent != null && a.error == null) {
                    latency.recordValue(Math.max(0, nanoTime.getAsLong() - sent));
                }
                demandSent.remove(a.target);
            } else {
                inFlight.remove(a.target, a.target + a.pages * pageSize);
                pullOutstanding = false;
            }
        }
        if (a.error != null) {
            failed(a, current);
            return;
        }
        int pages = a.data.length / Math.toIntExact(pageSize);
        bytesReceived += a.data.length;
        long now = nanoTime.getAsLong();
        byte[] page = new byte[Math.toIntExact(pageSize)];
        for (int i = 0; i < pages; i++) {
            long addr = a.target + i * pageSize;
            // Only where the page is still missing and still the one asked for: an mremap since
            // may have moved it away, dropped it, or brought another missing page here.
            if (!missing.contains(addr) || sourceAddress(addr) != a.source + i * pageSize) {
                continue;
            }
            System.arraycopy(a.data, i * page.length, page, 0, page.length);
            if (!copy(addr, a.source + i * pageSize, page)) {
                continue;
            }
            missing.remove(addr, addr + pageSize);
            if (a.urgent) {
                pagesOnDemand++;
            } else {
                pagesBackground++;
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
    }

    /**
     * UFFDIO_COPY of one page that comes from {@code source}; false if the page turned out not
     * to be there to fill (an event applied meanwhile dropped it, or moved another page here).
     */
    private boolean copy(long addr, long source, byte[] page) {
        while (true) {
            try {
                uffd.copy(addr, page, 0);
                return true;
            } catch (ErrnoException e) {
                if (e.errno() == Errno.EEXIST) {
                    uffd.wake(addr, pageSize);
                    return true;
                }
                if (e.errno() == Errno.EAGAIN) {
                    // A non-cooperative event waits to be read: apply it first, then look again.
                    drainMessages();
                    if (!missing.contains(addr) || sourceAddress(addr) != source) {
                        return false;
                    }
                    continue;
                }
                if (e.errno() == Errno.ENOENT) {
                    // Events are applied before any later copy, so a missing page whose mapping is
                    // gone without an event is not ours to fill any more (unregistered).
                    LOG.warn("migration {}: page 0x{} is no longer registered ({}); it is dropped", id,
                            Long.toHexString(addr), e.getMessage());
                    missing.remove(addr, addr + pageSize);
                    pagesDropped++;
                    return false;
                }
                throw e;
            }
        }
    }

    private void failed(Answer a, boolean current) {
        Throwable err = a.error instanceof java.util.concurrent.CompletionException && a.error.getCause() != null
                ? a.error.getCause() : a.error;
        PageLink.Failure kind = err instanceof PageLink.LinkException le ? le.failure() : PageLink.Failure.UNREACHABLE;
        if (kind == PageLink.Failure.NOT_ON_SOURCE) {
            long stillMissing = 0;
            for (int i = 0; i < a.pages; i++) {
                long addr = a.target + i * pageSize;
                if (missing.contains(addr) && sourceAddress(addr) == a.source + i * pageSize) {
                    stillMissing++;
                }
            }
            if (stillMissing == 0) {
                // Dropped or moved since it was asked for: nothing lost.
                return;
            }
            if (!state.terminal()) {
                failure = String.format("the source has no page for [0x%x, +%d pages) (source address 0x%x): %s; "
                        + "%d pages can never arrive; the process stays frozen", a.target, a.pages, a.source,
                        err.getMessage(), missing.pageCount());
                state(PostcopyState.CANNOT_COMPLETE, failure);
            }
            return;
        }
        if (current) {
            linkFailed(a.generation, err);
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
        releaseDue = true;
        changed.signalAll();
        wakeUffdThread();
    }

    /**
     * Tells the source it may release its image, or that the migration cannot complete; outside
     * the lock, on the userfaultfd thread.
     */
    private void announceCompletion() {
        PageLink l;
        String cannot = null;
        lock.lock();
        try {
            if (failureDue) {
                failureDue = false;
                cannot = failure;
            } else if (!releaseDue) {
                return;
            }
            releaseDue = false;
            l = link;
        } finally {
            lock.unlock();
        }
        if (cannot != null) {
            l.cannotComplete(cannot);
            return;
        }
        try {
            l.release();
        } catch (RuntimeException e) {
            // The source asks again (Recover, or a new link) before it releases anything.
            LOG.warn("migration {}: post-copy complete, but telling the source failed: {}", id, e.toString());
        }
    }

    // --- background pull --------------------------------------------------------------------

    private void pullLoop() {
        while (!closed) {
            long start;
            long src;
            int pages;
            long gen;
            PageLink l;
            lock.lock();
            try {
                while (!closed && (state == PostcopyState.PAUSED || pullOutstanding
                        || (state == PostcopyState.RUNNING && nextPull() == null))) {
                    changed.await();
                }
                if (closed || state.terminal()) {
                    return;
                }
                PageRange r = nextPull();
                start = r.start();
                src = sourceAddress(start);
                pages = Math.toIntExact((r.end() - r.start()) / pageSize);
                inFlight.add(r.start(), r.end());
                pullOutstanding = true;
                cursor = r.end();
                // A fault meanwhile sets it back to MIN_CHUNK (see fault()).
                chunkBytes = Math.min(MAX_CHUNK, chunkBytes + MIN_CHUNK);
                gen = generation;
                l = link;
                long end = r.end();
                deadline(gen, () -> pullOutstanding && inFlight.contains(start),
                        () -> String.format("the background pull of [0x%x, 0x%x) got no answer within %d ms", start, end,
                                limits.requestTimeoutMs()));
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            CompletableFuture<byte[]> f;
            try {
                f = l.pull(src, pages);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            long s = start;
            f.whenComplete((data, err) -> answered(new Answer(gen, false, s, src, pages, data, err)));
        }
    }

    /**
     * The next background run: missing pages from the cursor on (wrapping around), skipping
     * pages in flight, at most one chunk (and the transport's limit), contiguous on the source.
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
        long size = Math.max(pageSize, Math.min(chunkBytes, limits.maxPullBytes()) / pageSize * pageSize);
        long end = Math.min(r.end(), r.start() + size);
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

    // --- link failures ----------------------------------------------------------------------

    private void linkFailed(long gen, Throwable err) {
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
            // The pull waits for RUNNING again; what it had in flight is asked again then.
            pullOutstanding = false;
            scheduleReconnect();
            scheduleSourceLost();
        }
        changed.signalAll();
    }

    private void scheduleSourceLost() {
        if (limits.sourceLostAfterMs() <= 0) {
            return;
        }
        long pausedAt = pauses;
        try {
            scheduler.schedule(() -> {
                lock.lock();
                try {
                    if (state == PostcopyState.PAUSED && pauses == pausedAt) {
                        failure = "the source was unreachable for " + limits.sourceLostAfterMs() + " ms: "
                                + missing.pageCount() + " pages can never arrive; the process stays frozen";
                        state(PostcopyState.CANNOT_COMPLETE, failure);
                        changed.signalAll();
                    }
                } finally {
                    lock.unlock();
                }
            }, limits.sourceLostAfterMs(), TimeUnit.MILLISECONDS);
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

    /** The source said it is gone for good (it shut down, or has no such migration any more). */
    void sourceLost(String why) {
        linkFailedForGood(new PageLink.LinkException(PageLink.Failure.SOURCE_LOST, why));
    }

    private void linkFailedForGood(PageLink.LinkException e) {
        lock.lock();
        try {
            if (state == PostcopyState.PAUSED || state == PostcopyState.RUNNING) {
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
        if (next == PostcopyState.CANNOT_COMPLETE) {
            failureDue = true;
            wakeUffdThread();
        }
        LOG.info("migration {}: post-copy {} ({})", id, next, why);
        Consumer<PostcopyState> l = listener;
        if (l != null) {
            l.accept(next);
        }
    }

    /**
     * Tells {@code l} every state change from now on, and the current state at once. Called
     * under the pager's lock: {@code l} must hand off, never block.
     */
    void onState(Consumer<PostcopyState> l) {
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
        closed = true;
        uffdThread.interrupt();
        pullThread.interrupt();
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
