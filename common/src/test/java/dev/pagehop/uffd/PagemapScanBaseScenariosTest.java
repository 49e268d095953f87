package dev.pagehop.uffd;

import static dev.pagehop.uffd.Kernel.W;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Memfd;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Spec §C.2 base tests (PS-22..26) per memory type, and the THP unit tests (PS-27, PS-28). */
@DisplayName("§C.2 PAGEMAP_SCAN base tests per memory type")
// Liveness guard only: an emulator bug that parks a thread forever fails the case instead of
// hanging the suite.
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PagemapScanBaseScenariosTest {

    /** The memory types pagemap_ioctl.c runs its base tests on. */
    enum Mem {
        ANON_10P,
        ANON_5120P,
        ONE_THP,
        SYSV_SHM_HUGETLB,
        MAP_HUGETLB_PRIVATE,
        MEMFD_HUGETLB_SHARED,
        REGULAR_FILE_PRIVATE,
        MEMFD_PRIVATE;

        boolean outOfScope() {
            return this == SYSV_SHM_HUGETLB || this == MAP_HUGETLB_PRIVATE || this == MEMFD_HUGETLB_SHARED
                    || this == REGULAR_FILE_PRIVATE;
        }
    }

    static Stream<Arguments> cases() {
        return Arrays.stream(Granule.values()).flatMap(g -> Arrays.stream(Mem.values()).map(m -> Arguments.of(g, m)));
    }

    /** A WP_INIT + ARMed area of the memory type; returns {address, pages}. */
    private static long[] area(Kernel k, Mem mem) {
        Assumptions.assumeFalse(mem.outOfScope(), () -> mem + ": hugetlb and regular files on disk are out of"
                + " pagehop's scope (spec, Scope); anon, shmem/memfd and anon THP are covered");
        k.asyncUffd();
        long a;
        long n;
        switch (mem) {
            case ANON_10P -> {
                n = 10;
                a = k.map(n);
            }
            case ANON_5120P -> {
                n = 5120;
                a = k.map(n);
            }
            case ONE_THP -> {
                n = k.h / k.p;
                a = k.thp(1);
            }
            case MEMFD_PRIVATE -> {
                n = 10;
                Memfd fd = k.mm.memfdCreate("ps-base", n * k.p);
                a = k.mm.mmap(0, n * k.p, Kernel.RW, MapFlags.PRIVATE, fd, 0);
            }
            default -> throw new AssertionError(mem);
        }
        k.wpInit(a, n * k.p);
        k.arm(a, n * k.p);
        return new long[] {a, n};
    }

    @ParameterizedTest(name = "PS-22 a fresh armed area is not written [{0}, {1}]")
    @MethodSource("cases")
    void ps22(Granule g, Mem mem) {
        try (Kernel k = Kernel.of(g)) {
            long[] an = area(k, mem);
            assertThat(k.getWpWritten(an[0], an[1] * k.p, 1, an[1] - 2)).isZero();
        }
    }

    @ParameterizedTest(name = "PS-23 all pages written: one region of n pages [{0}, {1}]")
    @MethodSource("cases")
    void ps23(Granule g, Mem mem) {
        try (Kernel k = Kernel.of(g)) {
            long[] an = area(k, mem);
            k.touchPages(an[0], an[1]);
            assertThat(k.getWritten(an[0], an[1] * k.p, 1)).isEqualTo(1);
            assertThat(k.region(0)).isEqualTo(new PageRegion(an[0], an[0] + an[1] * k.p, W));
        }
    }

    @ParameterizedTest(name = "PS-24 pages 1..n-2 written after a re-arm: one region of n-2..n pages, then none [{0}, {1}]")
    @MethodSource("cases")
    void ps24(Granule g, Mem mem) {
        try (Kernel k = Kernel.of(g)) {
            long[] an = area(k, mem);
            long a = an[0];
            long n = an[1];
            k.touchPages(a, n);
            k.getWpWritten(a, n * k.p, (int) n, 0);
            k.touchPages(a + k.p, n - 2);
            assertThat(k.getWpWritten(a, n * k.p, 1, 0)).isEqualTo(1);
            assertThat(k.len(k.region(0))).isBetween(n - 2, n);
            assertThat(k.getWritten(a, n * k.p, 1)).isZero();
        }
    }

    @ParameterizedTest(name = "PS-25 middle page written: one region [{0}, {1}]")
    @MethodSource("cases")
    void ps25(Granule g, Mem mem) {
        try (Kernel k = Kernel.of(g)) {
            long[] an = area(k, mem);
            long a = an[0];
            long n = an[1];
            k.getWpWritten(a, n * k.p, (int) n, 0);
            k.touch(a + (n / 2) * k.p);
            assertThat(k.getWritten(a, n * k.p, (int) n)).isEqualTo(1);
            assertThat(k.len(k.region(0))).isGreaterThanOrEqualTo(1);
            assertThat(k.region(0).start()).isLessThanOrEqualTo(a + (n / 2) * k.p);
        }
    }

    @ParameterizedTest(name = "PS-26 two middle pages written: one 2-page region, not HUGE [{0}, {1}]")
    @MethodSource("cases")
    void ps26(Granule g, Mem mem) {
        try (Kernel k = Kernel.of(g)) {
            long[] an = area(k, mem);
            long a = an[0];
            long n = an[1];
            long wh = W | Uffd.PAGE_IS_HUGE;
            k.scan(a, n * k.p, (int) n, Kernel.GETWP, 0, W, 0, 0, wh);
            k.touch(a + (n / 2) * k.p);
            k.touch(a + (n / 2 + 1) * k.p);
            assertThat(k.scan(a + (n / 2) * k.p, 2 * k.p, 1, 0, 0, W, 0, 0, wh)).isEqualTo(1);
            // THP: the async write split the PMD, so the pages are no longer HUGE.
            assertThat(k.region(0)).isEqualTo(new PageRegion(a + (n / 2) * k.p, a + (n / 2 + 2) * k.p, W));
        }
    }

    @ParameterizedTest(name = "PS-27 armed THPs read neither written by GETWP nor GET [{0}]")
    @EnumSource(Granule.class)
    void ps27(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            k.asyncUffd();
            int n = k.thpCount();
            long a = k.thp(n);
            k.wpInit(a, n * k.h);
            k.arm(a, n * k.h);
            assertThat(k.getWpWritten(a, n * k.h, 10, 0)).isZero();
            assertThat(k.getWritten(a, n * k.h, 10)).isZero();
        }
    }

    @ParameterizedTest(name = "PS-28 THPs written everywhere: one region of n·H/P pages, categories WRITTEN [{0}]")
    @EnumSource(Granule.class)
    void ps28(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            k.asyncUffd();
            int n = k.thpCount();
            long a = k.thp(n);
            k.wpInit(a, n * k.h);
            k.arm(a, n * k.h);
            k.touchPages(a, n * k.h / k.p);
            assertThat(k.getWpWritten(a, n * k.h, 10, 0)).isEqualTo(1);
            assertThat(k.region(0)).isEqualTo(new PageRegion(a, a + n * k.h, W));
            assertThat(k.getWritten(a, n * k.h, 10)).as("GETWP re-armed them").isZero();
        }
    }
}
