package dev.pagehop.workload;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.Prot;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The address space every built-in workload starts from, shaped like a small static binary:
 *
 * <pre>
 *   text   1 page  r-x   a tiny A64 loop (PC walks it as steps go by)
 *   heap   brk     rw-   header page, then one partition of pagesPerThread pages per thread
 *   stack  per thread rw-, MAP_STACK; the initial frame and the TLS word are written in it
 * </pre>
 *
 * Each thread works only in its own partition, so the memory after n steps per thread does not
 * depend on how the threads interleave. The header page (at {@code mm->start_brk}) names the
 * workload and the layout, so checks can run "from memory alone".
 *
 * <p>Register convention (shared by all built-in workloads; the A64 interpreter has its own):
 * <pre>
 *   X0  address of the last store        X1  last value stored
 *   X19 partition base                   X20 partition size in pages (kv: capacity in entries)
 *   X21 random state (SplitMix64)        X22 steps done by this workload on this thread
 *   X23 cursor / phase                   X24 page size
 *   X25..X27 workload-specific           X28 thread index
 *   X29 frame pointer, X30 link register, SP the initial frame, TPIDR_EL0 the TLS word
 *   PC  text + 4 * (X22 mod 16)           NZCV from the last value (N: negative, Z: zero)
 *   V0  running checksum of the values stored (low: xor-rotate, high: sum)
 * </pre>
 */
public abstract class HeapWorkload implements Workload {
    /** Marks the workload header page; ASCII "PGAPHPWL" read as a little-endian word, arbitrary but greppable. */
    public static final long HEADER_MAGIC = 0x4c57_5048_5041_4750L;
    public static final int X_LAST_ADDR = 0;
    public static final int X_LAST_VALUE = 1;
    public static final int X_BASE = 19;
    public static final int X_SIZE = 20;
    public static final int X_STEPS = 22;
    public static final int X_CURSOR = 23;
    public static final int X_PAGE_SIZE = 24;
    public static final int X_THREAD = 28;
    static final long STACK_BYTES = 64 * 1024;
    /** NOP; NOP; ...; B to the start: the loop PC walks. */
    static final int NOP = 0xd503201f;

    protected final WorkloadSpec spec;
    protected final long pagesPerThread;
    protected final int writeBytes;
    /**
     * Write every heap page once in {@link #setUp}, before the first step, as QEMU guestperf's
     * stress program does (a memset of its whole RAM before it starts timing): the process then
     * begins with its memory resident and non-zero, as a long-running one has it, instead of
     * populating it at the workload's pace.
     */
    protected final boolean prefill;

    /** guestperf fills with 0xfe: any non-zero byte, so the pages are data, not zero pages. */
    static final byte PREFILL_BYTE = (byte) 0xfe;

    protected HeapWorkload(WorkloadSpec spec, String kind, Set<String> extraParams, long defaultPages) {
        if (!spec.kind().equals(kind)) {
            throw new IllegalArgumentException("spec " + spec + " is not of kind " + kind);
        }
        Set<String> known = new TreeSet<>(extraParams);
        known.add("pagesPerThread");
        known.add("writeBytes");
        known.add("prefill");
        spec.requireOnly(known);
        this.spec = spec;
        this.pagesPerThread = spec.longParam("pagesPerThread", defaultPages, 1, 1L << 24);
        this.writeBytes = (int) spec.longParam("writeBytes", 64, 8, 65536);
        this.prefill = spec.longParam("prefill", 0, 0, 1) == 1;
        if (writeBytes % 8 != 0) {
            throw new IllegalArgumentException("workload '" + kind + "': writeBytes=" + writeBytes
                    + " is not a multiple of 8");
        }
    }

    @Override
    public WorkloadSpec spec() {
        return spec;
    }

    public long pagesPerThread() {
        return pagesPerThread;
    }

    @Override
    public void setUp(MemoryManager mm, List<CpuState> threads) {
        long ps = mm.pageSize();
        if (writeBytes > ps) {
            throw new IllegalArgumentException("workload '" + spec.kind() + "': writeBytes=" + writeBytes
                    + " exceeds the page size " + ps);
        }
        int n = threads.size();
        long text = mm.mmap(0, ps, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        for (int i = 0; i < 15; i++) {
            mm.store32(text + 4L * i, NOP);
        }
        mm.store32(text + 60, 0x17fffff1); // B text (branch back 15 instructions)
        mm.mprotect(text, ps, Prot.READ | Prot.EXEC);

        long heap = mm.brkStart();
        long heapBytes = ps * (1 + pagesPerThread * n);
        long end = mm.brk(heap + heapBytes);
        if (end < heap + heapBytes) {
            throw new IllegalStateException(String.format(
                    "workload '%s': brk(0x%x) for %d threads x %d pages left the break at 0x%x",
                    spec.kind(), heap + heapBytes, n, pagesPerThread, end));
        }
        writeHeader(mm, heap, n, ps);
        if (prefill) {
            byte[] page = new byte[(int) ps];
            java.util.Arrays.fill(page, PREFILL_BYTE);
            for (long a = partitionBase(heap, ps, 0), last = partitionBase(heap, ps, n); a < last; a += ps) {
                mm.write(a, page);
            }
        }

        for (int i = 0; i < n; i++) {
            CpuState cpu = threads.get(i);
            long stack = mm.mmap(0, STACK_BYTES, Prot.READ | Prot.WRITE,
                    MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.STACK);
            long top = stack + STACK_BYTES;
            long sp = top - 32;
            mm.store64(sp, i);                       // a frame: thread index and magic
            mm.store64(sp + 8, HEADER_MAGIC ^ i);
            mm.store64(stack, 0x544c5300L | i);      // the TLS word TPIDR_EL0 points at
            cpu.setSp(sp);
            cpu.setX(29, sp);
            cpu.setX(30, text + 60);
            cpu.setTpidrEl0(stack);
            cpu.setPc(text);
            cpu.setX(X_BASE, partitionBase(heap, ps, i));
            cpu.setX(X_SIZE, pagesPerThread);
            cpu.setX(Mix.RNG_REGISTER, Mix.mix64(spec.seed() ^ Mix.mix64(i + 1)));
            cpu.setX(X_STEPS, 0);
            cpu.setX(X_CURSOR, 0);
            cpu.setX(X_PAGE_SIZE, ps);
            cpu.setX(X_THREAD, i);
            setUpThread(mm, cpu, i, n);
        }
    }

    /** Hook for per-thread state beyond the common convention; runs after the registers above are set. */
    protected void setUpThread(MemoryManager mm, CpuState cpu, int index, int threadCount) {
    }

    private void writeHeader(MemoryManager mm, long heap, int threads, long ps) {
        mm.store64(heap, HEADER_MAGIC);
        byte[] kind = spec.kind().getBytes(StandardCharsets.US_ASCII);
        byte[] name = new byte[16];
        System.arraycopy(kind, 0, name, 0, Math.min(16, kind.length));
        mm.write(heap + 8, name);
        mm.store64(heap + 24, threads);
        mm.store64(heap + 32, pagesPerThread);
        mm.store64(heap + 40, spec.seed());
        mm.store64(heap + 48, ps);
        mm.store64(heap + 56, partitionBase(heap, ps, 0));
    }

    final long partitionBase(long heap, long ps, int index) {
        return heap + ps + index * pagesPerThread * ps;
    }

    /** The header a built-in workload left at {@code mm->start_brk}, read without faulting. */
    public record Header(String kind, int threads, long pagesPerThread, long seed, long pageSize, long firstPartition) {
        public long partition(int index) {
            return firstPartition + index * pagesPerThread * pageSize;
        }
    }

    /** Reads the header with {@link MemoryManager#peek}; fails naming the address if it is not there. */
    public static Header readHeader(MemoryManager mm) {
        long heap = mm.brkStart();
        byte[] b = new byte[64];
        mm.peek(heap, b, 0, 64);
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long magic = buf.getLong(0);
        if (magic != HEADER_MAGIC) {
            throw new IllegalStateException(String.format(
                    "no workload header at start_brk 0x%x: magic 0x%x, expected 0x%x", heap, magic, HEADER_MAGIC));
        }
        int len = 0;
        while (len < 16 && b[8 + len] != 0) {
            len++;
        }
        String kind = new String(b, 8, len, StandardCharsets.US_ASCII);
        return new Header(kind, (int) buf.getLong(24), buf.getLong(32), buf.getLong(40), buf.getLong(48), buf.getLong(56));
    }

    // --- helpers for steps ----------------------------------------------------------------------

    /** Stores {@code writeBytes} of values at {@code addr} and advances the common registers. */
    protected final void writeStamp(StepContext ctx, long addr, long random) {
        CpuState cpu = ctx.cpu();
        long steps = cpu.x(X_STEPS);
        long v = 0;
        long lo = cpu.vLow(0);
        long hi = cpu.vHigh(0);
        for (int w = 0; w < writeBytes / 8; w++) {
            v = w == 0 ? (steps + 1) ^ ((long) ctx.threadIndex() << 48) : Mix.mix64(random + w);
            ctx.store64(addr + 8L * w, v);
            lo = Long.rotateLeft(lo, 7) ^ v;
            hi += v;
        }
        cpu.setV(0, lo, hi);
        advance(cpu, addr, v);
    }

    /** Advances the step count, PC, NZCV and the last-store registers. */
    protected static void advance(CpuState cpu, long addr, long value) {
        long steps = cpu.x(X_STEPS) + 1;
        cpu.setX(X_STEPS, steps);
        cpu.setX(X_LAST_ADDR, addr);
        cpu.setX(X_LAST_VALUE, value);
        long text = cpu.pc() & ~63L;
        cpu.setPc(text + 4 * (steps & 15));
        cpu.setNzcv(value < 0, value == 0, false, false);
    }
}
