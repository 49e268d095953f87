package dev.pagehop.syscall;

import dev.pagehop.cpu.CodeCache;
import dev.pagehop.cpu.CpuState;
import dev.pagehop.cpu.GuestSignal;
import dev.pagehop.cpu.Interpreter;
import dev.pagehop.cpu.SupervisorCall;
import dev.pagehop.elf.ElfImage;
import dev.pagehop.elf.ElfLoader;
import dev.pagehop.mm.Errno;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.SegmentationFault;
import dev.pagehop.workload.StepContext;
import dev.pagehop.workload.Workload;
import dev.pagehop.workload.WorkloadSpec;
import dev.pagehop.workload.Workloads;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Workload kind {@code a64}: a static AArch64 ELF program run by the interpreter as the
 * process's CPU, e.g. {@code a64:elf=/path/dirtier,argv=dirtier+2+3@7}.
 *
 * <p>As the process model requires, everything about the computation lives in the threads'
 * registers and in emulated memory: the kernel's own state for the program (console output,
 * exit status, the getrandom counter, the count of unknown syscalls, the syscall count the
 * guest clock derives from, and the thread table) is in a kernel area mapped at
 * {@link #KERNEL_AREA}, so it migrates with the memory. This object only caches decoded code
 * per address space.
 *
 * <h2>Threads</h2>
 * The process is spawned with one thread, the program's main thread. Each {@code clone} with
 * CLONE_VM | CLONE_THREAD (what pthread_create makes) adds a process thread
 * ({@link StepContext#spawnThread}) with its own registers and vCPU; guest thread index i is
 * process thread index i, guest tid {@link LinuxGuest#PID} + i. The kernel area keeps a slot
 * per thread: its state (runnable, waiting on a futex, exited), clear_child_tid, the robust
 * list head and the futex address it waits on. A thread that waits on a futex or has exited
 * idles at its step boundary ({@link StepContext#idle}): a freeze finds it stopped, the image
 * lists it with its registers just past the {@code svc}, and on the target its slot still says
 * it waits, so a FUTEX_WAKE there (which marks the slot runnable, then wakes the thread) lets it
 * go on. Futex waiters therefore survive a freeze and a migration without any state outside
 * memory. System calls run under one lock per address space (the big kernel lock of old): the
 * futex compare-and-block and the wake are atomic with respect to each other, and so are the
 * kernel area's counters. A thread that has to wait for that lock, or for the atomics lock, is
 * counted stopped while it waits ({@link StepContext#lockWaitBegins}): the holder may be asleep
 * in a userfault with it, and a freeze must not wait for that fault. An exited thread stays a process thread that idles until the
 * process ends (the kernel area keeps its slot; slots are not reused).
 *
 * <p>A direct-memory workload ({@link #directMemory()}): a step runs instructions on the thread's
 * registers until one writes memory or enters the kernel ({@link Interpreter#step}). The
 * registers are written back just before that instruction, so while its access is parked in a
 * userfault the thread's saved registers are the boundary of the writing instruction (or, for a
 * fault in a fetch or a load, the start of the step: only registers changed since), and the
 * target re-executes it. If the fault is resolved while the process is frozen, the access lands
 * on the source and the thread holds at {@link StepContext#checkpoint()} with its registers
 * already past the instruction, so an image taken then does not repeat it: a read-modify-write
 * (LSE atomic, CAS, STXR) takes effect exactly once either way. System calls are ordered so that
 * re-executing one whose stores only partly landed does the same thing again: clone writes the
 * thread count last and adds the thread after it, a write's bytes go before the console length.
 * Each step that wrote memory counts one written page (an estimate for the process's rate
 * control: the interpreter does not count bytes per store).
 *
 * <p>After exit_group or a fatal signal the main thread's steps do nothing (so a step count can
 * still be waited for) and the other threads idle; {@link #outcome} reports how it ended.
 * Parameters: {@code elf} (path, read only at spawn), {@code argv} and {@code env} ('+'
 * separated), {@code maxStep} (instructions per step at most, default 1000).
 */
public final class ElfWorkload implements Workload {
    public static final String KIND = "a64";

    /** The kernel area: 1 MiB at the top of the lower half of the 48-bit space, 64K-aligned. */
    public static final long KERNEL_AREA = 0x0000_7FFF_FF00_0000L;
    static final long KERNEL_AREA_BYTES = 1L << 20;
    static final long MAGIC = 0x3436414b_48474150L; // "PAGHKA64"
    static final int OFF_MAGIC = 0;
    static final int OFF_STATE = 8;
    static final int OFF_STATUS = 16;
    static final int OFF_CONSOLE_LENGTH = 24;
    static final int OFF_RANDOM_COUNTER = 32;
    static final int OFF_UNKNOWN_SYSCALLS = 40;
    static final int OFF_SYSCALLS = 48;
    static final int OFF_THREAD_COUNT = 56;
    /** The thread table: {@link #MAX_THREADS} slots of {@link #SLOT_BYTES}. */
    static final int OFF_THREADS = 4096;
    static final int SLOT_BYTES = 32;
    static final int SLOT_STATE = 0;
    static final int SLOT_CLEAR_CHILD_TID = 8;
    static final int SLOT_ROBUST_LIST = 16;
    static final int SLOT_FUTEX = 24;
    /** Guest threads a program may create over its life (slots are not reused): one 4 KiB table. */
    static final int MAX_THREADS = 128;
    static final long THREAD_RUNNABLE = 1;
    static final long THREAD_FUTEX_WAIT = 2;
    static final long THREAD_EXITED = 3;
    static final int OFF_CONSOLE = OFF_THREADS + MAX_THREADS * SLOT_BYTES;
    static final long CONSOLE_CAPACITY = KERNEL_AREA_BYTES - OFF_CONSOLE;
    static final long RUNNING = 0;
    static final long EXITED = 1;
    static final long KILLED = 2;
    static final int CLONE_VM = 0x100;
    static final int CLONE_THREAD = 0x10000;
    static final int CLONE_SETTLS = 0x80000;
    static final int CLONE_PARENT_SETTID = 0x100000;
    static final int CLONE_CHILD_CLEARTID = 0x200000;
    static final int CLONE_CHILD_SETTID = 0x1000000;
    /**
     * The guest clock's epoch. The clock advances one microsecond per system call: a function
     * of the computation alone, so a migrated program reads the same times it would have read.
     */
    static final long EPOCH_NS = 1_700_000_000_000_000_000L;

    private final WorkloadSpec spec;
    private final long maxStep;
    private final Map<MemoryManager, Runtime> runtimes = Collections.synchronizedMap(new WeakHashMap<>());

    public ElfWorkload(WorkloadSpec spec) {
        if (!KIND.equals(spec.kind())) {
            throw new IllegalArgumentException("spec kind '" + spec.kind() + "' is not " + KIND);
        }
        this.spec = spec;
        this.maxStep = Long.parseLong(spec.params().getOrDefault("maxStep", "1000"));
        if (maxStep <= 0) {
            throw new IllegalArgumentException("a64 workload: maxStep must be positive, got " + maxStep);
        }
    }

    /** Makes {@code a64} known to {@link Workloads} (idempotent). */
    public static void registerKind() {
        synchronized (ElfWorkload.class) {
            if (!Workloads.kinds().contains(KIND)) {
                Workloads.register(KIND, ElfWorkload::new);
            }
        }
    }

    @Override
    public WorkloadSpec spec() {
        return spec;
    }

    @Override
    public void setUp(MemoryManager mm, List<CpuState> threads) {
        if (threads.size() != 1) {
            throw new IllegalArgumentException("a64 workload starts with one thread (the program's main thread; "
                    + "the program's clone adds the others); got " + threads.size() + " threads");
        }
        String elf = spec.params().get("elf");
        if (elf == null) {
            throw new IllegalArgumentException("a64 workload needs elf=<path of a static AArch64 executable>");
        }
        byte[] file;
        try {
            file = Files.readAllBytes(Path.of(elf));
        } catch (IOException e) {
            throw new UncheckedIOException("a64 workload: cannot read " + elf, e);
        }
        List<String> argv = split(spec.params().getOrDefault("argv", Path.of(elf).getFileName().toString()));
        List<String> env = split(spec.params().getOrDefault("env", ""));
        byte[] random = new byte[16];
        new java.util.SplittableRandom(spec.seed()).nextBytes(random);
        ElfLoader.Loaded loaded = ElfLoader.load(mm, ElfImage.parse(file), argv, env, random);
        mm.mmap(KERNEL_AREA, KERNEL_AREA_BYTES, Prot.READ | Prot.WRITE,
                MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
        mm.store64(KERNEL_AREA + OFF_MAGIC, MAGIC);
        mm.store64(KERNEL_AREA + OFF_THREAD_COUNT, 1);
        mm.store64(slot(0) + SLOT_STATE, THREAD_RUNNABLE);
        threads.get(0).copyFrom(loaded.initialState());
    }

    private static List<String> split(String joined) {
        List<String> out = new ArrayList<>();
        for (String s : joined.split("\\+")) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }

    static long slot(int index) {
        return KERNEL_AREA + OFF_THREADS + (long) index * SLOT_BYTES;
    }

    @Override
    public boolean directMemory() {
        return true;
    }

    @Override
    public void step(StepContext ctx) {
        MemoryManager mm = ctx.memory();
        int index = ctx.threadIndex();
        if (mm.load64(KERNEL_AREA + OFF_STATE) != RUNNING) {
            if (index != 0) {
                ctx.idle();
            }
            return;
        }
        if (mm.load64(slot(index) + SLOT_STATE) != THREAD_RUNNABLE) {
            ctx.idle(); // waits on a futex (woken by whoever marks its slot runnable) or has exited
            return;
        }
        Vcpu v = runtimes.computeIfAbsent(mm, Runtime::new).vcpu(index);
        v.ctx = ctx;
        try {
            v.cpu.step(ctx.cpu(), maxStep, ctx::checkpoint);
            if (v.cpu.lastStepHadSideEffect()) {
                ctx.countWrite(8, 1);
            }
        } catch (GuestSignal e) {
            // The process model ends a process on a signal it receives as SegmentationFault.
            throw new SegmentationFault(e.signal(), 0, e.pc(), false, e.getMessage());
        } finally {
            v.ctx = null;
        }
    }

    /** How the program ended, read from its address space; null while it runs. */
    public static GuestOutcome outcome(MemoryManager mm) {
        long state = mm.load64(KERNEL_AREA + OFF_STATE);
        int status = (int) mm.load64(KERNEL_AREA + OFF_STATUS);
        if (state == EXITED) {
            return GuestOutcome.exited(status);
        }
        if (state == KILLED) {
            return GuestOutcome.killed(status, "signal " + status);
        }
        return null;
    }

    /** What the program wrote to stdout and stderr, in order, read from its address space. */
    public static String console(MemoryManager mm) {
        byte[] b = new byte[(int) mm.load64(KERNEL_AREA + OFF_CONSOLE_LENGTH)];
        mm.read(KERNEL_AREA + OFF_CONSOLE, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Unknown syscalls the program made (each answered -ENOSYS). */
    public static long unknownSyscalls(MemoryManager mm) {
        return mm.load64(KERNEL_AREA + OFF_UNKNOWN_SYSCALLS);
    }

    /** Threads the program has had, the main thread included, read from its address space. */
    public static int threadCount(MemoryManager mm) {
        return (int) mm.load64(KERNEL_AREA + OFF_THREAD_COUNT);
    }

    /**
     * Instructions the program's threads completed in {@code mm} since this workload object
     * first stepped there (a counter of the vCPUs, not migrated). Exact while the process is
     * frozen; a lower bound while it runs.
     */
    public long instructionsRetired(MemoryManager mm) {
        Runtime rt = runtimes.get(mm);
        if (rt == null) {
            return 0;
        }
        long n = 0;
        for (Vcpu v : rt.vcpus.values()) {
            n += v.cpu.instructionsRetired();
        }
        return n;
    }

    /** Per address space: the vCPUs and their decoded code, rebuilt from nothing on a new host. */
    private final class Runtime {
        final MemoryManager mm;
        /** The big kernel lock: every system call of every thread runs under it. */
        final ReentrantLock kernel = new ReentrantLock();
        /** Serialises read-modify-write atomics among the vCPUs. */
        final ReentrantLock atomics = new ReentrantLock();
        final AtomicLong codeEpoch = new AtomicLong();
        final Map<Integer, Vcpu> vcpus = new ConcurrentHashMap<>();
        final GuestClock clock = new GuestClock() {
            @Override
            public long realtimeNs() {
                return EPOCH_NS + monotonicNs();
            }

            @Override
            public long monotonicNs() {
                return mm.load64(KERNEL_AREA + OFF_SYSCALLS) * 1000;
            }
        };

        Runtime(MemoryManager mm) {
            if (mm.load64(KERNEL_AREA + OFF_MAGIC) != MAGIC) {
                throw new IllegalStateException(String.format(
                        "a64 workload: no kernel area at 0x%x in this address space (magic 0x%x)", KERNEL_AREA,
                        mm.load64(KERNEL_AREA + OFF_MAGIC)));
            }
            this.mm = mm;
        }

        Vcpu vcpu(int index) {
            Vcpu v = vcpus.get(index);
            return v != null ? v : vcpus.computeIfAbsent(index, i -> new Vcpu(this, i));
        }
    }

    /** One guest thread's vCPU and its view of the kernel. */
    private final class Vcpu implements SupervisorCall, SyscallTable.Host {
        final Runtime rt;
        final MemoryManager mm;
        final int index;
        final long slot;
        final CodeCache code;
        final Interpreter cpu;
        /** The step in progress (set by {@link #step}): how a syscall reaches the process's threads. */
        StepContext ctx;

        Vcpu(Runtime rt, int index) {
            this.rt = rt;
            this.mm = rt.mm;
            this.index = index;
            this.slot = slot(index);
            this.code = new CodeCache(mm, rt.codeEpoch);
            this.cpu = new Interpreter(mm, this, code, rt.clock::monotonicNs, rt.atomics);
            // A vCPU waiting for a lock whose holder sleeps in a userfault (its store to a page
            // still missing on a post-copy target, say) must not keep the process from freezing.
            this.cpu.setLockWait(new Interpreter.LockWait() {
                @Override
                public void begins() {
                    ctx.lockWaitBegins();
                }

                @Override
                public void ends() {
                    ctx.lockWaitEnds();
                }
            });
        }

        /** Takes the kernel lock, counted as stopped while another thread holds it. */
        private void lockKernel() {
            if (rt.kernel.tryLock()) {
                return;
            }
            ctx.lockWaitBegins();
            try {
                rt.kernel.lockInterruptibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("a64 workload: thread " + index
                        + " interrupted waiting for the kernel lock (process killed)", e);
            } finally {
                ctx.lockWaitEnds();
            }
        }

        @Override
        public Outcome call(CpuState s, int immediate) {
            // The interpreter hands over the registers with the PC past the svc. While the call
            // runs they say "at the svc" instead: a thread stopped inside it (asleep in a
            // userfault, or waiting for the kernel lock) is saved to run the call again, which
            // every call here is written to survive; the PC moves past it only once it is done.
            long resume = s.pc();
            s.setPc(resume - 4);
            try {
                return callAt(s, resume);
            } finally {
                s.setPc(resume);
            }
        }

        private Outcome callAt(CpuState s, long resume) {
            lockKernel();
            try {
                if (mm.load64(KERNEL_AREA + OFF_STATE) != RUNNING) {
                    return Outcome.STOP; // another thread ended the program meanwhile
                }
                mm.store64(KERNEL_AREA + OFF_SYSCALLS, mm.load64(KERNEL_AREA + OFF_SYSCALLS) + 1);
                long nr = s.x(8);
                long a0 = s.x(0);
                long result;
                switch ((int) nr) {
                    case Syscalls.EXIT -> {
                        return exitThread(a0 & 0xFF);
                    }
                    case Syscalls.EXIT_GROUP -> {
                        return end(EXITED, a0 & 0xFF);
                    }
                    case Syscalls.KILL, Syscalls.TKILL, Syscalls.TGKILL -> {
                        long sig = nr == Syscalls.TGKILL ? s.x(2) : s.x(1);
                        if (sig != 0) {
                            return end(KILLED, sig);
                        }
                        result = 0;
                    }
                    case Syscalls.CLONE -> result = clone(s, resume, a0, s.x(1), s.x(2), s.x(3), s.x(4));
                    case Syscalls.CLONE3 -> result = -Errno.ENOSYS; // glibc falls back to clone
                    case Syscalls.FUTEX -> {
                        return futex(s, a0, (int) s.x(1), (int) s.x(2));
                    }
                    case Syscalls.SCHED_YIELD, Syscalls.NANOSLEEP, Syscalls.CLOCK_NANOSLEEP -> result = 0;
                    default -> {
                        try {
                            result = SyscallTable.dispatch(this, mm, code, rt.clock, resume - 4, nr, a0, s.x(1), s.x(2),
                                    s.x(3), s.x(4));
                        } catch (dev.pagehop.mm.ErrnoException e) {
                            result = -e.errno();
                        } catch (SegmentationFault e) {
                            result = -Errno.EFAULT;
                        }
                    }
                }
                s.setX(0, result);
                return Outcome.CONTINUE;
            } finally {
                rt.kernel.unlock();
            }
        }

        private Outcome end(long state, long status) {
            mm.store64(KERNEL_AREA + OFF_STATUS, status);
            mm.store64(KERNEL_AREA + OFF_STATE, state);
            return Outcome.STOP;
        }

        /**
         * clone(2) of a thread (CLONE_VM | CLONE_THREAD required: there is no second address
         * space here). Every store comes before the thread count, and the process thread is
         * added after it with no access in between, so a re-executed clone whose stores only
         * partly landed picks the same index and writes the same values.
         */
        private long clone(CpuState s, long resume, long flags, long newSp, long parentTid, long tls, long childTid) {
            int required = CLONE_VM | CLONE_THREAD;
            if ((flags & required) != required) {
                return -Errno.ENOSYS;
            }
            long count = mm.load64(KERNEL_AREA + OFF_THREAD_COUNT);
            if (count >= MAX_THREADS) {
                return -Errno.EAGAIN;
            }
            int child = (int) count;
            int childTidValue = LinuxGuest.PID + child;
            CpuState regs = s.copy();
            regs.setPc(resume);
            regs.setX(0, 0);
            if (newSp != 0) {
                regs.setSp(newSp);
            }
            if ((flags & CLONE_SETTLS) != 0) {
                regs.setTpidrEl0(tls);
            }
            long childSlot = slot(child);
            mm.store64(childSlot + SLOT_CLEAR_CHILD_TID, (flags & CLONE_CHILD_CLEARTID) != 0 ? childTid : 0);
            mm.store64(childSlot + SLOT_ROBUST_LIST, 0);
            mm.store64(childSlot + SLOT_FUTEX, 0);
            mm.store64(childSlot + SLOT_STATE, THREAD_RUNNABLE);
            if ((flags & CLONE_PARENT_SETTID) != 0) {
                mm.store32(parentTid, childTidValue);
            }
            if ((flags & CLONE_CHILD_SETTID) != 0) {
                mm.store32(childTid, childTidValue);
            }
            mm.store64(KERNEL_AREA + OFF_THREAD_COUNT, count + 1);
            int added = ctx.spawnThread(regs);
            if (added != child) {
                throw new IllegalStateException("a64 workload: clone by thread " + index + " made guest thread " + child
                        + " but the process added thread index " + added);
            }
            return childTidValue;
        }

        /** exit(2) of one thread: clear_child_tid and its wake-up (what pthread_join waits for), then idle. */
        private Outcome exitThread(long status) {
            long ctid = mm.load64(slot + SLOT_CLEAR_CHILD_TID);
            if (ctid != 0) {
                try {
                    mm.store32(ctid, 0);
                    wake(ctid, 1);
                } catch (SegmentationFault e) {
                    // As Linux: an unwritable clear_child_tid is ignored at exit.
                }
            }
            mm.store64(slot + SLOT_STATE, THREAD_EXITED);
            if (!anyLive()) {
                return end(EXITED, status);
            }
            ctx.idle();
            return Outcome.STOP;
        }

        private boolean anyLive() {
            long count = mm.load64(KERNEL_AREA + OFF_THREAD_COUNT);
            for (int i = 0; i < count; i++) {
                if (mm.load64(slot(i) + SLOT_STATE) != THREAD_EXITED) {
                    return true;
                }
            }
            return false;
        }

        private Outcome futex(CpuState s, long uaddr, int op, int val) {
            int cmd = op & 0x7F; // without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME
            switch (cmd) {
                case 0, 9 -> { // FUTEX_WAIT, FUTEX_WAIT_BITSET (timeouts are not modelled: waits end on a wake)
                    if ((uaddr & 3) != 0) {
                        s.setX(0, -Errno.EINVAL);
                        return Outcome.CONTINUE;
                    }
                    if (mm.load32(uaddr) != val) {
                        s.setX(0, -Errno.EAGAIN);
                        return Outcome.CONTINUE;
                    }
                    if (!anyOtherRunnable()) {
                        // No thread is left that could wake this one: Linux would hang; report it.
                        return end(KILLED, 9);
                    }
                    mm.store64(slot + SLOT_FUTEX, uaddr);
                    mm.store64(slot + SLOT_STATE, THREAD_FUTEX_WAIT);
                    s.setX(0, 0);
                    ctx.idle();
                    return Outcome.STOP;
                }
                case 1, 10 -> { // FUTEX_WAKE, FUTEX_WAKE_BITSET
                    s.setX(0, wake(uaddr, val));
                    return Outcome.CONTINUE;
                }
                default -> {
                    unknown((long) Syscalls.FUTEX << 16 | cmd, s.pc());
                    s.setX(0, -Errno.ENOSYS);
                    return Outcome.CONTINUE;
                }
            }
        }

        private boolean anyOtherRunnable() {
            long count = mm.load64(KERNEL_AREA + OFF_THREAD_COUNT);
            for (int i = 0; i < count; i++) {
                if (i != index && mm.load64(slot(i) + SLOT_STATE) == THREAD_RUNNABLE) {
                    return true;
                }
            }
            return false;
        }

        /** Marks up to {@code max} waiters on {@code uaddr} runnable, in thread order, then wakes each. */
        private int wake(long uaddr, int max) {
            long count = mm.load64(KERNEL_AREA + OFF_THREAD_COUNT);
            int woken = 0;
            for (int i = 0; i < count && woken < max; i++) {
                long other = slot(i);
                if (mm.load64(other + SLOT_STATE) == THREAD_FUTEX_WAIT && mm.load64(other + SLOT_FUTEX) == uaddr) {
                    mm.store64(other + SLOT_FUTEX, 0);
                    mm.store64(other + SLOT_STATE, THREAD_RUNNABLE);
                    ctx.wakeThread(i);
                    woken++;
                }
            }
            return woken;
        }

        @Override
        public int tid() {
            return LinuxGuest.PID + index;
        }

        @Override
        public long write(int fd, byte[] bytes) {
            long length = mm.load64(KERNEL_AREA + OFF_CONSOLE_LENGTH);
            int n = (int) Math.min(bytes.length, CONSOLE_CAPACITY - length);
            if (n == 0 && bytes.length > 0) {
                return -Errno.ENOSPC;
            }
            // Bytes first, length last: a step interrupted in between writes the same bytes again.
            mm.write(KERNEL_AREA + OFF_CONSOLE + length, n == bytes.length ? bytes : Arrays.copyOf(bytes, n));
            mm.store64(KERNEL_AREA + OFF_CONSOLE_LENGTH, length + n);
            return n;
        }

        @Override
        public void randomBytes(byte[] into) {
            long counter = mm.load64(KERNEL_AREA + OFF_RANDOM_COUNTER);
            new java.util.SplittableRandom(spec.seed() ^ (counter * 0x9E3779B97F4A7C15L)).nextBytes(into);
            mm.store64(KERNEL_AREA + OFF_RANDOM_COUNTER, counter + 1);
        }

        @Override
        public void setClearChildTid(long addr) {
            mm.store64(slot + SLOT_CLEAR_CHILD_TID, addr);
        }

        @Override
        public void setRobustList(long head) {
            mm.store64(slot + SLOT_ROBUST_LIST, head);
        }

        @Override
        public void unknown(long number, long pc) {
            mm.store64(KERNEL_AREA + OFF_UNKNOWN_SYSCALLS, mm.load64(KERNEL_AREA + OFF_UNKNOWN_SYSCALLS) + 1);
        }
    }
}
