package dev.pagehop.workload;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A workload's view of one step of one thread: its registers, loads through the MMU, and
 * buffered effects (stores and address-space calls).
 *
 * <p>A step is "loads, then effects": every load comes before the first effect (a load after
 * one fails with {@link IllegalStateException}), and the effects are applied in order by
 * {@link #commit()} once the step has returned. This is what makes a step restartable the way a
 * faulting instruction is: a thread parked in a userfault during a load has changed nothing
 * and restarts the step from its old registers; one parked during the effects has its
 * registers already advanced and the remaining effects ({@link #pendingOps()}) carried along.
 *
 * <p>Single-threaded: owned by the thread it steps. Allocation-free in steady state.
 */
public final class StepContext {
    private final MemoryManager mm;
    private final long pageSize;
    private final int pageShift;
    private final int threadIndex;
    private CpuState cpu;

    private int[] kinds = new int[16];
    private long[] addrs = new long[16];
    private long[] lens = new long[16];
    private long[] vals = new long[16];
    private long[] args = new long[16];
    private int size;
    private int next;
    /** Index of the effect being applied, or -1 outside {@link #commit()}. */
    private int applying = -1;

    private Runnable afterEffect;

    private long stepBytes;
    private long stepPages;
    private long lastPage = -1;

    public StepContext(MemoryManager mm, int threadIndex) {
        this.mm = mm;
        this.pageSize = mm.pageSize();
        this.pageShift = Long.numberOfTrailingZeros(pageSize);
        this.threadIndex = threadIndex;
    }

    /**
     * Runs {@code hook} after each effect is applied and before the next one: the process model
     * uses it to hold a thread whose userfault was resolved while its process was frozen.
     */
    public void setAfterEffect(Runnable hook) {
        this.afterEffect = hook;
    }

    /** Starts a step on {@code registers}, which the workload updates in place. */
    public void begin(CpuState registers) {
        if (next < size) {
            throw new IllegalStateException("thread " + threadIndex + ": a new step begins with "
                    + (size - next) + " effects of the last one not applied");
        }
        this.cpu = registers;
        size = 0;
        next = 0;
        stepBytes = 0;
        stepPages = 0;
        lastPage = -1;
    }

    public CpuState cpu() {
        return cpu;
    }

    /** Index of this thread in its process (0 for the main thread). */
    public int threadIndex() {
        return threadIndex;
    }

    public long pageSize() {
        return pageSize;
    }

    // --- direct-memory workloads ---------------------------------------------------------------

    private boolean direct;

    /** Set by the runner for a {@link Workload#directMemory()} workload. */
    public void setDirect(boolean enabled) {
        this.direct = enabled;
    }

    /**
     * The memory manager itself, for {@link Workload#directMemory()} workloads only: a buffered
     * workload reaching around its effects would break the restart rule, so it is refused.
     */
    public MemoryManager memory() {
        if (!direct) {
            throw new IllegalStateException("thread " + threadIndex
                    + ": a buffered workload loads through its step context and writes through effects; "
                    + "only a direct-memory workload gets the memory manager");
        }
        return mm;
    }

    /**
     * What a direct-memory workload may ask of the process it runs in: more threads, and waking
     * one that idles (a guest kernel's clone and futex, for instance).
     */
    public interface Threads {
        /**
         * Adds a thread to the process that starts at {@code registers} at its first step (frozen
         * first if the process is freezing); returns its index.
         */
        int spawn(CpuState registers);

        /** Lets the thread of {@code threadIndex} run a step if it idles, or its next idle return at once. */
        void wake(int threadIndex);

        /** See {@link StepContext#lockWaitBegins()}. */
        void lockWaitBegins();

        /** See {@link StepContext#lockWaitEnds()}. */
        void lockWaitEnds();
    }

    private Threads threads;
    private boolean idle;

    /** Set by the runner: how the step reaches the process's threads. */
    public void setThreads(Threads threads) {
        this.threads = threads;
    }

    /** Adds a thread running {@code registers} to the process (direct-memory workloads only); returns its index. */
    public int spawnThread(CpuState registers) {
        return threads().spawn(registers);
    }

    /** Wakes the thread of {@code threadIndex} if it idles (direct-memory workloads only). */
    public void wakeThread(int threadIndex) {
        threads().wake(threadIndex);
    }

    private Threads threads() {
        memory(); // the same rule: only a direct-memory workload reaches beyond its step
        if (threads == null) {
            throw new IllegalStateException("thread " + threadIndex + ": this step runs outside a process; no threads to spawn or wake");
        }
        return threads;
    }

    /**
     * The thread is about to wait, mid-step, for a lock another thread of the process holds (a
     * guest kernel's lock, an atomics lock). That thread may be asleep in a userfault with it,
     * so this one counts as stopped, as if asleep in a fault itself, until
     * {@link #lockWaitEnds()}; a freeze does not wait for it. The step must not have changed
     * anything an image records since its last fault-safe point (the registers of the
     * instruction in progress are in place). Outside a process (no threads) it does nothing.
     */
    public void lockWaitBegins() {
        if (threads != null) {
            threads.lockWaitBegins();
        }
    }

    /**
     * The lock is taken. If the process froze meanwhile, the thread holds here, before doing
     * anything under the lock, until thaw.
     */
    public void lockWaitEnds() {
        if (threads != null) {
            threads.lockWaitEnds();
        }
    }

    /**
     * Declares that this thread has nothing to do until another one wakes it (a futex wait, an
     * exited thread): after this step it sleeps at its step boundary, where a freeze finds it
     * stopped, until {@link #wakeThread} names it. Its next step must look again whether it can
     * run: a wake-up may be spurious.
     */
    public void idle() {
        idle = true;
    }

    /** Runner side: whether the step asked to idle; clears the request. */
    public boolean takeIdle() {
        boolean was = idle;
        idle = false;
        return was;
    }

    /** Adds writes a direct-memory step made to this step's counters. */
    public void countWrite(long bytes, long pages) {
        stepBytes += bytes;
        stepPages += pages;
    }

    /**
     * In a direct-memory step, once the instruction whose access can fault has completed and its
     * registers are in place: lets the process hold the thread here if that fault was resolved
     * (and the access landed) while the process was frozen, so an image taken meanwhile resumes
     * after the instruction instead of repeating it.
     */
    public void checkpoint() {
        if (afterEffect != null) {
            afterEffect.run();
        }
    }

    // --- loads ------------------------------------------------------------------------------

    public int load8(long addr) {
        checkLoad(addr);
        return mm.load8(addr);
    }

    public int load16(long addr) {
        checkLoad(addr);
        return mm.load16(addr);
    }

    public int load32(long addr) {
        checkLoad(addr);
        return mm.load32(addr);
    }

    public long load64(long addr) {
        checkLoad(addr);
        return mm.load64(addr);
    }

    private void checkLoad(long addr) {
        if (size > 0) {
            throw new IllegalStateException(String.format(
                    "thread %d: load at 0x%x after %d buffered effects in one step; a step loads first, then writes",
                    threadIndex, addr, size));
        }
    }

    // --- buffered effects -------------------------------------------------------------------

    public void store8(long addr, long value) {
        add(PendingOp.Kind.STORE, addr, 1, value, 0);
    }

    public void store16(long addr, long value) {
        add(PendingOp.Kind.STORE, addr, 2, value, 0);
    }

    public void store32(long addr, long value) {
        add(PendingOp.Kind.STORE, addr, 4, value, 0);
    }

    public void store64(long addr, long value) {
        add(PendingOp.Kind.STORE, addr, 8, value, 0);
    }

    /** mmap(addr, len, prot, flags | MAP_FIXED) of anonymous memory. */
    public void mmapFixed(long addr, long len, int prot, int flags) {
        add(PendingOp.Kind.MMAP_FIXED, addr, len, prot, flags | MapFlags.FIXED);
    }

    public void munmap(long addr, long len) {
        add(PendingOp.Kind.MUNMAP, addr, len, 0, 0);
    }

    public void mprotect(long addr, long len, int prot) {
        add(PendingOp.Kind.MPROTECT, addr, len, prot, 0);
    }

    public void mremapFixed(long oldAddr, long oldLen, long newLen, long newAddr) {
        add(PendingOp.Kind.MREMAP_FIXED, oldAddr, oldLen, newLen, newAddr);
    }

    public void madvise(long addr, long len, int advice) {
        add(PendingOp.Kind.MADVISE, addr, len, advice, 0);
    }

    private void add(PendingOp.Kind kind, long addr, long len, long value, long arg) {
        if (applying >= 0) {
            throw new IllegalStateException("thread " + threadIndex + ": effect added while applying effects");
        }
        if (size == kinds.length) {
            int n = size * 2;
            kinds = Arrays.copyOf(kinds, n);
            addrs = Arrays.copyOf(addrs, n);
            lens = Arrays.copyOf(lens, n);
            vals = Arrays.copyOf(vals, n);
            args = Arrays.copyOf(args, n);
        }
        kinds[size] = kind.code();
        addrs[size] = addr;
        lens[size] = len;
        vals[size] = value;
        args[size] = arg;
        size++;
    }

    // --- applying ---------------------------------------------------------------------------

    /**
     * Applies the buffered effects in order. If one throws (SIGSEGV, an errno), the effects
     * before it stay applied and {@link #pendingOps()} starts at the one that failed.
     */
    public void commit() {
        try {
            while (next < size) {
                applying = next;
                apply(next);
                if (afterEffect != null) {
                    afterEffect.run();
                }
                next++;
            }
        } finally {
            applying = -1;
        }
    }

    private void apply(int i) {
        long addr = addrs[i];
        long len = lens[i];
        long value = vals[i];
        switch (kinds[i]) {
            case 1 -> {
                switch ((int) len) {
                    case 1 -> mm.store8(addr, value);
                    case 2 -> mm.store16(addr, value);
                    case 4 -> mm.store32(addr, value);
                    default -> mm.store64(addr, value);
                }
                stepBytes += len;
                long page = addr >>> pageShift;
                if (page != lastPage) {
                    stepPages++;
                    lastPage = page;
                }
            }
            case 2 -> mm.mmap(addr, len, (int) value, (int) args[i]);
            case 3 -> mm.munmap(addr, len);
            case 4 -> mm.mprotect(addr, len, (int) value);
            case 5 -> mm.mremap(addr, len, value, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, args[i]);
            case 6 -> mm.madvise(addr, len, (int) value);
            default -> throw new IllegalStateException("effect kind " + kinds[i] + " unknown");
        }
    }

    /** True while {@link #commit()} is applying effects (a fault now leaves the step half applied). */
    public boolean applying() {
        return applying >= 0;
    }

    /** The effects not applied yet, from the one being applied (or the next) to the last. */
    public List<PendingOp> pendingOps() {
        List<PendingOp> out = new ArrayList<>(size - next);
        for (int i = next; i < size; i++) {
            out.add(new PendingOp(PendingOp.Kind.ofCode(kinds[i]), addrs[i], lens[i], vals[i], args[i]));
        }
        return out;
    }

    /** Replaces the buffer with effects saved by another process (restore), to be committed next. */
    public void loadPending(List<PendingOp> ops) {
        size = 0;
        next = 0;
        stepBytes = 0;
        stepPages = 0;
        lastPage = -1;
        for (PendingOp op : ops) {
            add(op.kind(), op.address(), op.length(), op.value(), op.arg());
        }
    }

    public int pendingCount() {
        return size - next;
    }

    /** Bytes stored by the effects applied in this step so far. */
    public long stepBytes() {
        return stepBytes;
    }

    /** Pages stored to in this step so far (changes of target page in store order). */
    public long stepPages() {
        return stepPages;
    }
}
