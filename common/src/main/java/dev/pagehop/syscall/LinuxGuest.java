package dev.pagehop.syscall;

import dev.pagehop.cpu.CodeCache;
import dev.pagehop.cpu.CpuState;
import dev.pagehop.cpu.GuestSignal;
import dev.pagehop.cpu.Interpreter;
import dev.pagehop.cpu.SupervisorCall;
import dev.pagehop.elf.ElfImage;
import dev.pagehop.elf.ElfLoader;
import dev.pagehop.mm.Errno;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.SegmentationFault;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A static AArch64 Linux program running on the emulated kernel: its threads, each an
 * {@link Interpreter} over the shared {@link MemoryManager}, and the system calls they make.
 *
 * <p>Threads are scheduled round-robin on the caller's thread, {@link #quantum} instructions at a
 * time, so a run is deterministic and every return from {@link #run} is an instruction boundary
 * of every thread: the caller freezes the program simply by not calling {@code run} again, and
 * {@link #snapshot()} then captures everything that is not memory.
 *
 * <p>Syscalls a static glibc or musl makes at start-up and in ordinary use are implemented;
 * file systems, signals delivery and processes (fork) are not. An unknown syscall returns
 * -ENOSYS and is counted in {@link #unknownSyscalls()}. A fatal signal (SIGILL, SIGSEGV, SIGBUS,
 * SIGTRAP, or a kill/tgkill of a fatal signal such as abort's SIGABRT) ends the program with a
 * {@link GuestOutcome.Kind#KILLED} outcome naming the reason.
 */
public final class LinuxGuest implements SupervisorCall {
    private static final Logger log = LoggerFactory.getLogger(LinuxGuest.class);

    /** Instructions a thread runs before the next runnable thread gets its turn. */
    public static final long DEFAULT_QUANTUM = 20_000;
    /** The first thread's tid, also the pid (a fixed number keeps runs reproducible). */
    public static final int PID = 1000;

    static final int CLONE_VM = 0x100;
    static final int CLONE_THREAD = 0x10000;
    static final int CLONE_SETTLS = 0x80000;
    static final int CLONE_PARENT_SETTID = 0x100000;
    static final int CLONE_CHILD_CLEARTID = 0x200000;
    static final int CLONE_CHILD_SETTID = 0x1000000;

    private final MemoryManager mm;
    private final GuestClock clock;
    private final CodeCache code;
    private final java.util.concurrent.locks.Lock atomicLock = new java.util.concurrent.locks.ReentrantLock();
    private final List<GuestThread> threads = new ArrayList<>();
    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final Map<Long, Long> unknownSyscalls = new TreeMap<>();
    private final SplittableRandom random;
    private long quantum = DEFAULT_QUANTUM;
    private int nextTid;
    private int turn;
    /** The thread whose quantum was cut short by the end of a run, and what is left of it. */
    private GuestThread sliceOwner;
    private long sliceLeft;
    private GuestThread current;
    private GuestOutcome outcome;
    private long syscallCount;

    private LinuxGuest(MemoryManager mm, GuestClock clock, long randomSeed, int nextTid) {
        this.mm = mm;
        this.clock = clock;
        this.code = new CodeCache(mm);
        this.random = new SplittableRandom(randomSeed);
        this.nextTid = nextTid;
    }

    /** Loads {@code elf} into {@code mm} (a fresh address space) and prepares its first thread. */
    public static LinuxGuest start(MemoryManager mm, byte[] elf, List<String> argv, List<String> envp,
            GuestClock clock, long randomSeed) {
        LinuxGuest g = new LinuxGuest(mm, clock, randomSeed, PID);
        byte[] atRandom = new byte[16];
        g.random.nextBytes(atRandom);
        ElfLoader.Loaded loaded = ElfLoader.load(mm, ElfImage.parse(elf), argv, envp, atRandom);
        g.addThread(loaded.initialState());
        return g;
    }

    /**
     * Rebuilds a program from a {@link #snapshot()} over an address space that already holds its
     * memory (a migration target); it continues exactly where the snapshot was taken.
     */
    public static LinuxGuest resume(MemoryManager mm, Snapshot snapshot, GuestClock clock) {
        LinuxGuest g = new LinuxGuest(mm, clock, snapshot.randomSeed(), snapshot.nextTid());
        g.turn = snapshot.turn();
        g.sliceLeft = snapshot.sliceLeft();
        g.quantum = snapshot.quantum();
        for (ThreadImage t : snapshot.threads()) {
            GuestThread thread = new GuestThread(t.tid(), CpuState.fromBytes(t.cpu()), g.newInterpreter());
            thread.clearChildTid = t.clearChildTid();
            thread.robustList = t.robustList();
            thread.futexAddress = t.futexAddress();
            if (t.state() != GuestThread.State.RUNNABLE) {
                thread.moveTo(t.state());
            }
            g.threads.add(thread);
            if (t.tid() == snapshot.sliceOwnerTid()) {
                g.sliceOwner = thread;
            }
        }
        return g;
    }

    /** One thread's non-memory state as a migration carries it. */
    public record ThreadImage(int tid, byte[] cpu, GuestThread.State state, long clearChildTid, long robustList,
            long futexAddress) {
    }

    /**
     * Everything about the program that is not in its address space, including the scheduler's
     * position, so a resumed program interleaves its threads exactly as the original would have.
     */
    public record Snapshot(List<ThreadImage> threads, int nextTid, long randomSeed, int turn, int sliceOwnerTid,
            long sliceLeft, long quantum) {
    }

    /** Call only between {@link #run} calls (the program is then stopped at instruction boundaries). */
    public Snapshot snapshot() {
        List<ThreadImage> images = new ArrayList<>();
        for (GuestThread t : threads) {
            images.add(new ThreadImage(t.tid(), t.cpu.toBytes(), t.state(), t.clearChildTid, t.robustList,
                    t.futexAddress));
        }
        return new Snapshot(images, nextTid, random.split().nextLong(), turn,
                sliceOwner == null ? -1 : sliceOwner.tid(), sliceLeft, quantum);
    }

    private Interpreter newInterpreter() {
        return new Interpreter(mm, this, code, clock::monotonicNs, atomicLock);
    }

    private GuestThread addThread(CpuState state) {
        GuestThread t = new GuestThread(nextTid++, state, newInterpreter());
        threads.add(t);
        return t;
    }

    public void setQuantum(long instructions) {
        if (instructions <= 0) {
            throw new IllegalArgumentException("quantum must be positive, got " + instructions);
        }
        quantum = instructions;
    }

    public MemoryManager memory() {
        return mm;
    }

    public CodeCache codeCache() {
        return code;
    }

    public List<GuestThread> threads() {
        return Collections.unmodifiableList(threads);
    }

    public boolean finished() {
        return outcome != null;
    }

    /** How the program ended, or null while it runs. */
    public GuestOutcome outcome() {
        return outcome;
    }

    public byte[] stdout() {
        return stdout.toByteArray();
    }

    public String stdoutText() {
        return stdout.toString(StandardCharsets.UTF_8);
    }

    public String stderrText() {
        return stderr.toString(StandardCharsets.UTF_8);
    }

    /** Unknown syscall numbers the program made, with how often (each answered -ENOSYS). */
    public Map<Long, Long> unknownSyscalls() {
        return Collections.unmodifiableMap(unknownSyscalls);
    }

    public long syscallCount() {
        return syscallCount;
    }

    /** Instructions retired by all threads. */
    public long instructionsRetired() {
        long n = 0;
        for (GuestThread t : threads) {
            n += t.instructionsRetired();
        }
        return n;
    }

    /**
     * Runs the program for up to {@code maxInstructions} instructions over all threads. Returns
     * the number executed: fewer if the program ended. Throws {@link IllegalStateException} if
     * every live thread waits on a futex no one can wake.
     */
    public long run(long maxInstructions) {
        long done = 0;
        while (done < maxInstructions && outcome == null) {
            GuestThread t;
            if (sliceOwner != null && sliceLeft > 0 && sliceOwner.state() == GuestThread.State.RUNNABLE) {
                t = sliceOwner;
            } else {
                t = nextRunnable();
                if (t == null) {
                    throw new IllegalStateException("deadlock: every live thread waits on a futex: " + describeThreads());
                }
                sliceOwner = t;
                sliceLeft = quantum;
            }
            current = t;
            long before = t.interpreter.instructionsRetired();
            try {
                if (t.interpreter.run(t.cpu, Math.min(sliceLeft, maxInstructions - done)) == Interpreter.Stop.SUPERVISOR_CALL) {
                    sliceLeft = 0; // yield, futex wait, exit: the thread's turn ends here
                }
            } catch (GuestSignal e) {
                kill(e.signal(), "thread " + t.tid() + ": " + e.getMessage());
            } catch (SegmentationFault e) {
                kill(e.signal(), String.format("thread %d at pc 0x%x: %s", t.tid(), t.cpu.pc(), e.getMessage()));
            } finally {
                current = null;
            }
            long ran = t.interpreter.instructionsRetired() - before;
            done += ran;
            sliceLeft = Math.max(0, sliceLeft - ran);
        }
        return done;
    }

    /** Runs until the program ends or {@code maxInstructions} were executed; returns the outcome or null. */
    public GuestOutcome runToEnd(long maxInstructions) {
        run(maxInstructions);
        return outcome;
    }

    private GuestThread nextRunnable() {
        int n = threads.size();
        for (int i = 0; i < n; i++) {
            GuestThread t = threads.get((turn + i) % n);
            if (t.state() == GuestThread.State.RUNNABLE) {
                turn = (turn + i + 1) % n;
                return t;
            }
        }
        return null;
    }

    private String describeThreads() {
        StringBuilder sb = new StringBuilder();
        for (GuestThread t : threads) {
            sb.append(String.format("[tid %d %s pc=0x%x futex=0x%x] ", t.tid(), t.state(), t.cpu.pc(), t.futexAddress));
        }
        return sb.toString().trim();
    }

    private void kill(int signal, String detail) {
        log.info("guest killed by signal {}: {}", signal, detail);
        outcome = GuestOutcome.killed(signal, detail);
        for (GuestThread t : threads) {
            if (t.state() != GuestThread.State.EXITED) {
                t.moveTo(GuestThread.State.EXITED);
            }
        }
    }

    // ---- system calls ---------------------------------------------------------------------------------

    @Override
    public Outcome call(CpuState s, int immediate) {
        syscallCount++;
        GuestThread t = current;
        long nr = s.x(8);
        long a0 = s.x(0);
        long a1 = s.x(1);
        long a2 = s.x(2);
        long a3 = s.x(3);
        long a4 = s.x(4);
        long result;
        try {
            switch ((int) nr) {
                case Syscalls.EXIT -> {
                    exitThread(t, (int) a0 & 0xFF);
                    return Outcome.STOP;
                }
                case Syscalls.EXIT_GROUP -> {
                    outcome = GuestOutcome.exited((int) a0 & 0xFF);
                    for (GuestThread other : threads) {
                        if (other.state() != GuestThread.State.EXITED) {
                            other.moveTo(GuestThread.State.EXITED);
                        }
                    }
                    return Outcome.STOP;
                }
                case Syscalls.FUTEX -> {
                    return futex(t, s, a0, (int) a1, (int) a2);
                }
                case Syscalls.SCHED_YIELD, Syscalls.NANOSLEEP, Syscalls.CLOCK_NANOSLEEP -> {
                    s.setX(0, 0);
                    return Outcome.STOP;
                }
                case Syscalls.KILL, Syscalls.TKILL, Syscalls.TGKILL -> {
                    int sig = (int) (nr == Syscalls.TGKILL ? a2 : a1);
                    if (sig == 0) {
                        result = 0;
                        break;
                    }
                    kill(sig, "thread " + t.tid() + " sent itself signal " + sig + " (signal handlers are not delivered)");
                    return Outcome.STOP;
                }
                default -> result = dispatch(t, s, nr, a0, a1, a2, a3, a4);
            }
        } catch (ErrnoException e) {
            result = -e.errno();
        } catch (SegmentationFault e) {
            result = -Errno.EFAULT;
        }
        s.setX(0, result);
        return Outcome.CONTINUE;
    }

    private long dispatch(GuestThread t, CpuState s, long nr, long a0, long a1, long a2, long a3, long a4) {
        if (nr == Syscalls.CLONE) {
            return clone(t, s, a0, a1, a2, a3, a4);
        }
        return SyscallTable.dispatch(new SyscallTable.Host() {
            @Override
            public int tid() {
                return t.tid();
            }

            @Override
            public long write(int fd, byte[] bytes) {
                ByteArrayOutputStream out = fd == 1 ? stdout : fd == 2 ? stderr : null;
                if (out == null) {
                    return -Errno.EBADF;
                }
                out.writeBytes(bytes);
                return bytes.length;
            }

            @Override
            public void randomBytes(byte[] into) {
                random.nextBytes(into);
            }

            @Override
            public void setClearChildTid(long addr) {
                t.clearChildTid = addr;
            }

            @Override
            public void setRobustList(long head) {
                t.robustList = head;
            }

            @Override
            public void unknown(long number, long pc) {
                unknownSyscalls.merge(number, 1L, Long::sum);
                if (unknownSyscalls.get(number) == 1) {
                    log.debug("guest syscall {} is not implemented: -ENOSYS (pc 0x{})", number, Long.toHexString(pc));
                }
            }
        }, mm, code, clock, s.pc(), nr, a0, a1, a2, a3, a4);
    }

    private long clone(GuestThread parent, CpuState s, long flags, long newSp, long parentTid, long tls, long childTid) {
        int required = CLONE_VM | CLONE_THREAD;
        if ((flags & required) != required) {
            return -Errno.ENOSYS; // fork-style clone: no second address space in this guest
        }
        CpuState child = s.copy();
        child.setX(0, 0);
        if (newSp != 0) {
            child.setSp(newSp);
        }
        if ((flags & CLONE_SETTLS) != 0) {
            child.setTpidrEl0(tls);
        }
        GuestThread t = addThread(child);
        if ((flags & CLONE_PARENT_SETTID) != 0) {
            mm.store32(parentTid, t.tid());
        }
        if ((flags & CLONE_CHILD_SETTID) != 0) {
            mm.store32(childTid, t.tid());
        }
        if ((flags & CLONE_CHILD_CLEARTID) != 0) {
            t.clearChildTid = childTid;
        }
        return t.tid();
    }

    private void exitThread(GuestThread t, int status) {
        if (t.clearChildTid != 0) {
            try {
                mm.store32(t.clearChildTid, 0);
                wake(t.clearChildTid, 1);
            } catch (SegmentationFault e) {
                log.debug("thread {} clear_child_tid 0x{} not writable at exit", t.tid(), Long.toHexString(t.clearChildTid));
            }
        }
        t.moveTo(GuestThread.State.EXITED);
        boolean anyLive = false;
        for (GuestThread other : threads) {
            anyLive |= other.state() != GuestThread.State.EXITED;
        }
        if (!anyLive) {
            outcome = GuestOutcome.exited(status);
        }
    }

    private Outcome futex(GuestThread t, CpuState s, long uaddr, int op, int val) {
        int cmd = op & 0x7F; // without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME
        switch (cmd) {
            case 0, 9 -> { // FUTEX_WAIT, FUTEX_WAIT_BITSET
                if ((uaddr & 3) != 0) {
                    s.setX(0, -Errno.EINVAL);
                    return Outcome.CONTINUE;
                }
                if (mm.load32(uaddr) != val) {
                    s.setX(0, -Errno.EAGAIN);
                    return Outcome.CONTINUE;
                }
                t.futexAddress = uaddr;
                t.moveTo(GuestThread.State.FUTEX_WAIT);
                s.setX(0, 0);
                return Outcome.STOP;
            }
            case 1, 10 -> { // FUTEX_WAKE, FUTEX_WAKE_BITSET
                s.setX(0, wake(uaddr, val));
                return Outcome.CONTINUE;
            }
            default -> {
                unknownSyscalls.merge((long) Syscalls.FUTEX << 16 | cmd, 1L, Long::sum);
                s.setX(0, -Errno.ENOSYS);
                return Outcome.CONTINUE;
            }
        }
    }

    private int wake(long uaddr, int max) {
        int woken = 0;
        for (GuestThread other : threads) {
            if (woken >= max) {
                break;
            }
            if (other.state() == GuestThread.State.FUTEX_WAIT && other.futexAddress == uaddr) {
                other.futexAddress = 0;
                other.moveTo(GuestThread.State.RUNNABLE);
                woken++;
            }
        }
        return woken;
    }
}
