package dev.pagehop.mm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.Userfaultfd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The granules of spec §A.4 as the table walk sees them, and FEAT_HAFDBS as §A.2 describes it:
 * a write to a writable-clean page only clears RDONLY (the CPU's update, no kernel fault, so
 * neither PTE_DIRTY nor soft-dirty is set), and write-protecting clears DBM.
 */
class GranuleAndHardwareDirtyTest {
    private static final int RW = Prot.READ | Prot.WRITE;

    @Test
    void granulesHaveTheTableGeometryOfArm64With48BitVas() {
        // {PAGE_SHIFT, entries per table, levels, PMD (THP) size}
        assertThat(new long[] {Granule.K4.pageShift(), Granule.K4.entriesPerTable(), Granule.K4.levels(), Granule.K4.pmdSize()})
                .containsExactly(12, 512, 4, 2L << 20);
        assertThat(new long[] {Granule.K16.pageShift(), Granule.K16.entriesPerTable(), Granule.K16.levels(), Granule.K16.pmdSize()})
                .containsExactly(14, 2048, 4, 32L << 20);
        assertThat(new long[] {Granule.K64.pageShift(), Granule.K64.entriesPerTable(), Granule.K64.levels(), Granule.K64.pmdSize()})
                .containsExactly(16, 8192, 3, 512L << 20);
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void aPageIsReachedThroughOneTablePerLevel(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            // the highest user page: every level's index is at its maximum
            long top = (1L << Granule.VA_BITS) - g.pageSize();
            long a = mm.mmap(top, g.pageSize(), RW, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
            mm.store64(a, 1);
            var walk = mm.walk(a);
            assertThat(walk).hasSize(g.levels());
            assertThat(walk.getLast().level()).isEqualTo(3);
            assertThat(walk.getFirst().level()).isEqualTo(4 - g.levels());
            // 48 VA bits split as PAGE_SHIFT + (levels - 1) full tables + a smaller root on 16K/64K
            int rootBits = Granule.VA_BITS - g.pageShift() - (g.levels() - 1) * (g.pageShift() - 3);
            assertThat(walk.getFirst().index()).isEqualTo((1 << rootBits) - 1);
            for (int k = 1; k < walk.size(); k++) {
                assertThat(walk.get(k).index()).isEqualTo(g.entriesPerTable() - 1);
            }
            assertThat(Pte.pa(walk.getLast().descriptor())).isEqualTo(Pte.pa(mm.rawPte(a)));
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void theCpuDirtiesAWritableCleanPageAndWriteProtectionClearsDbm(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, p, RW, MapFlags.SHARED, mm.memfdCreate("hafdbs", p), 0);
            assertThat(mm.load64(a)).isZero();
            long clean = mm.rawPte(a);
            assertThat(clean & (Pte.DBM | Pte.RDONLY | Pte.DIRTY)).as("writable-clean: DBM and RDONLY")
                    .isEqualTo(Pte.DBM | Pte.RDONLY);
            mm.store64(a, 7);
            long dirty = mm.rawPte(a);
            assertThat(dirty).as("hardware dirty: only RDONLY cleared, no PTE_DIRTY").isEqualTo(clean & ~Pte.RDONLY);
            assertThat(Pte.isHwDirty(dirty)).isTrue();
            mm.mprotect(a, p, Prot.READ);
            long ro = mm.rawPte(a);
            assertThat(ro & (Pte.DBM | Pte.RDONLY | Pte.DIRTY)).as("wrprotect: DBM cleared, dirtiness kept in PTE_DIRTY")
                    .isEqualTo(Pte.RDONLY | Pte.DIRTY);
            mm.mprotect(a, p, RW);
            // uffd-wp arming is a write-protect too
            long b = mm.mmap(0, p, RW, MapFlags.SHARED, mm.memfdCreate("wp", p), 0);
            mm.store64(b, 1);
            Userfaultfd u = mm.userfaultfd(Uffd.USER_MODE_ONLY);
            u.api(Uffd.FEATURE_WP_ASYNC);
            u.register(b, p, Uffd.REGISTER_MODE_WP);
            u.writeprotect(b, p, Uffd.WRITEPROTECT_MODE_WP);
            assertThat(mm.rawPte(b) & (Pte.DBM | Pte.UFFD_WP)).isEqualTo(Pte.UFFD_WP);
            u.close();
        }
    }
}
