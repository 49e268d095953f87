package dev.pagehop.mm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * /proc/PID/clear_refs 1..3 (fs/proc/task_mmu.c clear_refs_write): the access flag of every
 * present entry is cleared, for all VMAs (1), anonymous ones (2) or file-backed ones (3, which
 * includes shared anonymous memory: Linux backs it with a shmem file). The hardware sets AF
 * again on the next access. 4 and 5 leave the descriptors of a stock arm64 kernel alone.
 */
class ClearRefsTest {
    private static final int RW = Prot.READ | Prot.WRITE;

    private record Pages(long anon, long sharedAnon, long memfd) {
    }

    private static Pages touchAll(MemoryManager mm) {
        long p = mm.pageSize();
        long anon = mm.mmap(0, p, RW, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        long shared = mm.mmap(0, p, RW, MapFlags.SHARED | MapFlags.ANONYMOUS);
        long memfd = mm.mmap(0, p, RW, MapFlags.SHARED, mm.memfdCreate("refs", p), 0);
        for (long a : new long[] {anon, shared, memfd}) {
            mm.store64(a, a);
            assertThat(Pte.isYoung(mm.rawPte(a))).isTrue();
        }
        return new Pages(anon, shared, memfd);
    }

    private static boolean young(MemoryManager mm, long a) {
        return Pte.isYoung(mm.rawPte(a));
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void clearRefsOneToThreeClearTheAccessFlagOfTheVmasTheyName(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            Pages t = touchAll(mm);
            long before = mm.rawPte(t.anon());
            mm.clearRefs(2);
            assertThat(young(mm, t.anon())).as("2 = anonymous").isFalse();
            assertThat(mm.rawPte(t.anon())).as("only AF changes").isEqualTo(before & ~Pte.AF);
            assertThat(young(mm, t.sharedAnon())).as("shared anonymous is file-backed").isTrue();
            assertThat(young(mm, t.memfd())).isTrue();
            assertThat(mm.load64(t.anon())).isEqualTo(t.anon());
            assertThat(young(mm, t.anon())).as("an access sets AF again").isTrue();

            mm.clearRefs(3);
            assertThat(young(mm, t.anon())).as("3 = file-backed only").isTrue();
            assertThat(young(mm, t.sharedAnon())).isFalse();
            assertThat(young(mm, t.memfd())).isFalse();
            mm.store64(t.memfd(), 1);
            assertThat(young(mm, t.memfd())).isTrue();
            assertThat(Pte.isHwDirty(mm.rawPte(t.memfd()))).isTrue();

            mm.clearRefs(1);
            for (long a : new long[] {t.anon(), t.sharedAnon(), t.memfd()}) {
                assertThat(young(mm, a)).as("1 = all, at 0x%x", a).isFalse();
                assertThat(Pte.isWrite(mm.rawPte(a))).as("clear_refs 1..3 do not write-protect").isTrue();
            }
            mm.store64(t.anon(), 2);
            assertThat(mm.load64(t.anon())).isEqualTo(2);
            assertThat(young(mm, t.anon())).isTrue();
        }
    }

    @ParameterizedTest
    @EnumSource(value = Granule.class, names = {"K4", "K16"})
    void aThpBlockLosesItsAccessFlagAsOneEntry(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long h = g.pmdSize();
            long raw = mm.mmap(0, 2 * h, RW, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
            long a = (raw + h - 1) & -h;
            mm.madvise(a, h, Madvise.HUGEPAGE);
            mm.store64(a, 1);
            assertThat(Pte.isBlock(mm.rawPte(a))).isTrue();
            mm.clearRefs(1);
            assertThat(Pte.isBlock(mm.rawPte(a))).as("no split").isTrue();
            assertThat(young(mm, a + h - mm.pageSize())).isFalse();
            mm.load64(a + 5 * mm.pageSize());
            assertThat(young(mm, a)).isTrue();
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void fourAndFiveLeaveAStockKernelsDescriptorsAlone(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            Pages t = touchAll(mm);
            long[] before = {mm.rawPte(t.anon()), mm.rawPte(t.sharedAnon()), mm.rawPte(t.memfd())};
            long[] pmBefore = {mm.pagemapEntry(t.anon()), mm.pagemapEntry(t.sharedAnon()), mm.pagemapEntry(t.memfd())};
            mm.clearRefs(4);
            mm.clearRefs(5);
            assertThat(new long[] {mm.rawPte(t.anon()), mm.rawPte(t.sharedAnon()), mm.rawPte(t.memfd())}).isEqualTo(before);
            assertThat(new long[] {mm.pagemapEntry(t.anon()), mm.pagemapEntry(t.sharedAnon()), mm.pagemapEntry(t.memfd())})
                    .isEqualTo(pmBefore);
        }
    }
}
