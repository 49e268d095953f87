package dev.pagehop.uffd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Pagemap;
import dev.pagehop.mm.Prot;
import java.util.Arrays;
import java.util.List;

/**
 * The helpers of the kernel selftests (pagemap_ioctl.c, uffd-unit-tests.c, soft-dirty.c) over
 * one emulated address space: ASYNC_UFFD, WP_INIT, ARM, SCAN, RESET_SD, SD(a), WP(a) as spec §C
 * defines them. Sizes come from the granule (getpagesize / hpage_pmd_size), never hard-coded.
 */
final class Kernel implements AutoCloseable {
    /** The errno a call fails with; an assertion error if it does not fail. */
    static dev.pagehop.mm.ErrnoException fails(Runnable r) {
        try {
            r.run();
        } catch (dev.pagehop.mm.ErrnoException e) {
            return e;
        }
        throw new AssertionError("expected the call to fail with an errno");
    }

    static final int RW = Prot.READ | Prot.WRITE;
    static final int ANON = MapFlags.PRIVATE | MapFlags.ANONYMOUS;
    static final long GETWP = Uffd.PM_SCAN_WP_MATCHING | Uffd.PM_SCAN_CHECK_WPASYNC;
    static final long W = Uffd.PAGE_IS_WRITTEN;
    static final long BITS_ALL = Uffd.PAGE_IS_WPALLOWED | Uffd.PAGE_IS_WRITTEN | Uffd.PAGE_IS_FILE
            | Uffd.PAGE_IS_PRESENT | Uffd.PAGE_IS_SWAPPED | Uffd.PAGE_IS_PFNZERO | Uffd.PAGE_IS_HUGE;
    static final long NON_WRITTEN = BITS_ALL & ~Uffd.PAGE_IS_WRITTEN;
    static final long ASYNC_FEATURES = Uffd.FEATURE_WP_UNPOPULATED | Uffd.FEATURE_WP_ASYNC
            | Uffd.FEATURE_WP_HUGETLBFS_SHMEM;

    final MemoryManager mm;
    final Granule granule;
    /** Base page size. */
    final long p;
    /** PMD (THP) size. */
    final long h;
    Userfaultfd uffd;
    /** The argument of the last {@link #scan} call, to read vec and walk_end back. */
    PmScanArg last;

    private Kernel(MmConfig config) {
        this.mm = MemoryManager.create(config);
        this.granule = config.granule();
        this.p = mm.pageSize();
        this.h = granule.pmdSize();
    }

    static Kernel of(Granule g) {
        return new Kernel(MmConfig.arm64(g));
    }

    static Kernel softDirty(Granule g) {
        return new Kernel(MmConfig.arm64(g).withSoftDirty(true));
    }

    static Kernel of(MmConfig config) {
        return new Kernel(config);
    }

    long map(long pages) {
        return mm.mmap(0, pages * p, RW, ANON);
    }

    /** memalign(H, H·n) + MADV_HUGEPAGE + touch every base page, then check PMD blocks back it. */
    long thp(int n) {
        long raw = mm.mmap(0, (n + 1) * h, RW, ANON);
        long a = (raw + h - 1) & -h;
        mm.madvise(a, n * h, Madvise.HUGEPAGE);
        for (long x = a; x < a + n * h; x += p) {
            mm.store8(x, 0);
        }
        PmScanArg huge = new PmScanArg(a, a + n * h).withVec(n + 1).masks(Uffd.PAGE_IS_HUGE, 0, 0, Uffd.PAGE_IS_HUGE);
        assertThat(mm.pagemapScan(huge)).as("PMD blocks (THP) back the advised, aligned range").isEqualTo(1);
        assertThat(huge.vec[0]).isEqualTo(new PageRegion(a, a + n * h, Uffd.PAGE_IS_HUGE));
        return a;
    }

    /** THPs to use: the selftests' 10, fewer where 10 PMD blocks exceed 512 MiB (16K: 32 MiB, 64K: 512 MiB each). */
    int thpCount() {
        return (int) Math.max(1, Math.min(10, (512L << 20) / h));
    }

    /** ASYNC_UFFD: all three async features must come back supported. */
    Userfaultfd asyncUffd() {
        uffd = mm.userfaultfd(Uffd.USER_MODE_ONLY);
        long supported = uffd.api(ASYNC_FEATURES);
        assertThat(supported & ASYNC_FEATURES).as("UFFDIO_API features").isEqualTo(ASYNC_FEATURES);
        return uffd;
    }

    Userfaultfd uffd(long features) {
        uffd = mm.userfaultfd(Uffd.USER_MODE_ONLY);
        uffd.api(features);
        return uffd;
    }

    /** WP_INIT(r): register WP (ioctls must offer WRITEPROTECT), then write-protect. */
    void wpInit(long a, long len) {
        long ioctls = uffd.register(a, len, Uffd.REGISTER_MODE_WP);
        assertThat(ioctls & (1L << Uffd._UFFDIO_WRITEPROTECT)).as("register ioctls offer WRITEPROTECT").isNotZero();
        uffd.writeprotect(a, len, Uffd.WRITEPROTECT_MODE_WP);
    }

    /** ARM(r): PAGEMAP_SCAN with the NULL vec, WP_MATCHING|CHECK_WPASYNC, mask = return = WRITTEN. */
    void arm(long a, long len) {
        PmScanArg arg = new PmScanArg(a, a + len).flags(GETWP).masks(W, 0, 0, W);
        assertThat(mm.pagemapScan(arg)).isGreaterThanOrEqualTo(0);
    }

    int scan(long a, long len, int vecLen, long flags, long max, long mask, long anyof, long inv, long ret) {
        PmScanArg arg = new PmScanArg(a, a + len).flags(flags).masks(mask, anyof, inv, ret).maxPages(max);
        if (vecLen > 0) {
            arg.withVec(vecLen);
        }
        last = arg;
        return mm.pagemapScan(arg);
    }

    /** GET mask = return = WRITTEN. */
    int getWritten(long a, long len, int vecLen) {
        return scan(a, len, vecLen, 0, 0, W, 0, 0, W);
    }

    /** GETWP mask = return = WRITTEN. */
    int getWpWritten(long a, long len, int vecLen, long max) {
        return scan(a, len, vecLen, GETWP, max, W, 0, 0, W);
    }

    List<PageRegion> regions(int n) {
        return Arrays.asList(last.vec).subList(0, n);
    }

    PageRegion region(int i) {
        return last.vec[i];
    }

    long len(PageRegion r) {
        return (r.end() - r.start()) / p;
    }

    void touch(long a) {
        mm.store8(a, 1);
    }

    void touchPages(long a, long pages) {
        for (long i = 0; i < pages; i++) {
            mm.store8(a + i * p, (int) i);
        }
    }

    /** RESET_SD. */
    void resetSd() {
        mm.clearRefs(4);
    }

    boolean sd(long a) {
        return (mm.pagemapEntry(a) & Pagemap.PM_SOFT_DIRTY) != 0;
    }

    boolean wp(long a) {
        return (mm.pagemapEntry(a) & Pagemap.PM_UFFD_WP) != 0;
    }

    @Override
    public void close() {
        if (uffd != null) {
            uffd.close();
        }
        mm.close();
    }
}
