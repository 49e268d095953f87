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
 * Random sequences of mmap (private and shared anonymous), munmap, mprotect, madvise, mremap,
 * fork, clear_refs and stores run against the emulator and against a naive model (page -> prot,
 * shared, populated, exclusive, swapped, written-since-clear_refs-4, 8-byte words). Contents,
 * SIGSEGV outcomes and pagemap bits 55 (soft-dirty), 56 (exclusive), 57 (uffd-wp), 61 (file /
 * shared anonymous), 62 (swapped) and 63 (present) must agree, for every granule, on the stock
 * kernel and on the RFC soft-dirty kernel.
 */
class MemoryModelPropertyTest {
    /**
     * A sandbox of 24 pages at a fixed, PMD-aligned address (FIXED mappings only, so the model
     * knows where): small enough that stores, forks and remaps keep landing on mapped, written pages.
     */
    private static final int PAGES = 24;

    enum Kind { MMAP, MMAP_SHARED, MUNMAP, MPROTECT, DONTNEED, STORE, LOAD, MREMAP_MOVE, PAGEOUT, FORK, CLEAR_SOFT_DIRTY }

    record Op(Kind kind, int page, int count, int prot, int word, long value) {
    }

    /** What the model keeps per mapped page. */
    static final class Page {
        int prot;
        /** MAP_SHARED|MAP_ANONYMOUS: backed by a shmem object, whose pages outlive a zap. */
        boolean shared;
        boolean populated;
        boolean exclusive;
        boolean swapped;
        /**
         * Stored to (or newly mapped) since the last clear_refs 4 and not zapped since: a
         * soft-dirty kernel must report bit 55 for it. Other pages may read soft-dirty too (the
         * false positives of §B.1: merged VMAs, moved ptes), never these read clean.
         */
        boolean softDirty = true;
        Map<Integer, Long> words = new HashMap<>();
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Kind> kind = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.just(Kind.MMAP)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.MMAP_SHARED)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.FORK)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.CLEAR_SOFT_DIRTY)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.MUNMAP)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.MPROTECT)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.DONTNEED)),
                net.jqwik.api.Tuple.of(8, Arbitraries.just(Kind.STORE)),
                net.jqwik.api.Tuple.of(4, Arbitraries.just(Kind.LOAD)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.MREMAP_MOVE)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.PAGEOUT)));
        Arbitrary<Op> op = Combinators.combine(kind,
                Arbitraries.integers().between(0, PAGES - 1).withDistribution(net.jqwik.api.RandomDistribution.uniform()),
                Arbitraries.integers().between(1, 6), Arbitraries.of(Prot.NONE, Prot.READ, Prot.READ | Prot.WRITE),
                Arbitraries.integers().between(0, 7), Arbitraries.longs()).as(Op::new);
        return op.list().ofMinSize(5).ofMaxSize(60);
    }

    @Property(tries = 60)
    void emulatorMatchesNaiveModel(@ForAll Granule granule, @ForAll boolean softDirtyKernel,
            @ForAll("ops") List<Op> ops) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(granule).withSoftDirty(softDirtyKernel))) {
            long p = mm.pageSize();
            long base = 0x10_0000_0000L;
            Page[] model = new Page[PAGES];
            for (Op op : ops) {
                int first = op.page();
                int n = Math.min(op.count(), PAGES - first);
                long addr = base + first * p;
                long wordOff = (long) op.word() * (p / 8) & ~7L;
                switch (op.kind()) {
                    case MMAP, MMAP_SHARED -> {
                        boolean shared = op.kind() == Kind.MMAP_SHARED;
                        mm.mmap(addr, n * p, op.prot(),
                                (shared ? MapFlags.SHARED : MapFlags.PRIVATE) | MapFlags.ANONYMOUS | MapFlags.FIXED);
                        for (int i = first; i < first + n; i++) {
                            model[i] = new Page();
                            model[i].prot = op.prot();
                            model[i].shared = shared;
                        }
                    }
                    case CLEAR_SOFT_DIRTY -> {
                        mm.clearRefs(4);
                        for (Page m : model) {
                            if (m != null) {
                                m.softDirty = false;
                            }
                        }
                    }
                    case FORK -> {
                        // The parent first writes the next writable page from here, so there is
                        // a private written page for the child to copy on write more often than
                        // random sequences alone would leave one.
                        for (int k = 0; k < PAGES; k++) {
                            int q = (first + k) % PAGES;
                            Page m = model[q];
                            if (m != null && (m.prot & Prot.WRITE) != 0) {
                                mm.store64(base + q * p + wordOff, ~op.value());
                                m.words.put((int) wordOff, ~op.value());
                                m.populated = true;
                                m.exclusive = true;
                                m.swapped = false;
                                m.softDirty = true;
                                break;
                            }
                        }
                        fork(mm, model, base, p, first, wordOff, op.value());
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
                            // As Linux: the pages before the first hole took the new protection.
                            for (int i = first; i < first + n && model[i] != null; i++) {
                                model[i].prot = op.prot();
                            }
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
                                if (!model[i].shared) {
                                    model[i].words.clear();
                                }
                                model[i].populated = false;
                                model[i].exclusive = false;
                                model[i].swapped = false;
                                // the zap takes the pte's soft-dirty bit with it (a known loss)
                                model[i].softDirty = false;
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
                            m.softDirty = true;
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
                            if (m.shared) {
                                // shmem maps its own page (mapped once: exclusive), never the zero page
                                m.exclusive = true;
                            }
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
                            if (m != null && !m.shared && m.populated && m.exclusive) {
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
                check(mm, model, base, p, softDirtyKernel);
            }
        }
    }

    /**
     * fork(2): the child sees the parent's memory; its stores to private pages are copied on
     * write and never reach the parent, its stores to shared pages do. It stores to every page
     * (a random one first, to vary the order of the copies) and exits before the parent is
     * checked, so the parent's mapcounts (bit 56) are back where they were.
     */
    private static void fork(MemoryManager mm, Page[] model, long base, long p, int firstPage, long wordOff, long value) {
        try (MemoryManager child = mm.fork()) {
            check(child, model, base, p, null);
            for (int k = 0; k < PAGES; k++) {
                int page = (firstPage + k) % PAGES;
                Page m = model[page];
                boolean ok = m != null && (m.prot & Prot.WRITE) != 0;
                boolean faulted = segv(() -> child.store64(base + page * p + wordOff, value + page));
                assertThat(faulted).as("child store to page %d faults", page).isEqualTo(!ok);
                if (ok && m.shared) {
                    m.words.put((int) wordOff, value + page);
                }
            }
        }
    }

    /** {@code softDirtyKernel} null: contents only (a child's pagemap bits are its own). */
    private static void check(MemoryManager mm, Page[] model, long base, long p, Boolean softDirtyKernel) {
        byte[] buf = new byte[(int) p];
        for (int i = 0; i < PAGES; i++) {
            long a = base + i * p;
            long pm = mm.pagemapEntry(a);
            Page m = model[i];
            if (m == null) {
                assertThat(pm).as("pagemap of unmapped page %d", i).isZero();
                continue;
            }
            if (softDirtyKernel != null) {
                assertThat((pm & Pagemap.PM_PRESENT) != 0).as("PRESENT of page %d", i).isEqualTo(m.populated);
                assertThat((pm & Pagemap.PM_SWAP) != 0).as("SWAP of page %d", i).isEqualTo(m.swapped);
                assertThat((pm & Pagemap.PM_MMAP_EXCLUSIVE) != 0).as("EXCLUSIVE of page %d", i).isEqualTo(m.exclusive);
                assertThat((pm & Pagemap.PM_FILE) != 0).as("FILE of page %d", i).isEqualTo(m.shared && m.populated);
                assertThat(pm & Pagemap.PM_UFFD_WP).as("UFFD_WP of page %d: nothing armed it", i).isZero();
                if (!softDirtyKernel) {
                    assertThat(pm & Pagemap.PM_SOFT_DIRTY).as("SOFT_DIRTY of page %d on stock arm64", i).isZero();
                } else if (m.softDirty) {
                    assertThat(pm & Pagemap.PM_SOFT_DIRTY).as("SOFT_DIRTY of page %d, written since clear_refs 4", i)
                            .isNotZero();
                }
            }
            mm.peek(a, buf, 0, buf.length);
            java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(buf).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int off = 0; off < p; off += 8) {
                long want = m.words.getOrDefault(off, 0L);
                // AssertJ only on a mismatch: a 64K page has 8192 words, checked after every step
                if (bb.getLong(off) != want) {
                    assertThat(bb.getLong(off)).as("word %d of page %d", off, i).isEqualTo(want);
                }
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
