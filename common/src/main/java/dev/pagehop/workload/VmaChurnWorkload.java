package dev.pagehop.workload;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.VmaInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * VMA churn in the manner of CRIU's zdtm {@code maps007}: while it runs, each thread keeps
 * mapping, writing, write-protecting, remapping, zapping (MADV_DONTNEED) and unmapping slots of
 * its own area, so the layout a migration must carry changes under it.
 *
 * <p>The area is {@code slots} slots of {@code slotPages} pages. The state of every slot
 * (unmapped, read-write, read-only) and a generation count live in a control table in the
 * thread's heap partition, so the workload's view of the layout migrates with memory. A step
 * draws one operation:
 * <pre>
 *   45 %  write a 16-byte pair (v, h(v)) into a read-write slot (maps or unprotects otherwise)
 *   15 %  mprotect: read-write <-> read-only
 *   10 %  madvise(MADV_DONTNEED): the slot reads as zeros afterwards
 *   10 %  munmap
 *    8 %  mmap(MAP_FIXED) a fresh zero slot over whatever was there
 *   12 %  mremap(MAYMOVE|FIXED) the slot onto another slot, replacing it (mmap if remap=0)
 * </pre>
 * {@link #verify} checks from memory and the VMA list alone that every slot is mapped exactly
 * as the control table says, and that every non-zero pair in a mapped slot is intact.
 */
public final class VmaChurnWorkload extends HeapWorkload {
    public static final String KIND = "churn";
    public static final long UNMAPPED = 0;
    public static final long READ_WRITE = 1;
    public static final long READ_ONLY = 2;
    static final long PAIR_KEY = 0x6d617073303037L; // "maps007"
    private static final int X_AREA = 25;
    private static final int X_SLOTS = 26;
    private static final int X_SLOT_PAGES = 27;

    private final long slots;
    private final long slotPages;
    /** remap=0 turns the mremap share into mmap, for kernels without mremap(2). */
    private final boolean remap;

    public VmaChurnWorkload(WorkloadSpec spec) {
        super(spec, KIND, Set.of("slots", "slotPages", "remap"), 1);
        slots = spec.longParam("slots", 16, 2, 4096);
        slotPages = spec.longParam("slotPages", 4, 1, 1 << 16);
        remap = spec.longParam("remap", 1, 0, 1) == 1;
    }

    @Override
    protected void setUpThread(MemoryManager mm, CpuState cpu, int index, int threadCount) {
        long ps = mm.pageSize();
        if (slots * 8 > pagesPerThread * ps) {
            throw new IllegalArgumentException(String.format(
                    "workload 'churn': %d slots need %d bytes of control table, pagesPerThread=%d gives %d",
                    slots, slots * 8, pagesPerThread, pagesPerThread * ps));
        }
        long area = mm.mmap(0, slots * slotPages * ps, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        long control = cpu.x(X_BASE);
        for (long s = 0; s < slots; s++) {
            mm.store64(control + 8 * s, READ_WRITE);
        }
        mm.store64(control + 8 * slots, area); // so verify can find the area from memory
        cpu.setX(X_AREA, area);
        cpu.setX(X_SLOTS, slots);
        cpu.setX(X_SLOT_PAGES, slotPages);
    }

    static long pairCheck(long v) {
        return Mix.mix64(v ^ PAIR_KEY);
    }

    @Override
    public void step(StepContext ctx) {
        CpuState cpu = ctx.cpu();
        long ps = ctx.pageSize();
        long control = cpu.x(X_BASE);
        long area = cpu.x(X_AREA);
        long slotBytes = slotPages * ps;
        long r = Mix.next(cpu);
        int op = (int) Mix.below(r, 100);
        long a = Mix.below(r >>> 8, slots);
        long ctlA = ctx.load64(control + 8 * a);
        long stateA = ctlA & 0xff;
        long genA = ctlA >>> 8;
        long slotA = area + a * slotBytes;
        long lastAddr = slotA;
        long lastValue = 0;

        if (op < 45 && stateA == READ_WRITE) {
            long page = Mix.below(r >>> 24, slotPages);
            long off = Mix.below(r >>> 40, ps / 16) * 16;
            long v = Mix.next(cpu) | 1; // never zero, so a zapped pair is told from a written one
            lastAddr = slotA + page * ps + off;
            lastValue = v;
            ctx.store64(lastAddr, v);
            ctx.store64(lastAddr + 8, pairCheck(v));
        } else if ((op < 45 && stateA == READ_ONLY) || (op < 60 && stateA != UNMAPPED)) {
            long next = stateA == READ_WRITE ? READ_ONLY : READ_WRITE;
            ctx.mprotect(slotA, slotBytes, next == READ_WRITE ? Prot.READ | Prot.WRITE : Prot.READ);
            ctx.store64(control + 8 * a, next | (genA + 1) << 8);
            lastValue = next;
        } else if (op >= 60 && op < 70 && stateA != UNMAPPED) {
            ctx.madvise(slotA, slotBytes, Madvise.DONTNEED);
            ctx.store64(control + 8 * a, stateA | (genA + 1) << 8);
        } else if (op >= 70 && op < 80 && stateA != UNMAPPED) {
            ctx.munmap(slotA, slotBytes);
            ctx.store64(control + 8 * a, UNMAPPED | (genA + 1) << 8);
        } else if (op >= 88 && stateA != UNMAPPED && remap) {
            long b = Mix.below(r >>> 20, slots - 1);
            if (b >= a) {
                b++;
            }
            long ctlB = ctx.load64(control + 8 * b);
            long slotB = area + b * slotBytes;
            ctx.mremapFixed(slotA, slotBytes, slotBytes, slotB);
            ctx.store64(control + 8 * b, stateA | ((ctlB >>> 8) + 1) << 8);
            ctx.store64(control + 8 * a, UNMAPPED | (genA + 1) << 8);
            lastAddr = slotB;
            lastValue = b;
        } else {
            ctx.mmapFixed(slotA, slotBytes, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
            ctx.store64(control + 8 * a, READ_WRITE | (genA + 1) << 8);
            lastValue = READ_WRITE;
        }
        cpu.setV(0, Long.rotateLeft(cpu.vLow(0), 7) ^ lastValue, cpu.vHigh(0) + lastValue);
        advance(cpu, lastAddr, lastValue);
    }

    @Override
    public IntegrityReport verify(MemoryManager mm) {
        Header h = readHeader(mm);
        List<String> problems = new ArrayList<>();
        if (!h.kind().equals(KIND)) {
            problems.add("the workload header names '" + h.kind() + "', not '" + KIND + "'");
            return new IntegrityReport(KIND, true, 0, problems);
        }
        long ps = h.pageSize();
        long slotBytes = slotPages * ps;
        List<VmaInfo> vmas = mm.vmas();
        long checked = 0;
        byte[] word = new byte[8];
        byte[] page = new byte[(int) ps];
        for (int t = 0; t < h.threads(); t++) {
            long control = h.partition(t);
            mm.peek(control + 8 * slots, word, 0, 8);
            long area = ByteBuffer.wrap(word).order(ByteOrder.LITTLE_ENDIAN).getLong();
            for (long s = 0; s < slots; s++) {
                mm.peek(control + 8 * s, word, 0, 8);
                long state = ByteBuffer.wrap(word).order(ByteOrder.LITTLE_ENDIAN).getLong() & 0xff;
                long start = area + s * slotBytes;
                checked++;
                String mapped = coverage(vmas, start, start + slotBytes);
                String expected = state == UNMAPPED ? "unmapped" : state == READ_WRITE ? "rw-" : "r--";
                if (!mapped.equals(expected)) {
                    KvStoreWorkload.add(problems, String.format(
                            "thread %d slot %d [0x%x, 0x%x): control table says %s, the VMAs say %s",
                            t, s, start, start + slotBytes, expected, mapped));
                    continue;
                }
                if (state == UNMAPPED) {
                    continue;
                }
                for (long p = 0; p < slotPages; p++) {
                    long addr = start + p * ps;
                    mm.peek(addr, page, 0, page.length);
                    ByteBuffer b = ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN);
                    for (int off = 0; off < page.length; off += 16) {
                        long v = b.getLong(off);
                        long c = b.getLong(off + 8);
                        if ((v != 0 || c != 0) && c != pairCheck(v)) {
                            KvStoreWorkload.add(problems, String.format(
                                    "thread %d slot %d: pair at 0x%x is (0x%x, 0x%x), expected check 0x%x",
                                    t, s, addr + off, v, c, pairCheck(v)));
                        }
                    }
                }
            }
        }
        return new IntegrityReport(KIND, true, checked, problems);
    }

    /** "unmapped", "rw-", "r--" when [start, end) is uniformly so, else a description of the mix. */
    private static String coverage(List<VmaInfo> vmas, long start, long end) {
        long covered = 0;
        int prot = -1;
        boolean mixed = false;
        for (VmaInfo v : vmas) {
            long s = Math.max(start, v.start());
            long e = Math.min(end, v.end());
            if (s < e) {
                covered += e - s;
                if (prot >= 0 && prot != v.prot()) {
                    mixed = true;
                }
                prot = v.prot();
            }
        }
        if (covered == 0) {
            return "unmapped";
        }
        if (covered != end - start || mixed) {
            return "partly mapped (" + covered + " of " + (end - start) + " bytes, mixed prot " + mixed + ")";
        }
        return ((prot & Prot.READ) != 0 ? "r" : "-") + ((prot & Prot.WRITE) != 0 ? "w" : "-")
                + ((prot & Prot.EXEC) != 0 ? "x" : "-");
    }
}
