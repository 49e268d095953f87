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

/**
 * Workload kind {@code a64}: a static AArch64 ELF program run by the interpreter as the
 * process's CPU, e.g. {@code a64:elf=/path/dirtier,argv=dirtier+2+3@7}.
 *
 * <p>As the process model requires, everything about the computation lives in the thread's
 * registers and in emulated memory: the kernel's own state for the program (console output,
 * exit status, the getrandom counter, the count of unknown syscalls, the syscall count the
 * guest clock derives from) is in a kernel area mapped at {@link #KERNEL_AREA}, so it migrates
 * with the memory. This object only caches decoded code per address space.
 *
 * <p>A direct-memory workload ({@link #directMemory()}): a step runs instructions on the thread's
 * registers until one writes memory or enters the kernel ({@link Interpreter#step}). The
 * registers are written back just before that instruction, so while its access is parked in a
 * userfault the thread's saved registers are the boundary of the writing instruction (or, for a
 * fault in a fetch or a load, the start of the step: only registers changed since), and the
 * target re-executes it. If the fault is resolved while the process is frozen, the access lands
 * on the source and the thread holds at {@link StepContext#checkpoint()} with its registers
 * already past the instruction, so an image taken then does not repeat it: a read-modify-write
 * (LSE atomic, CAS, STXR) takes effect exactly once either way. Each step that wrote memory
 * counts one written page (an estimate for the process's rate control: the interpreter does not
 * count bytes per store).
 *
 * <p>Single-threaded programs only (clone answers ENOSYS here; {@link LinuxGuest} runs threads).
 * After exit or a fatal signal the steps do nothing; {@link #outcome} reports how it ended.
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
    static final int OFF_CONSOLE = 4096;
    static final long CONSOLE_CAPACITY = KERNEL_AREA_BYTES - OFF_CONSOLE;
    static final long RUNNING = 0;
    static final long EXITED = 1;
    static final long KILLED = 2;
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
            throw new IllegalArgumentException("a64 workload runs one thread (the program's main thread); got "
                    + threads.size() + " threads");
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

    @Override
    public boolean directMemory() {
        return true;
    }

    @Override
    public void step(StepContext ctx) {
        MemoryManager mm = ctx.memory();
        if (mm.load64(KERNEL_AREA + OFF_STATE) != RUNNING) {
            return;
        }
        Runtime rt = runtimes.computeIfAbsent(mm, Runtime::new);
        try {
            rt.cpu.step(ctx.cpu(), maxStep, ctx::checkpoint);
            if (rt.cpu.lastStepHadSideEffect()) {
                ctx.countWrite(8, 1);
            }
        } catch (GuestSignal e) {
            // The process model ends a process on a signal it receives as SegmentationFault.
            throw new SegmentationFault(e.signal(), 0, e.pc(), false, e.getMessage());
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

    /** Per address space: the vCPU and its decoded code, rebuilt from nothing on a new host. */
    private final class Runtime implements SupervisorCall, SyscallTable.Host {
        final MemoryManager mm;
        final CodeCache code;
        final Interpreter cpu;
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
            this.code = new CodeCache(mm);
            this.cpu = new Interpreter(mm, this, code, clock::monotonicNs, new Object());
        }

        @Override
        public Outcome call(CpuState s, int immediate) {
            mm.store64(KERNEL_AREA + OFF_SYSCALLS, mm.load64(KERNEL_AREA + OFF_SYSCALLS) + 1);
            long nr = s.x(8);
            long a0 = s.x(0);
            long result;
            switch ((int) nr) {
                case Syscalls.EXIT, Syscalls.EXIT_GROUP -> {
                    return end(EXITED, a0 & 0xFF);
                }
                case Syscalls.KILL, Syscalls.TKILL, Syscalls.TGKILL -> {
                    long sig = nr == Syscalls.TGKILL ? s.x(2) : s.x(1);
                    if (sig != 0) {
                        return end(KILLED, sig);
                    }
                    result = 0;
                }
                case Syscalls.CLONE, Syscalls.CLONE3 -> result = -Errno.ENOSYS;
                case Syscalls.FUTEX -> {
                    int cmd = (int) s.x(1) & 0x7F;
                    if ((cmd == 0 || cmd == 9) && mm.load32(a0) == (int) s.x(2)) {
                        // The only thread would wait forever: as Linux would hang, report it.
                        return end(KILLED, 9);
                    }
                    result = cmd == 0 || cmd == 9 ? -Errno.EAGAIN : 0;
                }
                case Syscalls.SCHED_YIELD, Syscalls.NANOSLEEP, Syscalls.CLOCK_NANOSLEEP -> result = 0;
                default -> {
                    try {
                        result = SyscallTable.dispatch(this, mm, code, clock, s.pc(), nr, a0, s.x(1), s.x(2), s.x(3),
                                s.x(4));
                    } catch (dev.pagehop.mm.ErrnoException e) {
                        result = -e.errno();
                    } catch (SegmentationFault e) {
                        result = -Errno.EFAULT;
                    }
                }
            }
            s.setX(0, result);
            return Outcome.CONTINUE;
        }

        private Outcome end(long state, long status) {
            mm.store64(KERNEL_AREA + OFF_STATUS, status);
            mm.store64(KERNEL_AREA + OFF_STATE, state);
            return Outcome.STOP;
        }

        @Override
        public int tid() {
            return LinuxGuest.PID;
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
        }

        @Override
        public void setRobustList(long head) {
        }

        @Override
        public void unknown(long number, long pc) {
            mm.store64(KERNEL_AREA + OFF_UNKNOWN_SYSCALLS, mm.load64(KERNEL_AREA + OFF_UNKNOWN_SYSCALLS) + 1);
        }
    }
}
