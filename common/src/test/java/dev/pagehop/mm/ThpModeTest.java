package dev.pagehop.mm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * /sys/kernel/mm/transparent_hugepage/enabled with MADV_HUGEPAGE / MADV_NOHUGEPAGE: which
 * anonymous faults get a PMD block (spec §A.4 sizes), and that the advice is a VMA flag that
 * splits and merges VMAs like any other.
 */
class ThpModeTest {
    private static final int RW = Prot.READ | Prot.WRITE;

    /** 64K's PMD block is 512 MiB; these run on the granules whose blocks are cheap here. */
    enum SmallPmd { K4, K16 }

    private static long alignedRegion(MemoryManager mm, long h, int blocks) {
        long raw = mm.mmap(0, (blocks + 1) * h, RW, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        return (raw + h - 1) & -h;
    }

    private static long vmFlagsAt(MemoryManager mm, long a) {
        return mm.vmas().stream().filter(v -> v.start() <= a && a < v.end()).findFirst().orElseThrow().vmFlags();
    }

    @ParameterizedTest
    @EnumSource(SmallPmd.class)
    void alwaysMapsBlocksUnlessNohugepageWasAdvised(SmallPmd s) {
        Granule g = Granule.valueOf(s.name());
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g).withThp(ThpMode.ALWAYS))) {
            long h = g.pmdSize();
            long a = alignedRegion(mm, h, 2);
            mm.madvise(a + h, h, Madvise.NOHUGEPAGE);
            assertThat(vmFlagsAt(mm, a + h) & (VmFlags.VM_NOHUGEPAGE | VmFlags.VM_HUGEPAGE)).isEqualTo(VmFlags.VM_NOHUGEPAGE);
            mm.store64(a, 1);
            mm.store64(a + h, 2);
            assertThat(Pte.isBlock(mm.rawPte(a))).as("always: no advice needed").isTrue();
            assertThat(Pte.isBlock(mm.rawPte(a + h))).as("MADV_NOHUGEPAGE: base pages").isFalse();
            assertThat(mm.pagemapEntry(a + h) & Pagemap.PM_PRESENT).isNotZero();
            // advising NOHUGEPAGE over an existing block leaves the block in place (no split)
            mm.madvise(a, h, Madvise.NOHUGEPAGE);
            assertThat(Pte.isBlock(mm.rawPte(a))).isTrue();
            assertThat(mm.load64(a)).isEqualTo(1);
            // the two halves now carry the same advice again and merge
            assertThat(mm.vmas().stream().filter(v -> v.start() <= a && a + 2 * h <= v.end()).count()).isEqualTo(1);
            // HUGEPAGE replaces NOHUGEPAGE
            mm.madvise(a + h, h, Madvise.HUGEPAGE);
            assertThat(vmFlagsAt(mm, a + h) & (VmFlags.VM_NOHUGEPAGE | VmFlags.VM_HUGEPAGE)).isEqualTo(VmFlags.VM_HUGEPAGE);
        }
    }

    @ParameterizedTest
    @EnumSource(SmallPmd.class)
    void madviseModeNeedsTheAdviceAndNeverIgnoresIt(SmallPmd s) {
        Granule g = Granule.valueOf(s.name());
        long h = g.pmdSize();
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            assertThat(mm.config().thp()).isEqualTo(ThpMode.MADVISE);
            long a = alignedRegion(mm, h, 2);
            mm.madvise(a + h, h, Madvise.HUGEPAGE);
            mm.store64(a, 1);
            mm.store64(a + h, 2);
            assertThat(Pte.isBlock(mm.rawPte(a))).as("madvise mode without advice").isFalse();
            assertThat(Pte.isBlock(mm.rawPte(a + h))).as("madvise mode with MADV_HUGEPAGE").isTrue();
            // an advised range that does not cover a whole aligned block gets base pages
            long b = alignedRegion(mm, h, 1);
            mm.madvise(b, h - mm.pageSize(), Madvise.HUGEPAGE);
            mm.store64(b, 3);
            assertThat(Pte.isBlock(mm.rawPte(b))).isFalse();
        }
        try (MemoryManager never = MemoryManager.create(MmConfig.arm64(g).withThp(ThpMode.NEVER))) {
            long a = alignedRegion(never, h, 1);
            never.madvise(a, h, Madvise.HUGEPAGE);
            never.store64(a, 1);
            assertThat(Pte.isBlock(never.rawPte(a))).as("never").isFalse();
        }
    }
}
