package dev.pagehop.mm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.uffd.PageRegion;
import dev.pagehop.uffd.PmScanArg;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.Userfaultfd;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Async uffd-wp against a model of "written since last re-arm" (spec §B.4, §B.6, §B.9): random
 * stores, loads, MADV_DONTNEED (anon zap = written), mprotect round trips (uffd-wp preserved),
 * partial get-and-re-protect scans with max_pages, and pagemap bit 57, for every granule.
 */
class AsyncWpModelPropertyTest {
    private static final int PAGES = 40;
    private static final long W = Uffd.PAGE_IS_WRITTEN;

    enum Kind { STORE, LOAD, DONTNEED, MPROTECT_RO_RW, SCAN_REARM, SCAN_GET, PAGEOUT }

    record Op(Kind kind, int page, int count, int max) {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Kind> kind = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.just(Kind.STORE)),
                Tuple.of(3, Arbitraries.just(Kind.LOAD)),
                Tuple.of(1, Arbitraries.just(Kind.DONTNEED)),
                Tuple.of(1, Arbitraries.just(Kind.MPROTECT_RO_RW)),
                Tuple.of(2, Arbitraries.just(Kind.SCAN_REARM)),
                Tuple.of(2, Arbitraries.just(Kind.SCAN_GET)),
                Tuple.of(1, Arbitraries.just(Kind.PAGEOUT)));
        return Combinators.combine(kind, Arbitraries.integers().between(0, PAGES - 1),
                Arbitraries.integers().between(1, 8), Arbitraries.integers().between(0, 12)).as(Op::new)
                .list().ofMinSize(5).ofMaxSize(80);
    }

    @Property(tries = 60)
    void writtenStateMatchesTheModel(@ForAll Granule granule, @ForAll("ops") List<Op> ops) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(granule))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, PAGES * p, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
            Userfaultfd u = mm.userfaultfd(Uffd.USER_MODE_ONLY);
            u.api(Uffd.FEATURE_WP_ASYNC | Uffd.FEATURE_WP_UNPOPULATED);
            u.register(a, PAGES * p, Uffd.REGISTER_MODE_WP);
            u.writeprotect(a, PAGES * p, Uffd.WRITEPROTECT_MODE_WP);
            boolean[] written = new boolean[PAGES];
            for (Op op : ops) {
                int first = op.page();
                int n = Math.min(op.count(), PAGES - first);
                switch (op.kind()) {
                    case STORE -> {
                        mm.store32(a + first * p + 4L * op.max(), op.max());
                        written[first] = true;
                    }
                    case LOAD -> mm.load8(a + first * p);
                    case DONTNEED -> {
                        mm.madvise(a + first * p, n * p, Madvise.DONTNEED);
                        for (int i = first; i < first + n; i++) {
                            written[i] = true;
                        }
                    }
                    case PAGEOUT -> mm.madvise(a + first * p, n * p, Madvise.PAGEOUT);
                    case MPROTECT_RO_RW -> {
                        mm.mprotect(a + first * p, n * p, Prot.READ);
                        mm.mprotect(a + first * p, n * p, Prot.READ | Prot.WRITE);
                    }
                    case SCAN_REARM, SCAN_GET -> {
                        boolean rearm = op.kind() == Kind.SCAN_REARM;
                        long max = op.max();
                        PmScanArg s = new PmScanArg(a + first * p, a + (first + n) * p).withVec(PAGES)
                                .masks(W, 0, 0, W).maxPages(max)
                                .flags(rearm ? Uffd.PM_SCAN_WP_MATCHING | Uffd.PM_SCAN_CHECK_WPASYNC : 0);
                        int got = mm.pagemapScan(s);
                        long reported = 0;
                        long expectCursor = first;
                        for (int r = 0; r < got; r++) {
                            PageRegion region = s.vec[r];
                            assertThat(region.categories()).isEqualTo(W);
                            for (long x = region.start(); x < region.end(); x += p) {
                                int i = (int) ((x - a) / p);
                                assertThat(i).as("reported pages ascend").isGreaterThanOrEqualTo((int) expectCursor);
                                for (long j = expectCursor; j < i; j++) {
                                    assertThat(written[(int) j]).as("page %d skipped by the scan", j).isFalse();
                                }
                                assertThat(written[i]).as("page %d reported written", i).isTrue();
                                if (rearm) {
                                    written[i] = false;
                                }
                                expectCursor = i + 1;
                                reported++;
                            }
                        }
                        if (max == 0 || reported < max) {
                            for (long j = expectCursor; j < first + n; j++) {
                                assertThat(written[(int) j]).as("page %d after the last region", j).isFalse();
                            }
                            assertThat(s.walkEnd).isEqualTo(a + (first + n) * p);
                        } else {
                            assertThat(reported).isEqualTo(max);
                        }
                    }
                }
                for (int i = 0; i < PAGES; i++) {
                    long pm = mm.pagemapEntry(a + i * p);
                    assertThat((pm & Pagemap.PM_UFFD_WP) == 0).as("pagemap bit 57 of page %d", i)
                            .isEqualTo(written[i]);
                }
            }
            u.close();
        }
    }
}
