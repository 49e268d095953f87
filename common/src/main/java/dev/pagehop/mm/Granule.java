package dev.pagehop.mm;

/**
 * arm64 translation granules with a 48-bit VA (arch/arm64/Kconfig, pgtable-hwdef.h):
 * levels = (48 - 4) / (PAGE_SHIFT - 3); PMD_SHIFT = (PAGE_SHIFT - 3) * 2 + 3.
 */
public enum Granule {
    K4(12),
    K16(14),
    K64(16);

    public static final int VA_BITS = 48;

    private final int pageShift;

    Granule(int pageShift) {
        this.pageShift = pageShift;
    }

    public int pageShift() {
        return pageShift;
    }

    public long pageSize() {
        return 1L << pageShift;
    }

    /** Descriptors per table page: 2^(PAGE_SHIFT - 3). */
    public int entriesPerTable() {
        return 1 << (pageShift - 3);
    }

    /** ARM64_HW_PGTABLE_LEVELS(48): 4 for 4K and 16K, 3 for 64K. */
    public int levels() {
        return (VA_BITS - 4) / (pageShift - 3);
    }

    public int pmdShift() {
        return (pageShift - 3) * 2 + 3;
    }

    /** THP (PMD block) size: 2 MiB, 32 MiB, 512 MiB. */
    public long pmdSize() {
        return 1L << pmdShift();
    }
}
