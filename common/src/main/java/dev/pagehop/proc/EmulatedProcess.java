package dev.pagehop.proc;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.workload.IntegrityReport;
import dev.pagehop.workload.PendingOp;
import dev.pagehop.workload.RateLimit;
import dev.pagehop.workload.Ticker;
import dev.pagehop.workload.Workload;
import dev.pagehop.workload.WorkloadSpec;
import dev.pagehop.workload.WorkloadStats;
import dev.pagehop.workload.Workloads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An emulated arm64 Linux process: a pid, a {@link MemoryManager}, and threads that each step
 * a {@link Workload} on their own Java thread. See the package documentation for the state
 * machine and the freeze protocol. Thread-safe; control calls (start, freeze, thaw, kill) are
 * serialised.
 *
 * <p>The process does not own its memory manager: {@link #close()} stops the threads and
 * leaves {@code mm} to its creator.
 */
public final class EmulatedProcess implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmulatedProcess.class);

    /** Threads a process may reach, spawned and cloned: as many as {@link #spawn} allows. */
    static final int MAX_THREADS = 1024;

    private final int pid;
    private final MemoryManager mm;
    private final Workload workload;
    private final Ticker ticker;
    private final ProcessOptions.YieldPoints yieldPointsMode;
    /**
     * In index order. Copy-on-write: a direct-memory workload adds threads while the others step
     * (clone), and readers such as {@link #stats()} iterate without the lock.
     */
    private final List<EmulatedThread> threads = new CopyOnWriteArrayList<>();

    private final ReentrantLock lock = new ReentrantLock();
    /**
     * Control threads (freeze, freezeAt, awaitExit, restore) wait here for threads to stop or
     * exit; stepping threads signal it only when the last of them stops, so a freeze wakes its
     * caller once instead of once per thread.
     */
    private final Condition stopped = lock.newCondition();
    /** Stopped threads wait here for thaw or exit, apart from the control threads. */
    private final Condition resume = lock.newCondition();

    // Guarded by lock.
    private ProcessState state = ProcessState.NEW;
    private int threadsInFault;
    /** Threads asleep in {@link #idleAtBoundary}. */
    private int idleThreads;
    private long allBlockedSinceNanos;
    private long allBlockedNanos;
    private StopReason stopReason;
    private long startNanos;

    // Read by the threads at every step boundary.
    private volatile boolean freezeRequested;
    private volatile boolean exitRequested;
    private volatile long stopAtStep = Long.MAX_VALUE;
    private volatile RateLimit rate;
    private volatile int throttlePercent;

    private EmulatedProcess(int pid, MemoryManager mm, Workload workload, ProcessOptions options) {
        if (pid <= 0) {
            throw new IllegalArgumentException("pid " + pid + " is not positive");
        }
        this.pid = pid;
        this.mm = mm;
        this.workload = workload;
        this.ticker = options.ticker();
        this.yieldPointsMode = options.yieldPoints();
        this.rate = options.rate() != null ? options.rate() : workload.defaultRate();
        this.throttlePercent = options.throttlePercent();
    }

    /**
     * Creates a process of {@code threadCount} threads running {@code spec} on a fresh
     * {@code mm}: the workload maps its memory and sets the registers now; nothing runs until
     * {@link #start()}. Thread ids are pid, pid + 1, ...
     */
    public static EmulatedProcess spawn(int pid, MemoryManager mm, WorkloadSpec spec, int threadCount, ProcessOptions options) {
        if (threadCount < 1 || threadCount > 1024) {
            throw new IllegalArgumentException("process " + pid + ": " + threadCount + " threads is outside 1..1024");
        }
        Workload w = Workloads.create(spec);
        List<CpuState> regs = new ArrayList<>();
        for (int i = 0; i < threadCount; i++) {
            regs.add(new CpuState());
        }
        w.setUp(mm, regs);
        EmulatedProcess p = new EmulatedProcess(pid, mm, w, options);
        for (int i = 0; i < threadCount; i++) {
            p.threads.add(new EmulatedThread(p, pid + i, i, regs.get(i), 0, List.of()));
        }
        return p;
    }

    /**
     * Rebuilds a process from its image on {@code mm}, whose layout was rebuilt with
     * {@link AddressSpaceLayout#rebuild} and whose memory the caller has filled. The layout is
     * checked against the image. The process comes back FROZEN, its threads parked at the
     * points they were saved at; {@link #thaw()} resumes them (the end of downtime).
     */
    public static EmulatedProcess restore(ProcessImage image, MemoryManager mm, ProcessOptions options) {
        if (mm.pageSize() != image.mmConfig().granule().pageSize()) {
            throw new IllegalArgumentException("process " + image.pid() + ": image granule "
                    + image.mmConfig().granule() + " but the memory manager has " + mm.pageSize() + "-byte pages");
        }
        AddressSpaceLayout.check(image, mm);
        Workload w = Workloads.create(image.workload());
        ProcessOptions opts = options.rate() == null ? options.withRate(image.rate()) : options;
        EmulatedProcess p = new EmulatedProcess(image.pid(), mm, w, opts);
        int i = 0;
        for (ProcessImage.ThreadImage t : image.threads()) {
            p.threads.add(new EmulatedThread(p, t.tid(), i++, t.cpu(), t.steps(), t.pending()));
        }
        p.lock.lock();
        try {
            p.freezeRequested = true;
            p.state = p.state.checkTransition(ProcessState.FROZEN, p.pid, "restore");
            p.startNanos = p.ticker.nanoTime();
            for (EmulatedThread t : p.threads) {
                t.start();
            }
            p.awaitAll(ThreadState::isStopped);
        } finally {
            p.lock.unlock();
        }
        return p;
    }

    // --- accessors -------------------------------------------------------------------------------

    public int pid() {
        return pid;
    }

    public MemoryManager mm() {
        return mm;
    }

    public Workload workload() {
        return workload;
    }

    public WorkloadSpec workloadSpec() {
        return workload.spec();
    }

    public List<EmulatedThread> threads() {
        return List.copyOf(threads);
    }

    public EmulatedThread thread(int index) {
        if (index < 0 || index >= threads.size()) {
            throw new IllegalArgumentException("process " + pid + " has threads 0.." + (threads.size() - 1)
                    + ", not " + index);
        }
        return threads.get(index);
    }

    public ProcessState state() {
        lock.lock();
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    public Optional<StopReason> stopReason() {
        lock.lock();
        try {
            return Optional.ofNullable(stopReason);
        } finally {
            lock.unlock();
        }
    }

    Ticker ticker() {
        return ticker;
    }

    /** Whether threads yield at step boundaries, so a freeze can claim them off the CPU. */
    boolean yieldPoints() {
        return switch (yieldPointsMode) {
            case AUTO -> threads.size() >= Runtime.getRuntime().availableProcessors();
            case ON -> true;
            case OFF -> false;
        };
    }

    // --- rate control ----------------------------------------------------------------------------

    public RateLimit rateLimit() {
        return rate;
    }

    /** Sets the per-thread write-rate target, effective from each thread's next step. */
    public void setRateLimit(RateLimit limit) {
        if (limit == null) {
            throw new IllegalArgumentException("process " + pid + ": rate limit is null; use RateLimit.unlimited()");
        }
        rate = limit;
        wakePacedThreads();
    }

    public int throttlePercent() {
        return throttlePercent;
    }

    /**
     * The auto-converge lever: cuts each thread's writes to about (100 - percent) %, by scaling
     * its rate target and, as QEMU's cpu-throttle-percentage, letting it run only that share of
     * wall time (see {@link dev.pagehop.workload.Pacer}). 0 turns it off.
     */
    public void setThrottlePercent(int percent) {
        if (percent < 0 || percent > 99) {
            throw new IllegalArgumentException("process " + pid + ": throttle " + percent + " % is outside 0..99");
        }
        throttlePercent = percent;
        wakePacedThreads();
    }

    /** Totals over all threads; rates over the time since start (or restore), read from the ticker. */
    public WorkloadStats stats() {
        long nanos;
        lock.lock();
        try {
            nanos = state == ProcessState.NEW ? 0 : ticker.nanoTime() - startNanos;
        } finally {
            lock.unlock();
        }
        WorkloadStats total = WorkloadStats.ZERO;
        for (EmulatedThread t : threads) {
            total = total.plus(t.stats(nanos));
        }
        return new WorkloadStats(total.steps(), total.bytesWritten(), total.pagesWritten(), nanos, total.stepsBefore());
    }

    // --- control ---------------------------------------------------------------------------------

    public void start() {
        lock.lock();
        try {
            if (state != ProcessState.NEW) {
                throw new IllegalStateException("process " + pid + ": cannot start while " + state + " (only a NEW process starts)");
            }
            state = state.checkTransition(ProcessState.RUNNING, pid, "start");
            startNanos = ticker.nanoTime();
            for (EmulatedThread t : threads) {
                t.state = t.state.checkTransition(ThreadState.RUNNING, t.tid());
                t.start();
            }
        } finally {
            lock.unlock();
        }
        LOG.debug("process {} started: {} threads of {}", pid, threads.size(), workload.spec());
    }

    /**
     * Stops every thread at its next step boundary (a thread parked in a userfault counts as
     * stopped where it is) and returns once all are stopped, with the time it took.
     */
    public FreezeResult freeze() {
        long t0 = System.nanoTime();
        lock.lock();
        try {
            state = state.checkTransition(ProcessState.FREEZING, pid, "freeze");
            freezeRequested = true;
            wakeIdleThreads();
            for (EmulatedThread t : threads) {
                if (t.state == ThreadState.RUNNING && t.claimAtBoundary()) {
                    t.state = t.state.checkTransition(ThreadState.FROZEN, t.tid());
                }
            }
            wakePacedThreads();
            awaitAll(ThreadState::isStopped);
            return finishFreeze(t0, "freeze");
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs every thread until it has completed exactly {@code stepsPerThread} steps and freezes
     * it there: the deterministic freeze point tests and benchmarks need. From NEW it starts the
     * process, from FROZEN it resumes it, with the target set before any thread moves. From
     * RUNNING it fails if a thread is already past that count (the process is left FROZEN where
     * it stood).
     */
    public FreezeResult freezeAt(long stepsPerThread) {
        long t0 = System.nanoTime();
        String action = "freeze at step " + stepsPerThread;
        lock.lock();
        try {
            if (state == ProcessState.NEW || state == ProcessState.FROZEN) {
                stopAtStep = stepsPerThread;
                if (state == ProcessState.NEW) {
                    start();
                } else {
                    state = state.checkTransition(ProcessState.RUNNING, pid, action);
                    resumeThreads();
                }
            }
            state = state.checkTransition(ProcessState.FREEZING, pid, action);
            stopAtStep = stepsPerThread;
            wakeIdleThreads();
            awaitAll(s -> s == ThreadState.FROZEN || s == ThreadState.EXITED);
            freezeRequested = true;
            FreezeResult r = finishFreeze(t0, action);
            for (EmulatedThread t : threads) {
                if (t.state != ThreadState.EXITED && t.steps() != stepsPerThread) {
                    throw new IllegalStateException("process " + pid + ": thread " + t.tid() + " had already run "
                            + t.steps() + " steps, past the " + stepsPerThread + " asked for; it is frozen there");
                }
            }
            return r;
        } finally {
            lock.unlock();
        }
    }

    private FreezeResult finishFreeze(long t0, String action) {
        if (state != ProcessState.FREEZING) {
            throw new IllegalStateException("process " + pid + " " + state.name().toLowerCase()
                    + " during " + action + ": " + stopReason);
        }
        state = state.checkTransition(ProcessState.FROZEN, pid, action);
        long took = System.nanoTime() - t0;
        List<FreezeResult.ThreadStop> stops = new ArrayList<>();
        for (EmulatedThread t : threads) {
            boolean parked = t.state == ThreadState.PARKED_IN_FAULT;
            stops.add(new FreezeResult.ThreadStop(t.tid(), t.steps(), parked, parked ? t.faultAddress : -1));
        }
        return new FreezeResult(took, stops);
    }

    /** Resumes a frozen process; a thread whose userfault was resolved while frozen completes it now. */
    public void thaw() {
        lock.lock();
        try {
            if (state != ProcessState.FROZEN) {
                throw new IllegalStateException("process " + pid + ": cannot thaw while " + state + " (only a FROZEN process thaws)");
            }
            state = state.checkTransition(ProcessState.RUNNING, pid, "thaw");
            stopAtStep = Long.MAX_VALUE;
            resumeThreads();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Ends the process: threads leave at their next step boundary, a thread of a buffered
     * workload already between two effects of its step, so nothing more is stored (a thread
     * parked in a userfault is interrupted). Idempotent. Use {@link #awaitExit} to wait for the
     * threads.
     */
    public void kill() {
        lock.lock();
        try {
            if (state == ProcessState.EXITED) {
                return;
            }
            if (stopReason == null) {
                stopReason = StopReason.killed();
            }
            state = state.checkTransition(ProcessState.EXITED, pid, "kill");
            exitRequested = true;
            resume.signalAll();
            stopped.signalAll();
        } finally {
            lock.unlock();
        }
        List<Thread> inFault = new ArrayList<>();
        lock.lock();
        try {
            for (EmulatedThread t : threads) {
                if (t.state == ThreadState.PARKED_IN_FAULT && t.javaThread() != null) {
                    inFault.add(t.javaThread());
                }
            }
        } finally {
            lock.unlock();
        }
        wakePacedThreads();
        inFault.forEach(Thread::interrupt);
    }

    /**
     * Waits until the process is STOPPED or EXITED and all its threads have ended; returns why
     * it stopped. Throws {@link IllegalStateException} on timeout, naming the threads still alive.
     */
    public StopReason awaitExit(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!(state.isTerminal() && allThreads(s -> s == ThreadState.EXITED || s == ThreadState.NEW))) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("process " + pid + " still " + state + " after " + timeout
                            + "; threads " + describeThreads());
                }
                stopped.awaitNanos(left);
            }
            return stopReason;
        } finally {
            lock.unlock();
        }
        // Java threads finish right after marking themselves EXITED; nothing else to wait for.
    }

    /** Kills the process and waits up to 10 s for its threads. The memory manager stays open. */
    @Override
    public void close() {
        kill();
        try {
            awaitExit(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // --- images and checks -------------------------------------------------------------------------

    /**
     * The non-memory image of a frozen (or never started) process: layout, brk, registers,
     * pending effects and workload position.
     */
    public ProcessImage saveImage() {
        List<ProcessImage.ThreadImage> ts = new ArrayList<>();
        lock.lock();
        try {
            requireImageable();
            for (EmulatedThread t : threads) {
                boolean parked = t.state == ThreadState.PARKED_IN_FAULT;
                List<PendingOp> pending = t.pendingUnsafe();
                ts.add(new ProcessImage.ThreadImage(t.tid(), t.steps(), t.committedUnsafe(), pending,
                        parked, parked ? t.faultAddress : -1));
            }
        } finally {
            lock.unlock();
        }
        // The kernel calls into this process (FaultWait) with its own lock held, so the memory
        // manager is read without holding ours: lock order is always kernel, then process.
        ProcessImage image = AddressSpaceLayout.capture(pid, mm, workload.spec(), rate, ts);
        lock.lock();
        try {
            requireImageable();
        } finally {
            lock.unlock();
        }
        return image;
    }

    private void requireImageable() {
        if (state != ProcessState.FROZEN && state != ProcessState.NEW) {
            throw new IllegalStateException("process " + pid + ": an image is taken FROZEN or NEW, not " + state);
        }
    }

    /**
     * Runs the workload's own integrity check over memory; the process must not be running, and
     * no thread of a frozen process may be in the middle of a step (parked in a userfault while
     * applying its effects, or restored with effects still to apply): memory then holds half a
     * step, which a self-checking workload would report as corruption although the step
     * completes once the process thaws. A stopped process is checked as it lies.
     */
    public IntegrityReport verify() {
        requireQuiescent("verify the workload");
        lock.lock();
        try {
            if (state == ProcessState.FROZEN) {
                for (EmulatedThread t : threads) {
                    int pending = t.state == ThreadState.EXITED ? 0 : t.pendingUnsafe().size();
                    if (pending > 0) {
                        throw new IllegalStateException(String.format(
                                "process %d: cannot verify the workload while thread %d is in the middle of step %d: "
                                        + "%d of its effects are not applied yet%s; thaw it to finish the step, then freeze and verify",
                                pid, t.tid(), t.steps(), pending, t.state == ThreadState.PARKED_IN_FAULT && t.faultAddress >= 0
                                        ? String.format(" (parked in a userfault at 0x%x)", t.faultAddress) : ""));
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        return workload.verify(mm);
    }

    void requireQuiescent(String action) {
        ProcessState s = state();
        if (s == ProcessState.RUNNING || s == ProcessState.FREEZING) {
            throw new IllegalStateException("process " + pid + ": cannot " + action + " while " + s + "; freeze it first");
        }
    }

    // --- the thread side of the protocol --------------------------------------------------------------

    boolean mustPause(long steps) {
        return freezeRequested | exitRequested | steps >= stopAtStep;
    }

    /** Killed, or stopped by another thread's fatal signal: no thread may change memory any more. */
    boolean exitRequested() {
        return exitRequested;
    }

    /** At a step boundary: parks while frozen; false when the thread must exit. */
    boolean pauseAtBoundary(EmulatedThread t) {
        lock.lock();
        try {
            while (true) {
                if (exitRequested) {
                    return false;
                }
                if (!freezeRequested && t.steps() < stopAtStep) {
                    if (t.state == ThreadState.NEW) {
                        t.state = t.state.checkTransition(ThreadState.RUNNING, t.tid());
                    }
                    return true;
                }
                if (t.state != ThreadState.FROZEN) {
                    t.state = t.state.checkTransition(ThreadState.FROZEN, t.tid());
                    signalIfAllStopped();
                }
                resume.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }

    void faultSleeping(EmulatedThread t, long address) {
        lock.lock();
        try {
            t.faultAddress = address;
            // A retried access may fault again (a WP fault right after a MISSING one) while the
            // thread is still counted as parked; it simply stays so, at the new address.
            if (t.state != ThreadState.PARKED_IN_FAULT) {
                t.state = t.state.checkTransition(ThreadState.PARKED_IN_FAULT, t.tid());
            }
            faultBegins(t);
            t.gateArmed = false;
            signalIfAllStopped();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The fault was resolved. The kernel calls this with its own lock held, so the thread must not
     * wait here: if the process is frozen it stays PARKED_IN_FAULT and waits at its next gate
     * (after the faulting access completes, before anything the image records changes).
     */
    void faultWoken(EmulatedThread t) {
        lock.lock();
        try {
            faultEnds(t);
            if (freezeRequested && !exitRequested) {
                t.gateArmed = true;
                return;
            }
            if (t.state == ThreadState.PARKED_IN_FAULT) {
                t.state = t.state.checkTransition(ThreadState.RUNNING, t.tid());
            }
            t.faultAddress = -1;
            stopped.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void faultBegins(EmulatedThread t) {
        long now = System.nanoTime();
        t.faults++;
        t.faultSinceNanos = now;
        if (++threadsInFault == liveThreads()) {
            allBlockedSinceNanos = now;
        }
    }

    private void faultEnds(EmulatedThread t) {
        long now = System.nanoTime();
        t.blockedNanos += now - t.faultSinceNanos;
        if (threadsInFault-- == liveThreads()) {
            allBlockedNanos += now - allBlockedSinceNanos;
        }
    }

    private int liveThreads() {
        int n = 0;
        for (EmulatedThread t : threads) {
            n += t.state == ThreadState.EXITED ? 0 : 1;
        }
        return n;
    }

    /**
     * After a freeze: waits until every thread parked in a userfault has had that fault resolved
     * and its faulting access has landed (the thread then holds at its gate until thaw), so
     * memory no longer changes under a reader of the frozen process. A write-protect monitor
     * resolves such faults on its own; nothing resolves a MISSING fault here, so a caller waits
     * only as long as it can afford. Returns how many threads are still waiting on their fault.
     */
    public int awaitParkedFaultsLanded(long timeoutNanos) throws InterruptedException {
        lock.lock();
        landingWaiters++;
        try {
            long deadline = System.nanoTime() + timeoutNanos;
            while (true) {
                int waiting = 0;
                for (EmulatedThread t : threads) {
                    if (t.state == ThreadState.PARKED_IN_FAULT && !t.atGate) {
                        waiting++;
                    }
                }
                long left = deadline - System.nanoTime();
                if (waiting == 0 || left <= 0) {
                    return waiting;
                }
                stopped.awaitNanos(left);
            }
        } finally {
            landingWaiters--;
            lock.unlock();
        }
    }

    /**
     * Callers now inside {@link #awaitParkedFaultsLanded}: a userfault handler that wants the
     * frozen process's reader to see its resolution (a test standing in for a monitor) resolves
     * once someone waits, instead of guessing when that is.
     */
    public int parkedFaultWaiters() {
        lock.lock();
        try {
            return landingWaiters;
        } finally {
            lock.unlock();
        }
    }

    private int landingWaiters;

    /** Userfault counts and blocked time of all threads so far. */
    public FaultStats faultStats() {
        lock.lock();
        try {
            long faults = 0;
            long blocked = 0;
            long now = System.nanoTime();
            for (EmulatedThread t : threads) {
                faults += t.faults;
                blocked += t.blockedNanos;
                if (t.state == ThreadState.PARKED_IN_FAULT && !t.gateArmed) {
                    blocked += now - t.faultSinceNanos;
                }
            }
            long all = allBlockedNanos + (threadsInFault > 0 && threadsInFault == liveThreads() ? now - allBlockedSinceNanos : 0);
            return new FaultStats(faults, blocked, all);
        } finally {
            lock.unlock();
        }
    }

    /** Waits out a freeze that began while the thread was parked in a fault; then it runs on. */
    void passFaultGate(EmulatedThread t) {
        lock.lock();
        try {
            t.atGate = true;
            stopped.signalAll();
            while (freezeRequested && !exitRequested) {
                resume.awaitUninterruptibly();
            }
            t.atGate = false;
            if (t.state == ThreadState.PARKED_IN_FAULT) {
                t.state = t.state.checkTransition(ThreadState.RUNNING, t.tid());
            }
            t.faultAddress = -1;
            stopped.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * A stepping thread adds a thread (a guest clone): the next index, tid pid + index, starting
     * at {@code registers}. It runs at once if the process runs; if the process is freezing or
     * frozen (the parent completing a step the freeze waits for, or held at its fault gate), it
     * starts frozen at its first boundary and the freeze waits for it as for any other thread.
     */
    int spawnThread(EmulatedThread parent, CpuState registers) {
        lock.lock();
        try {
            int index = threads.size();
            if (index >= MAX_THREADS) {
                throw new IllegalStateException("process " + pid + ": thread " + parent.tid() + " spawns thread index "
                        + index + ", past the limit of " + MAX_THREADS);
            }
            EmulatedThread t = new EmulatedThread(this, pid + index, index, registers, 0, List.of());
            threads.add(t);
            if (exitRequested) {
                t.state = t.state.checkTransition(ThreadState.EXITED, t.tid());
                stopped.signalAll();
                return index;
            }
            if (!freezeRequested) {
                t.state = t.state.checkTransition(ThreadState.RUNNING, t.tid());
            }
            // Otherwise NEW until its first boundary, where it freezes: a freeze in progress
            // waits for it (NEW is not stopped), as restore's threads.
            t.start();
            LOG.debug("process {}: thread {} spawned thread {} (index {})", pid, parent.tid(), t.tid(), index);
            return index;
        } finally {
            lock.unlock();
        }
    }

    /** Ends an idle wait of the thread of {@code index}, or makes its next one return at once. */
    void wakeThread(EmulatedThread waker, int index) {
        lock.lock();
        try {
            if (index < 0 || index >= threads.size()) {
                throw new IllegalArgumentException("process " + pid + ": thread " + waker.tid() + " wakes thread index "
                        + index + " but the threads are 0.." + (threads.size() - 1));
            }
            threads.get(index).wakePermit = true;
            resume.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The thread waits mid-step for a lock another thread holds, which may be asleep in a
     * userfault holding it: it counts as stopped (PARKED_IN_FAULT, at no address, and not
     * counted as a userfault in {@link #faultStats()}) so a freeze need not wait for that fault.
     */
    void lockWaitBegins(EmulatedThread t) {
        lock.lock();
        try {
            t.faultAddress = -1;
            if (t.state != ThreadState.PARKED_IN_FAULT) {
                t.state = t.state.checkTransition(ThreadState.PARKED_IN_FAULT, t.tid());
            }
            t.gateArmed = false;
            signalIfAllStopped();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The lock is taken. If the process froze meanwhile the thread holds right here, before it
     * changes anything (its registers are still those of the instruction that wanted the lock),
     * and counts as having landed for {@link #awaitParkedFaultsLanded}: a frozen process must
     * not store (soft-dirty reads and clears its bits relying on that), so the thread does the
     * work it took the lock for only after thaw.
     */
    void lockWaitEnds(EmulatedThread t) {
        passFaultGate(t);
    }

    /**
     * After a step that asked to idle: sleeps until another thread wakes this one, or the
     * process freezes, stops at a step count or exits (the thread loop then handles those at
     * its boundary, and the next step looks again whether the thread can run).
     */
    void idleAtBoundary(EmulatedThread t) {
        lock.lock();
        try {
            idleThreads++;
            try {
                while (!t.wakePermit && !freezeRequested && !exitRequested && t.steps() < stopAtStep) {
                    resume.awaitUninterruptibly();
                }
            } finally {
                idleThreads--;
            }
            t.wakePermit = false;
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock: idle threads look at the freeze or stop request (nobody else is woken). */
    private void wakeIdleThreads() {
        if (idleThreads > 0) {
            resume.signalAll();
        }
    }

    void threadDied(EmulatedThread t, StopReason reason) {
        lock.lock();
        try {
            if (stopReason == null) {
                stopReason = reason;
                LOG.info("process {} stops: {}", pid, reason);
            }
            exitRequested = true;
            if (state == ProcessState.RUNNING || state == ProcessState.FREEZING || state == ProcessState.FROZEN) {
                state = state.checkTransition(ProcessState.STOPPED, pid, "stop on " + reason.kind());
            }
            resume.signalAll();
            stopped.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void threadExited(EmulatedThread t) {
        lock.lock();
        try {
            t.state = ThreadState.EXITED;
            stopped.signalAll();
        } finally {
            lock.unlock();
        }
    }

    ThreadState threadState(EmulatedThread t) {
        lock.lock();
        try {
            return t.state;
        } finally {
            lock.unlock();
        }
    }

    long threadFault(EmulatedThread t) {
        lock.lock();
        try {
            return t.state == ThreadState.PARKED_IN_FAULT ? t.faultAddress : -1;
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock: lets threads at a boundary run again; those parked in a fault stay so until woken. */
    private void resumeThreads() {
        freezeRequested = false;
        for (EmulatedThread t : threads) {
            if (t.state == ThreadState.FROZEN) {
                t.state = t.state.checkTransition(ThreadState.RUNNING, t.tid());
            }
            t.releaseClaim();
        }
        resume.signalAll();
    }

    /** Under the lock: wakes the control threads once every thread is stopped one way or another. */
    private void signalIfAllStopped() {
        if (allThreads(ThreadState::isStopped)) {
            stopped.signalAll();
        }
    }

    private void wakePacedThreads() {
        for (EmulatedThread t : threads) {
            Thread j = t.javaThread();
            if (j != null) {
                LockSupport.unpark(j);
            }
        }
    }

    private void awaitAll(java.util.function.Predicate<ThreadState> done) {
        while (!allThreads(done)) {
            try {
                stopped.await(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("process " + pid + ": interrupted waiting for threads " + describeThreads(), e);
            }
        }
    }

    private boolean allThreads(java.util.function.Predicate<ThreadState> p) {
        for (EmulatedThread t : threads) {
            if (!p.test(t.state)) {
                return false;
            }
        }
        return true;
    }

    private String describeThreads() {
        StringBuilder b = new StringBuilder();
        for (EmulatedThread t : threads) {
            b.append(b.isEmpty() ? "" : ", ").append(t.tid()).append('=').append(t.state).append('@').append(t.steps());
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return "process " + pid + " (" + workload.spec() + ", " + threads.size() + " threads)";
    }
}
