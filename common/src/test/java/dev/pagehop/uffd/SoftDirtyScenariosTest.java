package dev.pagehop.uffd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.mm.Errno;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.Memfd;
import dev.pagehop.mm.Prot;
import org.junit.jupiter.api.Assumptions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Spec §C.1 (soft-dirty.c), run on the hypothetical arm64 soft-dirty ({@code withSoftDirty(true)}),
 * and X-01 on the stock kernel without it. Also the §B.1 rules §C.1 leaves out.
 */
@DisplayName("§C.1 soft-dirty and X-01")
// Liveness guard only: an emulator bug that parks a thread forever fails the case instead of
// hanging the suite.
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SoftDirtyScenariosTest {

    @ParameterizedTest(name = "SD-01 simple: 10 000 rounds of reset, write, soft-dirty [{0}]")
    @EnumSource(Granule.class)
    void sd01(Granule g) {
        try (Kernel k = Kernel.softDirty(g)) {
            long cur = k.mm.brk(0);
            long top = k.mm.brk(cur + 2 * k.p);
            assertThat(top).isEqualTo(cur + 2 * k.p);
            long p = (cur + k.p - 1) & -k.p;
            k.resetSd();
            for (int i = 0; i < 10_000; i++) {
                assertThat(k.sd(p)).as("round %d before the write", i).isFalse();
                k.resetSd();
                k.mm.store8(p, i);
                assertThat(k.sd(p)).as("round %d after the write", i).isTrue();
                k.resetSd();
            }
        }
    }

    @ParameterizedTest(name = "SD-02 a new VMA is soft-dirty before any write [{0}]")
    @EnumSource(Granule.class)
    void sd02(Granule g) {
        try (Kernel k = Kernel.softDirty(g)) {
            long a = k.map(1);
            assertThat(k.sd(a)).isTrue();
        }
    }

    @ParameterizedTest(name = "SD-03 a VMA mapped again at the same address is soft-dirty [{0}]")
    @EnumSource(Granule.class)
    void sd03(Granule g) {
        try (Kernel k = Kernel.softDirty(g)) {
            long a = k.map(1);
            k.resetSd();
            assertThat(k.sd(a)).isFalse();
            k.mm.munmap(a, k.p);
            long b = k.mm.mmap(a, k.p, Kernel.RW, Kernel.ANON);
            Assumptions.assumeTrue(a == b, "the kernel placed the new mapping elsewhere");
            assertThat(k.sd(b)).isTrue();
        }
    }

    @ParameterizedTest(name = "SD-04 THP: one soft-dirty bit per PMD, 10 000 rounds [{0}]")
    @EnumSource(Granule.class)
    void sd04(Granule g) {
        try (Kernel k = Kernel.softDirty(g)) {
            long a = k.thp(1);
            k.resetSd();
            for (int i = 0; i < 10_000; i++) {
                assertThat(k.sd(a)).as("round %d before the write", i).isFalse();
                k.resetSd();
                k.mm.store8(a, i);
                assertThat(k.sd(a)).as("round %d after the write", i).isTrue();
                if (i == 0) {
                    assertThat(k.sd(a + k.h - k.p)).as("the whole PMD reads soft-dirty (§B.1 THP)").isTrue();
                }
                k.resetSd();
            }
        }
    }

    @ParameterizedTest(name = "SD-05 mprotect RO then RW keeps tracking: the next write still sets soft-dirty [{0}]")
    @EnumSource(Granule.class)
    void sd05(Granule g) {
        try (Kernel k = Kernel.softDirty(g)) {
            long a = k.map(1);
            mprotectSequence(k, a);
        }
    }

    @ParameterizedTest(name = "SD-06 mprotect on a shared file mapping (memfd) keeps tracking [{0}]")
    @EnumSource(Granule.class)
    void sd06(Granule g) {
        try (Kernel k = Kernel.softDirty(g)) {
            // A regular file on disk is out of scope; memfd is the in-scope shared file (shmem).
            Memfd fd = k.mm.memfdCreate("sd06", k.p);
            long a = k.mm.mmap(0, k.p, Kernel.RW, MapFlags.SHARED, fd, 0);
            mprotectSequence(k, a);
        }
    }

    private static void mprotectSequence(Kernel k, long a) {
        k.touch(a);
        assertThat(k.sd(a)).as("after write").isTrue();
        k.resetSd();
        assertThat(k.sd(a)).as("after reset").isFalse();
        k.mm.mprotect(a, k.p, Prot.READ);
        assertThat(k.sd(a)).as("after mprotect RO").isFalse();
        k.mm.mprotect(a, k.p, Kernel.RW);
        assertThat(k.sd(a)).as("after mprotect RW").isFalse();
        k.touch(a);
        assertThat(k.sd(a)).as("after the second write").isTrue();
    }

    @ParameterizedTest(name = "X-01 no soft-dirty: clear_refs 4 succeeds and does nothing, bit 55 stays 0, 6 is EINVAL [{0}]")
    @EnumSource(Granule.class)
    void x01(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long fresh = k.map(1);
            long written = k.map(1);
            k.touch(written);
            k.resetSd();
            k.touch(written);
            assertThat(k.sd(fresh)).isFalse();
            assertThat(k.sd(written)).isFalse();
            assertThatThrownBy(() -> k.mm.clearRefs(6)).isInstanceOfSatisfying(ErrnoException.class,
                    e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL));
            assertThat(k.mm.rawPte(written) & (1L << 63)).as("RFC soft-dirty PTE bit 63 unused").isZero();
        }
    }

    // --- §B.1 rules beyond §C.1 --------------------------------------------------------------

    @ParameterizedTest(name = "SD-B1 clear_refs values 1..5 accepted, 0 and 6 EINVAL [{0}]")
    @EnumSource(Granule.class)
    void clearRefsValues(Granule g) {
        try (Kernel k = Kernel.softDirty(g)) {
            for (int v = 1; v <= 5; v++) {
                k.mm.clearRefs(v);
            }
            for (int v : new int[] {0, 6, -1}) {
                assertThatThrownBy(() -> k.mm.clearRefs(v)).as("clear_refs %d", v)
                        .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL));
            }
        }
    }

    @ParameterizedTest(name = "SD-B1 MADV_DONTNEED after reset loses the write: bit 55 stays 0 [{0}]")
    @EnumSource(Granule.class)
    void zapLosesSoftDirty(Granule g) {
        try (Kernel k = Kernel.softDirty(g)) {
            long a = k.map(1);
            k.touch(a);
            k.resetSd();
            k.mm.madvise(a, k.p, Madvise.DONTNEED);
            assertThat(k.sd(a)).isFalse();
        }
    }

    @ParameterizedTest(name = "SD-B1 read fault after reset maps the zero page without soft-dirty [{0}]")
    @EnumSource(Granule.class)
    void readFaultNotDirty(Granule g) {
        try (Kernel k = Kernel.softDirty(g)) {
            long a = k.map(1);
            k.resetSd();
            assertThat(k.mm.load8(a)).isZero();
            assertThat(k.sd(a)).isFalse();
            k.touch(a);
            assertThat(k.sd(a)).as("COW of the zero page").isTrue();
        }
    }

    @ParameterizedTest(name = "SD-B1 mremap marks the moved pages soft-dirty [{0}]")
    @EnumSource(Granule.class)
    void mremapMarksMoved(Granule g) {
        try (Kernel k = Kernel.softDirty(g)) {
            long a = k.map(2);
            k.touchPages(a, 2);
            long hole = k.map(4);
            k.mm.munmap(hole, 4 * k.p);
            k.resetSd();
            long b = k.mm.mremap(a, 2 * k.p, 2 * k.p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, hole);
            assertThat(b).isEqualTo(hole);
            assertThat(k.sd(b)).isTrue();
            assertThat(k.sd(b + k.p)).isTrue();
        }
    }

    @ParameterizedTest(name = "SD-B1 mapping next to a cleared VMA merges and makes the neighbour soft-dirty [{0}]")
    @EnumSource(Granule.class)
    void mergeFalsePositive(Granule g) {
        try (Kernel k = Kernel.softDirty(g)) {
            long a = k.map(4);
            k.mm.munmap(a + 2 * k.p, 2 * k.p);
            k.touch(a);
            k.resetSd();
            assertThat(k.sd(a)).isFalse();
            k.mm.mmap(a + 2 * k.p, 2 * k.p, Kernel.RW, Kernel.ANON | MapFlags.FIXED);
            assertThat(k.sd(a + 2 * k.p)).as("new memory").isTrue();
            boolean merged = k.mm.vmas().stream().anyMatch(v -> v.start() <= a && v.end() >= a + 4 * k.p);
            assertThat(merged).as("anon mappings differing only in VM_SOFTDIRTY merge (§B.1)").isTrue();
            assertThat(k.sd(a)).as("merged VMA carries VM_SOFTDIRTY (false positive)").isTrue();
        }
    }

    @ParameterizedTest(name = "SD-B1 fork: the child inherits soft-dirty bits [{0}]")
    @EnumSource(Granule.class)
    void forkInherits(Granule g) {
        try (Kernel k = Kernel.softDirty(g)) {
            long a = k.map(2);
            k.resetSd();
            k.touch(a);
            try (var child = k.mm.fork()) {
                assertThat((child.pagemapEntry(a) & dev.pagehop.mm.Pagemap.PM_SOFT_DIRTY) != 0).isTrue();
                assertThat((child.pagemapEntry(a + k.p) & dev.pagehop.mm.Pagemap.PM_SOFT_DIRTY) != 0).isFalse();
            }
        }
    }

    @ParameterizedTest(name = "SD-B1 splitting a THP copies its soft-dirty bit to every base page [{0}]")
    @EnumSource(Granule.class)
    void thpSplitCopiesSoftDirty(Granule g) {
        try (Kernel k = Kernel.softDirty(g)) {
            long a = k.thp(1);
            k.resetSd();
            k.mm.store8(a + k.p, 1);
            k.mm.mprotect(a, k.p, Prot.READ);
            assertThat(k.scan(a, k.h, 1, 0, 0, dev.pagehop.uffd.Uffd.PAGE_IS_HUGE, 0, 0,
                    dev.pagehop.uffd.Uffd.PAGE_IS_HUGE)).as("mprotect of one page split the PMD").isZero();
            assertThat(k.sd(a)).isTrue();
            assertThat(k.sd(a + k.h - k.p)).isTrue();
        }
    }

    @ParameterizedTest(name = "SD-B1 UFFDIO_COPY installs a soft-dirty page [{0}]")
    @EnumSource(Granule.class)
    void uffdCopyIsSoftDirty(Granule g) {
        try (Kernel k = Kernel.softDirty(g)) {
            long a = k.map(1);
            k.resetSd();
            Userfaultfd u = k.uffd(0);
            u.register(a, k.p, dev.pagehop.uffd.Uffd.REGISTER_MODE_MISSING);
            u.copy(a, new byte[(int) k.p], 0);
            assertThat(k.sd(a)).isTrue();
        }
    }
}
