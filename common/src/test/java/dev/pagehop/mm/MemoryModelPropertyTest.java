package dev.pagehop.mm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random sequences of mmap/munmap/mprotect/madvise/mremap and stores run against the emulator
 * and against a naive model (page -> prot, populated, exclusive, 8-byte words). Contents, SIGSEGV
 * outcomes and pagemap PRESENT/EXCLUSIVE bits must agree, for every granule.
 */
class MemoryModelPropertyTest {
    /** A sandbox of 48 pages at a fixed, PMD-aligned address (FIXED mappings only, so the model knows where). */
    private static final int PAGES = 48;

    enum Kind { MMAP, MUNMAP, MPROTECT, DONTNEED, STORE, LOAD, MREMAP_MOVE, PAGEOUT }

    record Op(Kind kind, int page, int count, int prot, int word, long value) {
    }

    /** What the model keeps per mapped page. */
    static final class Page {
        int prot;
        boolean populated;
        boolean exclusive;
        boolean swapped;
        Map<Integer, Long> words = new HashMap<>();

        Page copy() {
            Page p = new Page();
            p.prot = prot;
            p.populated = populated;
            p.exclusive = exclusive;
            p.words = new HashMap<>(words);
            return p;
        }
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Kind> kind = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.just(Kind.MMAP)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.MUNMAP)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.MPROTECT)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.DONTNEED)),
                net.jqwik.api.Tuple.of(8, Arbitraries.just(Kind.STORE)),
                net.jqwik.api.Tuple.of(4, Arbitraries.just(Kind.LOAD)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.MREMAP_MOVE)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.PAGEOUT)));
        Arbitrary<Op> op = Combinators.combine(kind, Arbitraries.integers().between(0, PAGES - 1),
                Arbitraries.integers().between(1, 6), Arbitraries.of(Prot.NONE, Prot.READ, Prot.READ | Prot.WRITE),
                Arbitraries.integers().between(0, 7), Arbitraries.longs()).as(Op::new);
        return op.list().ofMinSize(5).ofMaxSize(60);
    }

    @Property(tries = 60)
    void emulatorMatchesNaiveModel(@ForAll Granule granule, @ForAll("ops") List<Op> ops) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(granule))) {
            long p = mm.pageSize();
            long base = 0x10_0000_0000L;
            Page[] model = new Page[PAGES];
            for (Op op : ops) {
                int first = op.page();
                int n = Math.min(op.count(), PAGES - first);
                long addr = base + first * p;
                long wordOff = (long) op.word() * (p / 8) & ~7L;
                switch (op.kind()) {
                    case MMAP -> {
                        mm.mmap(addr, n * p, op.prot(), MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
                        for (int i = first; i < first + n; i++) {
                            model[i] = new Page();
                            model[i].prot = op.prot();
                        }
                    }
                    case MUNMAP -> {
                        mm.munmap(addr, n * p);
                        for (int i = first; i < first + n; i++) {
                            model[i] = null;
                        }
                    }
                    case MPROTECT -> {
                        boolean allMapped = true;
                        for (int i = first; i < first + n; i++) {
                            allMapped &= model[i] != null;
                        }
                        if (allMapped) {
                            mm.mprotect(addr, n * p, op.prot());
                            for (int i = first; i < first + n; i++) {
                                model[i].prot = op.prot();
                            }
                        } else {
                            assertThat(errnoOf(() -> mm.mprotect(addr, n * p, op.prot()))).isEqualTo(Errno.ENOMEM);
                        }
                    }
                    case DONTNEED -> {
                        boolean allMapped = true;
                        for (int i = first; i < first + n; i++) {
                            allMapped &= model[i] != null;
                        }
                        int got = errnoOf(() -> mm.madvise(addr, n * p, Madvise.DONTNEED));
                        assertThat(got).isEqualTo(allMapped ? 0 : Errno.ENOMEM);
                        for (int i = first; i < first + n; i++) {
                            if (model[i] != null) {
                                model[i].words.clear();
                                model[i].populated = false;
                                model[i].exclusive = false;
                                model[i].swapped = false;
                            }
                        }
                    }
                    case STORE -> {
                        Page m = model[first];
                        boolean ok = m != null && (m.prot & Prot.WRITE) != 0;
                        boolean faulted = segv(() -> mm.store64(addr + wordOff, op.value()));
                        assertThat(faulted).as("store to page %d (%s) faults", first, m == null ? "unmapped" : m.prot)
                                .isEqualTo(!ok);
                        if (ok) {
                            m.words.put((int) wordOff, op.value());
                            m.populated = true;
                            m.exclusive = true;
                            m.swapped = false;
                        }
                    }
                    case LOAD -> {
                        Page m = model[first];
                        boolean ok = m != null && m.prot != Prot.NONE;
                        long[] got = new long[1];
                        boolean faulted = segv(() -> got[0] = mm.load64(addr + wordOff));
                        assertThat(faulted).isEqualTo(!ok);
                        if (ok) {
                            assertThat(got[0]).isEqualTo(m.words.getOrDefault((int) wordOff, 0L));
                            m.populated = true;
                            if (m.swapped) {
                                m.exclusive = true;
                                m.swapped = false;
                            }
                        }
                    }
                    case PAGEOUT -> {
                        boolean allMapped = true;
                        for (int i = first; i < first + n; i++) {
                            allMapped &= model[i] != null;
                        }
                        int got = errnoOf(() -> mm.madvise(addr, n * p, Madvise.PAGEOUT));
                        assertThat(got).isEqualTo(allMapped ? 0 : Errno.ENOMEM);
                        for (int i = first; i < first + n; i++) {
                            Page m = model[i];
                            if (m != null && m.populated && m.exclusive) {
                                m.populated = false;
                                m.exclusive = false;
                                m.swapped = true;
                            }
                        }
                    }
                    case MREMAP_MOVE -> {
                        // Move [first, first+n) to the top of the sandbox if it is one fully mapped VMA.
                        int dst = PAGES - n;
                        if (first + n > dst || model[first] == null) {
                            continue;
                        }
                        List<VmaInfo> in = mm.vmas().stream()
                                .filter(v -> v.start() <= addr && addr + n * p <= v.end()).toList();
                        if (in.isEmpty()) {
                            continue;
                        }
                        long to = base + dst * p;
                        assertThat(mm.mremap(addr, n * p, n * p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, to))
                                .isEqualTo(to);
                        Page[] moved = new Page[n];
                        for (int i = 0; i < n; i++) {
                            moved[i] = model[first + i];
                            model[first + i] = null;
                        }
                        for (int i = 0; i < n; i++) {
                            model[dst + i] = moved[i];
                        }
                    }
                }
                check(mm, model, base, p);
            }
        }
    }

    private static void check(MemoryManager mm, Page[] model, long base, long p) {
        byte[] buf = new byte[(int) p];
        for (int i = 0; i < PAGES; i++) {
            long a = base + i * p;
            long pm = mm.pagemapEntry(a);
            Page m = model[i];
            if (m == null) {
                assertThat(pm).as("pagemap of unmapped page %d", i).isZero();
                continue;
            }
            assertThat((pm & Pagemap.PM_PRESENT) != 0).as("PRESENT of page %d", i).isEqualTo(m.populated);
            assertThat((pm & Pagemap.PM_SWAP) != 0).as("SWAP of page %d", i).isEqualTo(m.swapped);
            assertThat((pm & Pagemap.PM_MMAP_EXCLUSIVE) != 0).as("EXCLUSIVE of page %d", i).isEqualTo(m.exclusive);
            mm.peek(a, buf, 0, buf.length);
            java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(buf).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int off = 0; off < p; off += 8) {
                assertThat(bb.getLong(off)).as("word %d of page %d", off, i).isEqualTo(m.words.getOrDefault(off, 0L));
            }
        }
    }

    private static boolean segv(Runnable r) {
        try {
            r.run();
            return false;
        } catch (SegmentationFault e) {
            return true;
        }
    }

    private static int errnoOf(Runnable r) {
        try {
            r.run();
            return 0;
        } catch (ErrnoException e) {
            return e.errno();
        }
    }
}
