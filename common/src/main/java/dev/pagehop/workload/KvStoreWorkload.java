package dev.pagehop.workload;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.MemoryManager;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A key-value store in emulated memory that checks itself. Each thread owns an open-addressing
 * hash table (linear probing) in its heap partition; a step puts one key drawn uniformly from
 * {@code keys}: it inserts the key or, if present, verifies the entry and writes its next
 * version. Every value is a function of (seed, key, version) and every entry carries a checksum
 * over its slot, key, version and value, so {@link #verify} can check the whole store from
 * memory alone: checksums, values, the probe-chain invariant, no duplicate keys, the per-table
 * entry count, and that the entry versions add up to the puts the table header recorded (each
 * put adds one to one entry's version), which is what exposes a stale page: every entry in it is
 * self-consistent, but older than the header says. A page lost, stale, zeroed or misplaced by a migration shows up as a named
 * problem; a corrupt entry met while running stops the process with a {@link WorkloadFailure}.
 *
 * <pre>
 *   partition:  table header (64 B)  | entry 0 | entry 1 | ...            (64 B each)
 *   header:     magic^index, capacity, count, puts, checksum(count, puts, index)
 *   entry:      key (0 = empty), version, value[5], checksum(slot, key, version, value)
 * </pre>
 */
public final class KvStoreWorkload extends HeapWorkload {
    public static final String KIND = "kv";
    public static final long TABLE_MAGIC = 0x4b56_5441_424c_4531L;
    public static final int ENTRY_BYTES = 64;
    public static final int VALUE_WORDS = 5;
    /** Linear probing stays short below ~0.7 load (Knuth, TAOCP 6.4); the key space is capped there. */
    public static final double MAX_LOAD = 0.7;
    private static final int X_KEYS = 25;

    private final long keysParam;

    public KvStoreWorkload(WorkloadSpec spec) {
        super(spec, KIND, Set.of("keys"), 64);
        keysParam = spec.longParam("keys", 0, 0, Long.MAX_VALUE);
    }

    /** Entries per table for a page size. */
    public long capacity(long pageSize) {
        return (pagesPerThread * pageSize - ENTRY_BYTES) / ENTRY_BYTES;
    }

    @Override
    protected void setUpThread(MemoryManager mm, CpuState cpu, int index, int threadCount) {
        long cap = capacity(mm.pageSize());
        long keys = keysParam == 0 ? Math.max(1, cap / 2) : keysParam;
        if (keys > cap * MAX_LOAD) {
            throw new IllegalArgumentException(String.format(
                    "workload 'kv': keys=%d exceeds %.0f%% of the %d entries a table of %d pages holds",
                    keys, MAX_LOAD * 100, cap, pagesPerThread));
        }
        long base = cpu.x(X_BASE);
        mm.store64(base, TABLE_MAGIC ^ index);
        mm.store64(base + 8, cap);
        mm.store64(base + 16, 0);
        mm.store64(base + 24, 0);
        mm.store64(base + 32, headerChecksum(index, 0, 0));
        cpu.setX(X_SIZE, cap);
        cpu.setX(X_KEYS, keys);
    }

    static long headerChecksum(long index, long count, long puts) {
        return Mix.mix64(TABLE_MAGIC ^ Mix.mix64(index ^ Mix.mix64(count ^ Mix.mix64(puts))));
    }

    static long value(long seed, long key, long version, int word) {
        return Mix.mix64(seed ^ Mix.mix64(key * 31 + word) ^ (version * Mix.GOLDEN_GAMMA));
    }

    static long entryChecksum(long slot, long key, long version, long[] values) {
        long c = Mix.mix64(slot ^ 0x5eed) ^ key;
        c = Mix.mix64(c) ^ version;
        for (long v : values) {
            c = Mix.mix64(c) ^ v;
        }
        return Mix.mix64(c);
    }

    static long home(long seed, long key, long capacity) {
        return Mix.below(Mix.mix64(key ^ seed), capacity);
    }

    private final ThreadLocal<long[]> scratch = ThreadLocal.withInitial(() -> new long[VALUE_WORDS]);

    @Override
    public void step(StepContext ctx) {
        CpuState cpu = ctx.cpu();
        long base = cpu.x(X_BASE);
        long cap = cpu.x(X_SIZE);
        long seed = spec.seed();
        long key = 1 + Mix.below(Mix.next(cpu), cpu.x(X_KEYS));
        long slot = home(seed, key, cap);
        long found;
        int probes = 0;
        while (true) {
            found = ctx.load64(entry(base, slot));
            if (found == 0 || found == key) {
                break;
            }
            slot = slot + 1 == cap ? 0 : slot + 1;
            if (++probes == cap) {
                throw new WorkloadFailure(base, String.format(
                        "kv table of thread %d at 0x%x is full (%d entries) looking for key %d",
                        ctx.threadIndex(), base, cap, key));
            }
        }
        long e = entry(base, slot);
        long[] values = scratch.get();
        long version = 0;
        if (found == key) {
            version = ctx.load64(e + 8);
            for (int w = 0; w < VALUE_WORDS; w++) {
                values[w] = ctx.load64(e + 16 + 8L * w);
            }
            long sum = ctx.load64(e + 56);
            long expect = entryChecksum(slot, key, version, values);
            if (sum != expect) {
                throw new WorkloadFailure(e, String.format(
                        "kv entry at 0x%x (thread %d, slot %d, key %d, version %d): checksum 0x%x, expected 0x%x",
                        e, ctx.threadIndex(), slot, key, version, sum, expect));
            }
        }
        long count = ctx.load64(base + 16);
        long puts = ctx.load64(base + 24);

        long next = version + 1;
        for (int w = 0; w < VALUE_WORDS; w++) {
            values[w] = value(seed, key, next, w);
        }
        if (found == 0) {
            ctx.store64(e, key);
            count++;
        }
        ctx.store64(e + 8, next);
        for (int w = 0; w < VALUE_WORDS; w++) {
            ctx.store64(e + 16 + 8L * w, values[w]);
        }
        long sum = entryChecksum(slot, key, next, values);
        ctx.store64(e + 56, sum);
        puts++;
        ctx.store64(base + 16, count);
        ctx.store64(base + 24, puts);
        ctx.store64(base + 32, headerChecksum(ctx.threadIndex(), count, puts));
        cpu.setV(0, Long.rotateLeft(cpu.vLow(0), 7) ^ sum, cpu.vHigh(0) + sum);
        advance(cpu, e, sum);
    }

    private static long entry(long base, long slot) {
        return base + ENTRY_BYTES + slot * ENTRY_BYTES;
    }

    /** The total number of puts recorded in memory by all tables (the store's own progress counter). */
    public static long puts(MemoryManager mm) {
        Header h = readHeader(mm);
        long total = 0;
        byte[] b = new byte[8];
        for (int t = 0; t < h.threads(); t++) {
            mm.peek(h.partition(t) + 24, b, 0, 8);
            total += ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }
        return total;
    }

    @Override
    public IntegrityReport verify(MemoryManager mm) {
        Header h = readHeader(mm);
        List<String> problems = new ArrayList<>();
        long checked = 0;
        if (!h.kind().equals(KIND)) {
            problems.add("the workload header names '" + h.kind() + "', not '" + KIND + "'");
            return new IntegrityReport(KIND, true, 0, problems);
        }
        long ps = h.pageSize();
        long cap = (h.pagesPerThread() * ps - ENTRY_BYTES) / ENTRY_BYTES;
        long[] values = new long[VALUE_WORDS];
        for (int t = 0; t < h.threads(); t++) {
            long base = h.partition(t);
            ByteBuffer table = ByteBuffer.allocate((int) (h.pagesPerThread() * ps)).order(ByteOrder.LITTLE_ENDIAN);
            mm.peek(base, table.array(), 0, table.capacity());
            long magic = table.getLong(0);
            long capacity = table.getLong(8);
            long count = table.getLong(16);
            long puts = table.getLong(24);
            long hsum = table.getLong(32);
            if (magic != (TABLE_MAGIC ^ t) || capacity != cap) {
                add(problems, String.format("table %d at 0x%x: magic 0x%x capacity %d, expected 0x%x and %d",
                        t, base, magic, capacity, TABLE_MAGIC ^ t, cap));
                continue;
            }
            if (hsum != headerChecksum(t, count, puts)) {
                add(problems, String.format("table %d at 0x%x: header checksum 0x%x does not match count %d, puts %d",
                        t, base, hsum, count, puts));
            }
            long live = 0;
            long versionSum = 0;
            Set<Long> keys = new HashSet<>();
            for (long slot = 0; slot < cap; slot++) {
                int off = (int) (ENTRY_BYTES + slot * ENTRY_BYTES);
                long key = table.getLong(off);
                if (key == 0) {
                    continue;
                }
                live++;
                checked++;
                long addr = base + off;
                long version = table.getLong(off + 8);
                versionSum += version;
                for (int w = 0; w < VALUE_WORDS; w++) {
                    values[w] = table.getLong(off + 16 + 8 * w);
                }
                long sum = table.getLong(off + 56);
                if (sum != entryChecksum(slot, key, version, values)) {
                    add(problems, String.format("entry at 0x%x (table %d, slot %d, key %d, version %d): checksum 0x%x, expected 0x%x",
                            addr, t, slot, key, version, sum, entryChecksum(slot, key, version, values)));
                    continue;
                }
                for (int w = 0; w < VALUE_WORDS; w++) {
                    if (values[w] != value(h.seed(), key, version, w)) {
                        add(problems, String.format("entry at 0x%x (key %d, version %d): value word %d is 0x%x, expected 0x%x",
                                addr, key, version, w, values[w], value(h.seed(), key, version, w)));
                        break;
                    }
                }
                if (!keys.add(key)) {
                    add(problems, String.format("entry at 0x%x: key %d appears twice in table %d", addr, key, t));
                }
                for (long s = home(h.seed(), key, cap); s != slot; s = s + 1 == cap ? 0 : s + 1) {
                    if (table.getLong((int) (ENTRY_BYTES + s * ENTRY_BYTES)) == 0) {
                        add(problems, String.format("entry at 0x%x (key %d): empty slot %d on its probe path from %d",
                                addr, key, s, home(h.seed(), key, cap)));
                        break;
                    }
                }
            }
            if (live != count) {
                add(problems, String.format("table %d at 0x%x: %d live entries, header says %d", t, base, live, count));
            }
            if (versionSum != puts) {
                add(problems, String.format(
                        "table %d at 0x%x: entry versions add up to %d but the header recorded %d puts (a page is stale or lost)",
                        t, base, versionSum, puts));
            }
            if (puts < count) {
                add(problems, String.format("table %d at 0x%x: %d puts cannot make %d entries", t, base, puts, count));
            }
        }
        return new IntegrityReport(KIND, true, checked, problems);
    }

    static void add(List<String> problems, String p) {
        if (problems.size() < IntegrityReport.MAX_PROBLEMS) {
            problems.add(p);
        }
    }
}
