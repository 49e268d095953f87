package dev.pagehop.proc;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.SegmentationFault;
import dev.pagehop.uffd.FaultWait;
import dev.pagehop.workload.Pacer;
import dev.pagehop.workload.PendingOp;
import dev.pagehop.workload.StepContext;
import dev.pagehop.workload.WorkloadFailure;
import dev.pagehop.workload.WorkloadStats;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * One thread of an {@link EmulatedProcess}: its registers, its step count and its own Java
 * thread stepping the workload. Registers and pending effects may be read only while the
 * process is not running (frozen, stopped or never started); the counters any time.
 */
public final class EmulatedThread {
    private final EmulatedProcess process;
    private final int tid;
    private final int index;
    private final StepContext ctx;
    private final Pacer pacer = new Pacer();
    private final boolean direct;
    /** Registers at the last step boundary, advanced when a step's loads are done. */
    private CpuState committed;
    /** The registers the current step works on; swapped with {@link #committed} when the loads are done. */
    private CpuState scratch = new CpuState();
    private Thread javaThread;

    // Guarded by the process lock.
    ThreadState state = ThreadState.NEW;
    long faultAddress;
    /** Set (on this thread) when its userfault was resolved while the process was frozen. */
    boolean gateArmed;
    /** The thread waits at its fault gate: its resolved faulting access has landed. */
    boolean atGate;
    /** Another thread woke this one (see {@link StepContext#wakeThread}) since it last went idle. */
    boolean wakePermit;
    long faults;
    long blockedNanos;
    long faultSinceNanos;

    // Single writer (this thread), read by anyone: published with release stores, which cost
    // no fence on the step path (a volatile store would, three times per step).
    private long steps;
    private long bytesWritten;
    private long pagesWritten;
    /** Steps taken in another process before a restore. */
    private final long stepsBefore;
    /**
     * Yield points: when there are at least as many threads as cores, a thread yields the CPU at a step boundary
     * every {@link #YIELD_EVERY_STEPS} steps (about 30 µs of work), marking itself
     * {@link #YIELD_AT_BOUNDARY} meanwhile; a freezer may claim it there (CAS to
     * {@link #YIELD_CLAIMED}) and count it frozen without waiting for it to get a core back, as
     * the cgroup freezer does for a task that is not running. A thread preempted mid-step still
     * has to run to its boundary.
     */
    static final int YIELD_RUNNING = 0;
    static final int YIELD_AT_BOUNDARY = 1;
    static final int YIELD_CLAIMED = 2;
    static final long YIELD_EVERY_STEPS = 64;
    private volatile int yieldState;
    private static final VarHandle YIELD;
    private static final VarHandle STEPS;
    private static final VarHandle BYTES;
    private static final VarHandle PAGES;

    static {
        try {
            var l = MethodHandles.lookup();
            STEPS = l.findVarHandle(EmulatedThread.class, "steps", long.class);
            YIELD = l.findVarHandle(EmulatedThread.class, "yieldState", int.class);
            BYTES = l.findVarHandle(EmulatedThread.class, "bytesWritten", long.class);
            PAGES = l.findVarHandle(EmulatedThread.class, "pagesWritten", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    EmulatedThread(EmulatedProcess process, int tid, int index, CpuState initial, long steps, List<PendingOp> pending) {
        this.process = process;
        this.tid = tid;
        this.index = index;
        this.committed = initial.copy();
        STEPS.setRelease(this, steps);
        this.stepsBefore = steps;
        this.ctx = new StepContext(process.mm(), index);
        if (!pending.isEmpty()) {
            ctx.loadPending(pending);
        }
        direct = process.workload().directMemory();
        ctx.setAfterEffect(this::gate);
        ctx.setDirect(direct);
        ctx.setThreads(new StepContext.Threads() {
            @Override
            public int spawn(CpuState registers) {
                return process.spawnThread(EmulatedThread.this, registers);
            }

            @Override
            public void wake(int threadIndex) {
                process.wakeThread(EmulatedThread.this, threadIndex);
            }

            @Override
            public void lockWaitBegins() {
                process.lockWaitBegins(EmulatedThread.this);
            }

            @Override
            public void lockWaitEnds() {
                process.lockWaitEnds(EmulatedThread.this);
            }
        });
    }

    public int tid() {
        return tid;
    }

    /** 0 for the main thread (whose tid is the pid). */
    public int index() {
        return index;
    }

    public ThreadState state() {
        return process.threadState(this);
    }

    /** Steps completed: the thread's progress counter, carried across save and restore. */
    public long steps() {
        return (long) STEPS.getAcquire(this);
    }

    public WorkloadStats stats(long nanos) {
        return new WorkloadStats(steps(), (long) BYTES.getAcquire(this), (long) PAGES.getAcquire(this), nanos, stepsBefore);
    }

    /** A copy of the registers at the point the thread stopped; fails while the process runs. */
    public CpuState cpu() {
        process.requireQuiescent("read the registers of thread " + tid);
        return committed.copy();
    }

    /** Effects of a step interrupted by a userfault, to apply before the next step. */
    public List<PendingOp> pendingOps() {
        process.requireQuiescent("read the pending effects of thread " + tid);
        return ctx.pendingOps();
    }

    /** The address of the userfault the thread is parked in, or -1. */
    public long faultAddress() {
        return process.threadFault(this);
    }

    void start() {
        javaThread = Thread.ofPlatform().name("pid" + process.pid() + "-tid" + tid).daemon(true).unstarted(this::run);
        javaThread.start();
    }

    Thread javaThread() {
        return javaThread;
    }

    /**
     * The id of the host thread that runs this one (what a userfaultfd message's ptid names under
     * UFFD_FEATURE_THREAD_ID), or -1 before the thread first started.
     */
    public long hostThreadId() {
        Thread t = javaThread;
        return t == null ? -1 : t.threadId();
    }

    /** Freezer side: claims the thread if it sits yielded at a step boundary. */
    boolean claimAtBoundary() {
        return YIELD.compareAndSet(this, YIELD_AT_BOUNDARY, YIELD_CLAIMED);
    }

    /** Thaw side: a claimed thread may run again when it comes back from its yield. */
    void releaseClaim() {
        YIELD.compareAndSet(this, YIELD_CLAIMED, YIELD_RUNNING);
    }

    /** The registers and pending effects to save: at the last boundary, or mid-step when parked applying effects. */
    CpuState committedUnsafe() {
        return committed;
    }

    List<PendingOp> pendingUnsafe() {
        return ctx.pendingOps();
    }

    private void run() {
        FaultWait.install(new FaultWait.Listener() {
            @Override
            public void sleeping(long address, boolean write) {
                process.faultSleeping(EmulatedThread.this, address);
            }

            @Override
            public void woken(long address) {
                process.faultWoken(EmulatedThread.this);
            }
        });
        try {
            loop();
        } catch (Exited e) {
            // Killed (or another thread's signal ended the process) between two effects of a step.
        } catch (SegmentationFault f) {
            process.threadDied(this, StopReason.signal(tid, f));
        } catch (WorkloadFailure f) {
            process.threadDied(this, StopReason.workloadFailure(tid, f));
        } catch (ErrnoException e) {
            process.threadDied(this, StopReason.syscallFailure(tid, e));
        } catch (RuntimeException | Error e) {
            process.threadDied(this, StopReason.internalError(tid, e));
        } finally {
            FaultWait.uninstall();
            process.threadExited(this);
        }
    }

    private void loop() {
        var ticker = process.ticker();
        var workload = process.workload();
        boolean direct = workload.directMemory();
        boolean yieldPoints = process.yieldPoints();
        long lastYieldStep = -1;
        // One clock read per step: a step starts when the previous one ended, unless it waited.
        long now = ticker.nanoTime();
        while (true) {
            if (process.mustPause(steps)) {
                if (!process.pauseAtBoundary(this)) {
                    return;
                }
                now = ticker.nanoTime();
            }
            if (ctx.pendingCount() > 0) {
                // Effects of a step begun in another process (restore): finish that step first.
                ctx.commit();
                account();
                continue;
            }
            if (yieldPoints && steps % YIELD_EVERY_STEPS == 0 && steps != lastYieldStep) {
                lastYieldStep = steps;
                if (YIELD.compareAndSet(this, YIELD_RUNNING, YIELD_AT_BOUNDARY)) {
                    ticker.yieldCpu();
                    if (!YIELD.compareAndSet(this, YIELD_AT_BOUNDARY, YIELD_RUNNING)) {
                        // Claimed by a freezer while off the CPU (or released again by a thaw):
                        // the boundary check decides.
                        now = ticker.nanoTime();
                        continue;
                    }
                }
            }
            long start = pacer.earliestStart(now, process.rateLimit(), process.throttlePercent());
            if (start > now) {
                ticker.parkUntil(start);
                now = ticker.nanoTime();
                continue;
            }
            if (direct) {
                // Registers change in place, always at an instruction boundary (Workload#directMemory).
                ctx.begin(committed);
                workload.step(ctx);
                STEPS.setRelease(this, steps + 1);
            } else {
                scratch.copyFrom(committed);
                ctx.begin(scratch);
                workload.step(ctx);
                gate();
                CpuState done = scratch;
                scratch = committed;
                committed = done;
                STEPS.setRelease(this, steps + 1);
            }
            ctx.commit();
            account();
            if (ctx.takeIdle()) {
                // Nothing to run until another thread wakes this one: sleep at the boundary,
                // where a freeze counts the thread stopped.
                process.idleAtBoundary(this);
                now = ticker.nanoTime();
                continue;
            }
            long end = ticker.nanoTime();
            pacer.afterStep(now, end, ctx.stepPages(), ctx.stepBytes(), process.throttlePercent());
            now = end;
        }
    }

    /**
     * Holds the thread, still counted as parked in its fault, if that fault was resolved while
     * the process was frozen: after the faulting access and before anything the image records
     * (registers, step count, next effect) changes.
     */
    private void gate() {
        if (gateArmed) {
            gateArmed = false;
            process.passFaultGate(this);
        }
        // A buffered step ends at once when the process is killed, as SIGKILL ends a task between
        // two instructions: what it had not stored yet is never stored (a thread held at its fault
        // gate while frozen would otherwise finish its step after the kill). A direct-memory step
        // may hold a lock of its process here, so it runs to its boundary instead.
        if (!direct && process.exitRequested()) {
            throw new Exited();
        }
    }

    /** Unwinds a buffered step of a thread whose process is exiting; carries no stack trace. */
    private static final class Exited extends RuntimeException {
        Exited() {
            super("process exiting", null, false, false);
        }
    }

    private void account() {
        BYTES.setRelease(this, bytesWritten + ctx.stepBytes());
        PAGES.setRelease(this, pagesWritten + ctx.stepPages());
    }

    @Override
    public String toString() {
        return "thread " + tid + " (" + steps + " steps)";
    }
}
