package dev.pagehop.mm;

import static dev.pagehop.mm.AddressSpaceTest.assertErrno;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.uffd.PmScanArg;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.UffdMsg;
import dev.pagehop.uffd.Userfaultfd;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A range replaced by mmap(MAP_FIXED), munmap + mmap or mremap(MREMAP_FIXED) is a new mapping:
 * the old page-table entries of every kind (present, swap, uffd-wp markers) are zapped and the
 * new VMA carries no userfaultfd registration (KERNEL-SEMANTICS §B.2, §B.5, §B.8). A marker left
 * behind would make the replaced range look "armed and clean" to a tracker while it reads zeros.
 */
class ReplacedMappingTest {
    private static final int RW = Prot.READ | Prot.WRITE;
    private static final int ANON = MapFlags.PRIVATE | MapFlags.ANONYMOUS;
    private static final long ASYNC = Uffd.FEATURE_WP_ASYNC | Uffd.FEATURE_WP_UNPOPULATED;
    private static final long GETWP = Uffd.PM_SCAN_WP_MATCHING | Uffd.PM_SCAN_CHECK_WPASYNC;

    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    /** 16 pages, async-WP registered and armed; pages 0..11 written, 12..15 left as markers. */
    private static Userfaultfd armedAndWritten(MemoryManager mm, long a, long pages, long features) {
        long p = mm.pageSize();
        Userfaultfd u = mm.userfaultfd(Uffd.USER_MODE_ONLY);
        u.api(ASYNC | features);
        u.register(a, pages * p, Uffd.REGISTER_MODE_WP);
        u.writeprotect(a, pages * p, Uffd.WRITEPROTECT_MODE_WP);
        for (long i = 0; i < pages - 4; i++) {
            mm.store64(a + i * p, 0x1000 + i);
        }
        return u;
    }

    private static void assertFresh(MemoryManager mm, long s, long e, String why) {
        long p = mm.pageSize();
        for (long x = s; x < e; x += p) {
            String at = why + " at 0x" + Long.toHexString(x);
            assertThat(mm.rawPte(x)).as(at + ": pte none").isZero();
            assertThat(mm.pagemapEntry(x) & Pagemap.PM_UFFD_WP).as(at + ": no PM_UFFD_WP").isZero();
            assertThat(mm.load64(x)).as(at + ": reads zeros").isZero();
        }
        for (VmaInfo v : mm.vmas()) {
            if (v.start() < e && v.end() > s) {
                assertThat(v.vmFlags() & VmFlags.VM_UFFD_ALL).as(why + ": " + v + " unregistered").isZero();
            }
        }
        assertErrno(() -> mm.pagemapScan(new PmScanArg(s, e).withVec(4).flags(GETWP)
                .masks(Uffd.PAGE_IS_WRITTEN, 0, 0, Uffd.PAGE_IS_WRITTEN)), Errno.EPERM);
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void mapFixedOverArmedWrittenRangeLeavesNoMarkerAndNoRegistration(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 16 * p, RW, ANON);
            armedAndWritten(mm, a, 16, 0);
            // pages 8..13: written pages and unpopulated markers alike
            assertThat(mm.mmap(a + 8 * p, 6 * p, RW, ANON | MapFlags.FIXED)).isEqualTo(a + 8 * p);
            assertFresh(mm, a + 8 * p, a + 14 * p, "mmap FIXED");
            // the untouched remainder keeps its registration and its state
            assertThat(mm.load64(a + 7 * p)).isEqualTo(0x1007);
            assertThat(mm.pagemapEntry(a + 15 * p) & Pagemap.PM_UFFD_WP).isNotZero();
            PmScanArg ok = new PmScanArg(a, a + 8 * p).withVec(4).flags(GETWP)
                    .masks(Uffd.PAGE_IS_WRITTEN, 0, 0, Uffd.PAGE_IS_WRITTEN);
            assertThat(mm.pagemapScan(ok)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void mapFixedSpanningSeveralVmasAndPartialOverlaps(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 24 * p, RW, ANON);
            armedAndWritten(mm, a, 24, 0);
            // three VMAs: [0,8) rw, [8,16) ro, [16,24) rw
            mm.mprotect(a + 8 * p, 8 * p, Prot.READ);
            assertThat(mm.vmas().stream().filter(v -> v.start() >= a && v.end() <= a + 24 * p)).hasSize(3);
            // from the middle of the first to the middle of the third
            mm.mmap(a + 4 * p, 16 * p, RW, ANON | MapFlags.FIXED);
            assertFresh(mm, a + 4 * p, a + 20 * p, "mmap FIXED over three VMAs");
            assertThat(mm.load64(a + 3 * p)).isEqualTo(0x1003);
            assertThat(mm.pagemapEntry(a + 20 * p) & Pagemap.PM_UFFD_WP).isNotZero();
            assertThat(mm.pagemapEntry(a + 3 * p) & Pagemap.PM_UFFD_WP).as("written: wp resolved").isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void mapFixedOverSwappedOutPages(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 16 * p, RW, ANON);
            armedAndWritten(mm, a, 16, 0);
            mm.madvise(a, 16 * p, Madvise.PAGEOUT);
            mm.mmap(a, 16 * p, RW, ANON | MapFlags.FIXED);
            assertFresh(mm, a, a + 16 * p, "mmap FIXED over swap entries");
        }
    }

    /** Shmem keeps markers across a zap, but not when the mapping goes (ZAP_FLAG_DROP_MARKER). */
    @ParameterizedTest
    @EnumSource(Granule.class)
    void mapFixedOverArmedSharedMappingDropsItsMarkers(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 16 * p, RW, MapFlags.SHARED | MapFlags.ANONYMOUS);
            armedAndWritten(mm, a, 16, 0);
            mm.mmap(a + 2 * p, 12 * p, RW, ANON | MapFlags.FIXED);
            assertFresh(mm, a + 2 * p, a + 14 * p, "mmap FIXED over armed shmem");
            assertThat(mm.load64(a + p)).isEqualTo(0x1001);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void munmapThenMmapAtTheSameAddress(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 16 * p, RW, ANON);
            armedAndWritten(mm, a, 16, 0);
            mm.munmap(a + 4 * p, 8 * p);
            assertThat(mm.mmap(a + 4 * p, 8 * p, RW, ANON | MapFlags.FIXED_NOREPLACE)).isEqualTo(a + 4 * p);
            assertFresh(mm, a + 4 * p, a + 12 * p, "munmap + mmap");
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void mremapFixedOntoAnArmedMapping(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 16 * p, RW, ANON);
            long b = mm.mmap(0, 4 * p, RW, ANON);
            Userfaultfd u = armedAndWritten(mm, a, 16, 0);
            // a fresh unregistered source moved over the armed, written destination
            assertThat(mm.mremap(b, 4 * p, 4 * p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, a + 2 * p))
                    .isEqualTo(a + 2 * p);
            assertFresh(mm, a + 2 * p, a + 6 * p, "mremap FIXED onto an armed range");
            u.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void mapFixedDeliversUnmapEventForTheReplacedRange(Granule g) throws Exception {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 16 * p, RW, ANON);
            Userfaultfd u = armedAndWritten(mm, a, 16, Uffd.FEATURE_EVENT_UNMAP);
            Future<UffdMsg> msg = threads.submit(() -> u.poll(10_000));
            mm.mmap(a + 8 * p, 4 * p, RW, ANON | MapFlags.FIXED);
            assertThat(msg.get(10, TimeUnit.SECONDS)).isEqualTo(UffdMsg.unmap(a + 8 * p, a + 12 * p));
            assertFresh(mm, a + 8 * p, a + 12 * p, "mmap FIXED with EVENT_UNMAP");
        }
    }
}
