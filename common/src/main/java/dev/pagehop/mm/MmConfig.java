package dev.pagehop.mm;

/**
 * How an emulated kernel is built: the granule, the THP policy, and whether the hypothetical
 * arm64 soft-dirty of the 2024 RFC (PTE bit 63, swap bit 61) is compiled in. Stock arm64 has no
 * soft-dirty, so it is off unless asked for.
 */
public record MmConfig(Granule granule, ThpMode thp, boolean softDirty) {

    public MmConfig {
        if (granule == null || thp == null) {
            throw new IllegalArgumentException("MmConfig needs a granule and a THP mode, got " + granule + ", " + thp);
        }
    }

    public static MmConfig arm64(Granule granule) {
        return new MmConfig(granule, ThpMode.MADVISE, false);
    }

    public MmConfig withSoftDirty(boolean enabled) {
        return new MmConfig(granule, thp, enabled);
    }

    public MmConfig withThp(ThpMode mode) {
        return new MmConfig(granule, mode, softDirty);
    }
}
