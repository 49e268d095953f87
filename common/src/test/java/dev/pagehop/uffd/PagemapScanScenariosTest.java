package dev.pagehop.uffd;

import static dev.pagehop.uffd.Kernel.BITS_ALL;
import static dev.pagehop.uffd.Kernel.GETWP;
import static dev.pagehop.uffd.Kernel.W;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.mm.Errno;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Prot;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Spec §C.2, argument validation and counting: 1000 pages of anon memory, WP_INIT + ARM. */
@DisplayName("§C.2 PAGEMAP_SCAN with async uffd-wp (pagemap_ioctl.c)")
// Liveness guard only: an emulator bug that parks a thread forever fails the case instead of
// hanging the suite.
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PagemapScanScenariosTest {
    private static final int N = 1000;

    /** mem = 1000P anon RW, WP_INIT, ARM. */
    private static long armedArea(Kernel k, long pages) {
        k.asyncUffd();
        long mem = k.map(pages);
        k.wpInit(mem, pages * k.p);
        k.arm(mem, pages * k.p);
        return mem;
    }

    private static int errnoOf(Runnable r) {
        try {
            r.run();
        } catch (ErrnoException e) {
            return e.errno();
        }
        throw new AssertionError("expected the call to fail with an errno");
    }

    @ParameterizedTest(name = "PS-01 start == end with a vec returns 0 [{0}]")
    @EnumSource(Granule.class)
    void ps01(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            assertThat(k.scan(mem, 0, 500, 0, 0, W, 0, 0, W)).isZero();
            assertThat(k.last.walkEnd).as("walk_end of an empty range").isEqualTo(mem);
        }
    }

    @ParameterizedTest(name = "PS-02 NULL vec with vec_len 500 fails EINVAL [{0}]")
    @EnumSource(Granule.class)
    void ps02(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            PmScanArg arg = new PmScanArg(mem, mem + N * k.p).masks(W, 0, 0, W);
            arg.vecLen = 500;
            assertThat(errnoOf(() -> k.mm.pagemapScan(arg))).isEqualTo(Errno.EINVAL);
        }
    }

    @ParameterizedTest(name = "PS-03 vec with vec_len 0 returns 0 [{0}]")
    @EnumSource(Granule.class)
    void ps03(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            k.touchPages(mem, N);
            PmScanArg arg = new PmScanArg(mem, mem + N * k.p).masks(W, 0, 0, W);
            arg.vec = new PageRegion[500];
            arg.vecLen = 0;
            assertThat(k.mm.pagemapScan(arg)).isZero();
        }
    }

    @ParameterizedTest(name = "PS-04 NULL vec with vec_len 0 returns 0 [{0}]")
    @EnumSource(Granule.class)
    void ps04(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            k.touchPages(mem, N);
            assertThat(k.scan(mem, N * k.p, 0, 0, 0, W, 0, 0, W)).isZero();
            assertThat(k.getWritten(mem, N * k.p, N)).as("a NULL-vec GET consumes nothing").isEqualTo(1);
        }
    }

    @ParameterizedTest(name = "PS-05 flags = -1 fails EINVAL [{0}]")
    @EnumSource(Granule.class)
    void ps05(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            assertThat(errnoOf(() -> k.scan(mem, N * k.p, 500, -1L, 0, W, 0, 0, W))).isEqualTo(Errno.EINVAL);
        }
    }

    @ParameterizedTest(name = "PS-06 flags = WP_MATCHING|CHECK_WPASYNC|0xFF fails EINVAL [{0}]")
    @EnumSource(Granule.class)
    void ps06(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            assertThat(errnoOf(() -> k.scan(mem, N * k.p, 500, GETWP | 0xFF, 0, W, 0, 0, W))).isEqualTo(Errno.EINVAL);
        }
    }

    @ParameterizedTest(name = "PS-07 all masks 0 with return WRITTEN succeeds [{0}]")
    @EnumSource(Granule.class)
    void ps07(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            assertThat(k.scan(mem, N * k.p, 500, 0, 0, 0, 0, 0, W)).isGreaterThanOrEqualTo(0);
            // Every page is interesting and none is written: one region, categories stripped to 0.
            assertThat(k.last.vec[0]).isEqualTo(new PageRegion(mem, mem + N * k.p, 0));
        }
    }

    @ParameterizedTest(name = "PS-08 mask = anyof = WRITTEN, return 0 returns 0 [{0}]")
    @EnumSource(Granule.class)
    void ps08(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            assertThat(k.scan(mem, N * k.p, 500, 0, 0, W, W, 0, 0)).isZero();
        }
    }

    @ParameterizedTest(name = "PS-09 return mask 0x1000 fails EINVAL [{0}]")
    @EnumSource(Granule.class)
    void ps09(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            assertThat(errnoOf(() -> k.scan(mem, N * k.p, 500, 0, 0, 0, 0, 0, 0x1000))).isEqualTo(Errno.EINVAL);
        }
    }

    @ParameterizedTest(name = "PS-10 category mask 0xFFF with GETWP fails EINVAL [{0}]")
    @EnumSource(Granule.class)
    void ps10(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            assertThat(errnoOf(() -> k.scan(mem, N * k.p, 500, GETWP, 0, 0xFFF, 0, 0, W))).isEqualTo(Errno.EINVAL);
        }
    }

    @ParameterizedTest(name = "PS-11 GETWP with inverted = BITS_ALL succeeds [{0}]")
    @EnumSource(Granule.class)
    void ps11(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            assertThat(k.scan(mem, N * k.p, 500, GETWP, 0, 0, 0, BITS_ALL, W)).isGreaterThanOrEqualTo(0);
        }
    }

    @ParameterizedTest(name = "PS-12 GETWP mask WRITTEN on the clean area finds nothing [{0}]")
    @EnumSource(Granule.class)
    void ps12(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            assertThat(k.getWpWritten(mem, N * k.p, 2 * N, 0)).isZero();
        }
    }

    @ParameterizedTest(name = "PS-13 every 2nd page written: 500 single-page regions [{0}]")
    @EnumSource(Granule.class)
    void ps13(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            for (int i = 0; i < N; i += 2) {
                k.touch(mem + i * k.p);
            }
            assertThat(k.getWritten(mem, N * k.p, 500)).isEqualTo(500);
            for (int i = 0; i < 500; i++) {
                assertThat(k.region(i)).isEqualTo(new PageRegion(mem + 2L * i * k.p, mem + (2L * i + 1) * k.p, W));
            }
        }
    }

    @ParameterizedTest(name = "PS-14 max_pages 498 then the last 2: pages beyond max_pages stay written [{0}]")
    @EnumSource(Granule.class)
    void ps14(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            for (int i = 0; i < N; i += 2) {
                k.touch(mem + i * k.p);
            }
            int first = k.getWpWritten(mem, N * k.p, 500, 498);
            assertThat(first).isEqualTo(498);
            assertThat(k.last.walkEnd).as("walk_end = first matching page not reported").isEqualTo(mem + 996 * k.p);
            int middle = k.getWritten(mem, N * k.p, 2);
            assertThat(middle).isEqualTo(2);
            int rest = k.getWpWritten(mem, N * k.p, 500, 0);
            assertThat(rest).isEqualTo(2);
            assertThat(first + rest).isEqualTo(500);
            assertThat(k.getWritten(mem, N * k.p, 500)).as("everything re-armed").isZero();
        }
    }

    @ParameterizedTest(name = "PS-15 even pages + last page, max_pages 500: 500 regions, then page 999 alone [{0}]")
    @EnumSource(Granule.class)
    void ps15(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            for (int i = 0; i < N; i += 2) {
                k.touch(mem + i * k.p);
            }
            k.touch(mem + 999 * k.p);
            assertThat(k.getWpWritten(mem, N * k.p, N, 500)).isEqualTo(500);
            assertThat(k.region(499)).as("the 998..999 run truncated to max_pages")
                    .isEqualTo(new PageRegion(mem + 998 * k.p, mem + 999 * k.p, W));
            assertThat(k.getWpWritten(mem, N * k.p, N, 0)).isEqualTo(1);
            assertThat(k.region(0)).isEqualTo(new PageRegion(mem + 999 * k.p, mem + N * k.p, W));
        }
    }

    @ParameterizedTest(name = "PS-16 partial GETWP of 2 pages leaves two written runs around them [{0}]")
    @EnumSource(Granule.class)
    void ps16(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, N);
            k.touchPages(mem, N);
            assertThat(k.getWpWritten(mem + k.p, 2 * k.p, 1, 2)).isEqualTo(1);
            assertThat(k.region(0)).isEqualTo(new PageRegion(mem + k.p, mem + 3 * k.p, W));
            assertThat(k.getWritten(mem, N * k.p, N)).isEqualTo(2);
            assertThat(k.region(0)).isEqualTo(new PageRegion(mem, mem + k.p, W));
            assertThat(k.region(1)).isEqualTo(new PageRegion(mem + 3 * k.p, mem + N * k.p, W));
            assertThat(k.len(k.region(1))).isEqualTo(997);
        }
    }

    @ParameterizedTest(name = "PS-17 arming one mapping leaves the other written [{0}]")
    @EnumSource(Granule.class)
    void ps17(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            k.asyncUffd();
            long m0 = k.map(N);
            long m1 = k.map(N);
            for (long m : new long[] {m0, m1}) {
                k.wpInit(m, N * k.p);
                k.arm(m, N * k.p);
            }
            k.touchPages(m0, N);
            k.touchPages(m1, N);
            k.arm(m0, N * k.p);
            assertThat(k.getWritten(m1, N * k.p, 1)).isEqualTo(1);
            assertThat(k.len(k.region(0))).isEqualTo(N);
            assertThat(k.getWritten(m0, N * k.p, 1)).isZero();
        }
    }

    @ParameterizedTest(name = "PS-18 three GETWP with max_pages 210 collect 210 + 210 + 105 [{0}]")
    @EnumSource(Granule.class)
    void ps18(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, 1050);
            for (int i = 0; i < 1050; i += 2) {
                k.touch(mem + i * k.p);
            }
            assertThat(k.getWpWritten(mem, 1050 * k.p, 1050, 210)).isEqualTo(210);
            assertThat(k.getWpWritten(mem, 1050 * k.p, 1050, 210)).isEqualTo(210);
            assertThat(k.getWpWritten(mem, 1050 * k.p, 1050, 210)).isEqualTo(105);
            assertThat(k.getWpWritten(mem, 1050 * k.p, 1050, 210)).isZero();
        }
    }

    @ParameterizedTest(name = "PS-34 an unmapped range scans without error [{0}]")
    @EnumSource(Granule.class)
    void ps34(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = 0x10000000L;
            long len = 256 << 10;
            assertThat(k.mm.vmas()).noneMatch(v -> v.start() < a + len && v.end() > a);
            assertThat(k.scan(a, len, 10, 0, 0, Kernel.NON_WRITTEN, 0, 0, Kernel.NON_WRITTEN)).isZero();
        }
    }

    @ParameterizedTest(name = "PS-35 iterative: 100 rounds of arm, write, exactly one written region [{0}]")
    @EnumSource(Granule.class)
    void ps35(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, 1);
            for (int round = 0; round < 100; round++) {
                assertThat(k.getWritten(mem, k.p, 1)).as("round %d before the write", round).isNotEqualTo(1);
                k.arm(mem, k.p);
                k.mm.store32(mem, round);
                assertThat(k.getWritten(mem, k.p, 1)).as("round %d after the write", round).isEqualTo(1);
                k.arm(mem, k.p);
            }
        }
    }

    @ParameterizedTest(name = "PS-36 every mask combination with BITS_ALL is accepted [{0}]")
    @EnumSource(Granule.class)
    void ps36(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, 10);
            long len = 10 * k.p;
            assertThat(k.scan(mem, len, 10, GETWP, 0, BITS_ALL, 0, 0, BITS_ALL)).isGreaterThanOrEqualTo(0);
            assertThat(k.scan(mem, len, 10, 0, 0, BITS_ALL, 0, 0, BITS_ALL)).isGreaterThanOrEqualTo(0);
            assertThat(k.scan(mem, len, 10, 0, 0, 0, BITS_ALL, 0, BITS_ALL)).isGreaterThanOrEqualTo(0);
            assertThat(k.scan(mem, len, 10, 0, 0, 0, 0, BITS_ALL, BITS_ALL)).isGreaterThanOrEqualTo(0);
            assertThat(k.scan(mem, len, 10, 0, 0, BITS_ALL, BITS_ALL, 0, BITS_ALL)).isGreaterThanOrEqualTo(0);
        }
    }

    @ParameterizedTest(name = "PS-37 anyof ALL on a written area: one region, WRITTEN|PRESENT|WPALLOWED [{0}]")
    @EnumSource(Granule.class)
    void ps37(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, 10);
            k.touchPages(mem, 10);
            assertThat(k.scan(mem, 10 * k.p, 10, 0, 0, 0, BITS_ALL, 0, BITS_ALL)).isEqualTo(1);
            assertThat(k.region(0).start()).isEqualTo(mem);
            assertThat(k.len(k.region(0))).isEqualTo(10);
            assertThat(k.region(0).categories()).isEqualTo(W | Uffd.PAGE_IS_PRESENT | Uffd.PAGE_IS_WPALLOWED);
        }
    }

    @ParameterizedTest(name = "PS-39 mask WRITTEN anyof PRESENT: one full region [{0}]")
    @EnumSource(Granule.class)
    void ps39(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, 10);
            k.touchPages(mem, 10);
            assertThat(k.scan(mem, 10 * k.p, 10, 0, 0, W, Uffd.PAGE_IS_PRESENT, 0, BITS_ALL)).isEqualTo(1);
            assertThat(k.len(k.region(0))).isEqualTo(10);
            assertThat(k.region(0).categories() & (W | Uffd.PAGE_IS_PRESENT)).isEqualTo(W | Uffd.PAGE_IS_PRESENT);
        }
    }

    @ParameterizedTest(name = "PS-40 mask WRITTEN inverted WRITTEN on written pages finds nothing [{0}]")
    @EnumSource(Granule.class)
    void ps40(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, 10);
            k.touchPages(mem, 10);
            assertThat(k.scan(mem, 10 * k.p, 10, 0, 0, W, 0, W, BITS_ALL)).isZero();
        }
    }

    @ParameterizedTest(name = "PS-41 mask PRESENT inverted PRESENT on present pages finds nothing [{0}]")
    @EnumSource(Granule.class)
    void ps41(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, 10);
            k.touchPages(mem, 10);
            assertThat(k.scan(mem, 10 * k.p, 10, 0, 0, Uffd.PAGE_IS_PRESENT, 0, Uffd.PAGE_IS_PRESENT, BITS_ALL)).isZero();
        }
    }

    @ParameterizedTest(name = "PS-45 mprotect and a FIXED remap keep written tracking, coalesced across VMAs [{0}]")
    @EnumSource(Granule.class)
    void ps45(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            k.asyncUffd();
            long p = k.p;
            long mem = k.map(2);
            k.wpInit(mem, 2 * p);
            k.arm(mem, 2 * p);
            k.touchPages(mem, 2);
            assertThat(k.getWritten(mem, 2 * p, 1)).isEqualTo(1);
            assertThat(k.len(k.region(0))).isEqualTo(2);
            k.arm(mem, 2 * p);
            assertThat(k.getWritten(mem, 2 * p, 1)).isZero();

            long mem2 = k.mm.mmap(mem + p, p, Kernel.RW, Kernel.ANON | MapFlags.FIXED);
            assertThat(mem2).isEqualTo(mem + p);
            k.wpInit(mem2, p);
            k.arm(mem2, p);
            k.mm.mprotect(mem, p, Prot.NONE);
            k.mm.mprotect(mem, 2 * p, Prot.READ);
            k.mm.mprotect(mem, 2 * p, Kernel.RW);
            k.touchPages(mem, 2);
            k.mm.mprotect(mem, p, Prot.NONE);
            k.mm.mprotect(mem, p, Prot.READ);
            k.mm.mprotect(mem, p, Kernel.RW);
            assertThat(k.getWritten(mem, 2 * p, 1)).isEqualTo(1);
            assertThat(k.len(k.region(0))).as("both pages written after remap and mprotect").isEqualTo(2);

            k.arm(mem, 2 * p);
            k.touchPages(mem, 2);
            assertThat(k.getWritten(mem, 2 * p, 1)).isEqualTo(1);
            assertThat(k.len(k.region(0))).isEqualTo(2);
        }
    }

    @ParameterizedTest(name = "PS-48 read-only pages read once map the zero page: one PFNZERO region [{0}]")
    @EnumSource(Granule.class)
    void ps48(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = k.mm.mmap(0, 10 * k.p, Prot.READ, Kernel.ANON);
            for (int i = 0; i < 10; i++) {
                assertThat(k.mm.load8(mem + i * k.p)).isZero();
            }
            long z = Uffd.PAGE_IS_PFNZERO;
            assertThat(k.scan(mem, 10 * k.p, 1, 0, 10, z, 0, 0, z)).isEqualTo(1);
            assertThat(k.region(0)).isEqualTo(new PageRegion(mem, mem + 10 * k.p, z));
        }
    }

    @ParameterizedTest(name = "PS-02 (errors) unaligned start fails EINVAL, size != sizeof fails EINVAL [{0}]")
    @EnumSource(Granule.class)
    void argumentErrorsBeyondSelftest(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long mem = armedArea(k, 10);
            assertThat(errnoOf(() -> k.scan(mem + 8, k.p, 10, 0, 0, W, 0, 0, W))).isEqualTo(Errno.EINVAL);
            PmScanArg arg = new PmScanArg(mem, mem + k.p).withVec(10).masks(W, 0, 0, W);
            arg.size = PmScanArg.SIZEOF - 8;
            assertThat(errnoOf(() -> k.mm.pagemapScan(arg))).isEqualTo(Errno.EINVAL);
            assertThatThrownBy(() -> k.scan(mem, k.p, 10, 0, 0, 1L << 20, 0, 0, W))
                    .isInstanceOf(ErrnoException.class).hasMessageContaining("EINVAL");
        }
    }
}
