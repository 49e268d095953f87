package dev.pagehop.bench.cpu;

import dev.pagehop.cpu.CodeCache;
import dev.pagehop.cpu.CpuState;
import dev.pagehop.cpu.Interpreter;
import dev.pagehop.cpu.SupervisorCall;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.syscall.GuestClock;
import dev.pagehop.syscall.LinuxGuest;
import dev.pagehop.track.DirtyTracker;
import dev.pagehop.track.DirtyTrackers;
import dev.pagehop.track.SoftDirtyTracker;
import dev.pagehop.track.TrackerOptions;
import dev.pagehop.track.WriterFreeze;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A64 interpreter throughput in instructions per second (one JMH operation = one instruction),
 * on one thread, untracked and under each dirty tracker. Each invocation runs 1 M instructions
 * and is followed by a tracker collect (get-and-rearm), as a pre-copy round would do, so the
 * tracked runs pay for their first-write traps again after every collect.
 *
 * <p>Programs: {@code alu} (integer loop, no memory), {@code memory} (load-add-store over a
 * 4 MiB buffer, 64-byte stride: every page dirtied about four times per invocation), {@code calls}
 * (call/return with stack frames), and the C programs {@code dirtier} and {@code hashtable}
 * (static glibc, built by common/src/test/a64/build.sh; run from the repository root).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Thread)
public class InterpreterBenchmark {
    static final int INSTRUCTIONS = 1_000_000;
    private static final long CODE = 0x400000;
    private static final long DATA = 0x1000000;
    private static final long BUFFER_BYTES = 4L << 20;
    private static final long STACK_TOP = 0x7F0000000L;

    @Param({"alu", "memory", "calls", "dirtier", "hashtable"})
    public String program;

    @Param({"untracked", "uffd-wp-async", "soft-dirty", "uffd-wp-sync"})
    public String tracker;

    @Param({"K4"})
    public Granule granule;

    private MemoryManager mm;
    private DirtyTracker dirtyTracker;
    private Interpreter cpu;
    private CpuState state;
    private LinuxGuest guest;

    static final int[] ALU_LOOP = {
        0x8b020021, // 1: add x1, x1, x2
        0xca010c42, // eor x2, x2, x1, lsl #3
        0x9b021024, // madd x4, x1, x2, x4
        0xd3455486, // ubfx x6, x4, #5, #17
        0xeb0500df, // cmp x6, x5
        0x9a8580c5, // csel x5, x6, x5, hi
        0xf1000463, // subs x3, x3, #1
        0x54ffff21, // b.ne 1b
        0x17fffff8, // b 1b
    };

    static final int[] MEMORY_LOOP = {
        0xf9400044, // 1: ldr x4, [x2]
        0x8b030084, // add x4, x4, x3
        0xf8040444, // str x4, [x2], #64
        0xca441c63, // eor x3, x3, x4, lsr #7
        0xeb01005f, // cmp x2, x1
        0x54ffff63, // b.lo 1b
        0xaa0003e2, // mov x2, x0
        0x17fffff9, // b 1b
    };

    static final int[] CALL_LOOP = {
        0x94000003, // 1: bl 2f
        0x91000421, // add x1, x1, #1
        0x17fffffe, // b 1b
        0xa9be7bfd, // 2: stp x29, x30, [sp, #-32]!
        0x910003fd, // mov x29, sp
        0xf9000be1, // str x1, [sp, #16]
        0xf9400be2, // ldr x2, [sp, #16]
        0xa8c27bfd, // ldp x29, x30, [sp], #32
        0xd65f03c0, // ret
    };

    @Setup(Level.Trial)
    public void setUp() throws IOException, InterruptedException {
        MmConfig config = MmConfig.arm64(granule);
        if (SoftDirtyTracker.NAME.equals(tracker)) {
            config = config.withSoftDirty(true);
        }
        mm = MemoryManager.create(config);
        switch (program) {
            case "alu" -> synthetic(ALU_LOOP);
            case "memory" -> synthetic(MEMORY_LOOP);
            case "calls" -> synthetic(CALL_LOOP);
            case "dirtier" -> guest = LinuxGuest.start(mm, program("dirtier"), List.of("dirtier", "4", "1000000"),
                    List.of(), GuestClock.SYSTEM, 1);
            case "hashtable" -> guest = LinuxGuest.start(mm, program("hashtable"), List.of("hashtable", "100000000"),
                    List.of(), GuestClock.SYSTEM, 1);
            default -> throw new IllegalArgumentException("unknown program " + program);
        }
        if (guest != null) {
            guest.run(5_000_000); // past start-up and the first allocations
        }
        if (!"untracked".equals(tracker)) {
            dirtyTracker = DirtyTrackers.create(tracker, mm,
                    TrackerOptions.defaults().withWriterFreeze(WriterFreeze.callerGuaranteesQuiescence()));
            dirtyTracker.start();
        }
    }

    private void synthetic(int[] code) {
        mm.mmap(CODE, mm.pageSize(), Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
        for (int i = 0; i < code.length; i++) {
            mm.store32(CODE + 4L * i, code[i]);
        }
        mm.mprotect(CODE, mm.pageSize(), Prot.READ | Prot.EXEC);
        mm.mmap(DATA, BUFFER_BYTES, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
        mm.mmap(STACK_TOP - (1 << 20), 1 << 20, Prot.READ | Prot.WRITE,
                MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
        state = new CpuState();
        state.setPc(CODE);
        state.setSp(STACK_TOP);
        state.setX(0, DATA);
        state.setX(1, DATA + BUFFER_BYTES);
        state.setX(2, DATA);
        state.setX(3, 12345);
        cpu = new Interpreter(mm, (s, imm) -> SupervisorCall.Outcome.CONTINUE, new CodeCache(mm), System::nanoTime,
                new java.util.concurrent.locks.ReentrantLock());
    }

    /** The test program, built on demand by the repository's script. */
    private static byte[] program(String name) throws IOException, InterruptedException {
        Path script = Paths.get("common/src/test/a64/build.sh");
        Path out = Paths.get("common/target/a64-programs");
        if (!Files.exists(script)) {
            throw new IllegalStateException("run the benchmark from the repository root: " + script + " not found");
        }
        Process p = new ProcessBuilder(script.toString(), out.toString()).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("building the A64 test programs failed (exit " + p.exitValue()
                    + "); install gcc-aarch64-linux-gnu (.ci/setup-test-host)");
        }
        return Files.readAllBytes(out.resolve(name));
    }

    @TearDown(Level.Invocation)
    public void roundBoundary() {
        if (dirtyTracker != null) {
            dirtyTracker.collect();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (dirtyTracker != null) {
            dirtyTracker.stop();
        }
        mm.close();
    }

    @Benchmark
    @OperationsPerInvocation(INSTRUCTIONS)
    public long run() {
        if (guest != null) {
            long ran = guest.run(INSTRUCTIONS);
            if (guest.finished()) {
                throw new IllegalStateException("benchmark program ended: " + guest.outcome());
            }
            return ran;
        }
        cpu.run(state, INSTRUCTIONS);
        return state.x(3);
    }
}
