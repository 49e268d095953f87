package dev.pagehop.mm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** VmRSS as {@link MemoryManager#residentBytes()} counts it: present pages, not the shared zero page. */
class ResidentBytesTest {
    private static final int RW = Prot.READ | Prot.WRITE;
    private static final int ANON = MapFlags.PRIVATE | MapFlags.ANONYMOUS;

    @ParameterizedTest
    @EnumSource(Granule.class)
    void countsWrittenPagesButNotTheZeroPageNorZappedOnes(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            assertThat(mm.residentBytes()).isZero();
            long a = mm.mmap(0, 8 * p, RW, ANON);
            assertThat(mm.residentBytes()).as("mapped, never touched").isZero();
            mm.store8(a, 1);
            mm.store8(a + 3 * p, 1);
            mm.store8(a + 7 * p, 1);
            assertThat(mm.residentBytes()).isEqualTo(3 * p);
            assertThat(mm.load8(a + p)).isZero();
            assertThat(mm.residentBytes()).as("a read maps the shared zero page, which RSS leaves out").isEqualTo(3 * p);
            mm.madvise(a + 3 * p, p, Madvise.DONTNEED);
            assertThat(mm.residentBytes()).isEqualTo(2 * p);
            long b = mm.mmap(0, 4 * p, RW, ANON);
            mm.store8(b + p, 1);
            mm.store8(b + 2 * p, 1);
            assertThat(mm.residentBytes()).as("over two VMAs").isEqualTo(4 * p);
            mm.munmap(a, 8 * p);
            assertThat(mm.residentBytes()).isEqualTo(2 * p);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Granule.class, names = "K4")
    void countsMoreRegionsThanOneScanReturns(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            int pages = 1_400;
            long a = mm.mmap(0, pages * p, RW, ANON);
            // Every other page: 700 separate regions, more than one PAGEMAP_SCAN vec holds.
            for (int i = 0; i < pages; i += 2) {
                mm.store8(a + i * p, 1);
            }
            assertThat(mm.residentBytes()).isEqualTo(pages / 2 * p);
        }
    }
}
