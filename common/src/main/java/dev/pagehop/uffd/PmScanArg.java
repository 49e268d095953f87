package dev.pagehop.uffd;

/**
 * struct pm_scan_arg. Mutable like the C struct: the kernel writes {@link #walkEnd} back, and
 * the regions into {@link #vec}. {@code vec == null} with {@code vecLen == 0} is the NULL vec.
 * {@code size} defaults to the real struct's size (96 bytes); another value fails EINVAL.
 */
public final class PmScanArg {
    public static final long SIZEOF = 96;

    public long size = SIZEOF;
    public long flags;
    public long start;
    public long end;
    public long walkEnd;
    public PageRegion[] vec;
    public long vecLen;
    public long maxPages;
    public long categoryInverted;
    public long categoryMask;
    public long categoryAnyofMask;
    public long returnMask;

    public PmScanArg() {
    }

    public PmScanArg(long start, long end) {
        this.start = start;
        this.end = end;
    }

    /** Allocates a vec of {@code n} regions and sets {@code vecLen}. */
    public PmScanArg withVec(int n) {
        this.vec = new PageRegion[n];
        this.vecLen = n;
        return this;
    }

    public PmScanArg flags(long value) {
        this.flags = value;
        return this;
    }

    public PmScanArg masks(long mask, long anyof, long inverted, long ret) {
        this.categoryMask = mask;
        this.categoryAnyofMask = anyof;
        this.categoryInverted = inverted;
        this.returnMask = ret;
        return this;
    }

    public PmScanArg maxPages(long value) {
        this.maxPages = value;
        return this;
    }
}
