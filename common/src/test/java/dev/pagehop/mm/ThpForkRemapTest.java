package dev.pagehop.mm;

import static dev.pagehop.mm.AddressSpaceTest.assertErrno;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.uffd.PageRegion;
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

/** THP blocks and their split, fork with copy-on-write, mremap, soft-dirty of the RFC kernel. */
class ThpForkRemapTest {
    private static final int RW = Prot.READ | Prot.WRITE;
    private static final int ANON = MapFlags.PRIVATE | MapFlags.ANONYMOUS;

    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    /** 64K's PMD block is 512 MiB; the THP cases run on the granules whose blocks are cheap here. */
    enum SmallPmd { K4, K16 }

    private static long thp(MemoryManager mm, long h) {
        long raw = mm.mmap(0, 2 * h, RW, ANON);
        long a = (raw + h - 1) & -h;
        mm.madvise(a, h, Madvise.HUGEPAGE);
        return a;
    }

    @ParameterizedTest
    @EnumSource(SmallPmd.class)
    void advisedAlignedFaultMapsAPmdBlockAndPartialOpsSplitIt(SmallPmd s) {
        Granule g = Granule.valueOf(s.name());
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long h = g.pmdSize();
            long a = thp(mm, h);
            mm.store64(a + 3 * p, 33);
            long d = mm.rawPte(a);
            assertThat(Pte.isBlock(d)).as("level-2 block descriptor (bit 1 clear)").isTrue();
            assertThat(d & Pte.TABLE_BIT).isZero();
            assertThat(Pte.pa(d) % h).as("block output address is PMD aligned").isZero();
            assertThat(mm.rawPte(a + 5 * p)).isEqualTo(d);
            assertThat(mm.walk(a)).hasSize(3 - (4 - g.levels()));
            assertThat(mm.pagemapEntry(a + 5 * p) & Pagemap.PM_PFRAME_MASK)
                    .isEqualTo((Pte.pa(d) >>> g.pageShift()) + 5);
            PmScanArg huge = new PmScanArg(a, a + h).withVec(2).masks(Uffd.PAGE_IS_HUGE, 0, 0, Uffd.PAGE_IS_HUGE);
            assertThat(mm.pagemapScan(huge)).isEqualTo(1);
            assertThat(mm.faultCounters().thpAllocated()).isEqualTo(1);
            // a partial mprotect splits the block; contents survive
            mm.mprotect(a + p, p, Prot.READ);
            assertThat(Pte.isBlock(mm.rawPte(a))).isFalse();
            assertThat(mm.faultCounters().thpSplits()).isEqualTo(1);
            assertThat(mm.load64(a + 3 * p)).isEqualTo(33);
            assertThat(mm.vmas()).hasSizeGreaterThanOrEqualTo(3);
            // partial DONTNEED on a block of another THP zaps only those pages
            long b = thp(mm, h);
            mm.store64(b, 1);
            mm.store64(b + 2 * p, 2);
            mm.madvise(b + 2 * p, p, Madvise.DONTNEED);
            assertThat(mm.load64(b)).isEqualTo(1);
            assertThat(mm.load64(b + 2 * p)).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(SmallPmd.class)
    void asyncWpWriteToABlockSplitsAndResolvesOnePage(SmallPmd s) {
        Granule g = Granule.valueOf(s.name());
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long h = g.pmdSize();
            long a = thp(mm, h);
            mm.store8(a, 1);
            Userfaultfd u = mm.userfaultfd(Uffd.USER_MODE_ONLY);
            u.api(Uffd.FEATURE_WP_ASYNC);
            u.register(a, h, Uffd.REGISTER_MODE_WP);
            u.writeprotect(a, h, Uffd.WRITEPROTECT_MODE_WP);
            assertThat(Pte.isBlock(mm.rawPte(a))).isTrue();
            assertThat(Pte.isUffdWp(mm.rawPte(a))).as("pmd_mkuffd_wp on the whole block").isTrue();
            mm.store8(a + 7 * p, 1);
            assertThat(Pte.isBlock(mm.rawPte(a))).isFalse();
            PmScanArg w = new PmScanArg(a, a + h).withVec(4).masks(Uffd.PAGE_IS_WRITTEN, 0, 0, Uffd.PAGE_IS_WRITTEN);
            assertThat(mm.pagemapScan(w)).isEqualTo(1);
            assertThat(w.vec[0]).isEqualTo(new PageRegion(a + 7 * p, a + 8 * p, Uffd.PAGE_IS_WRITTEN));
            u.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void forkSharesFramesCopyOnWrite(Granule g) {
        try (MemoryManager parent = MemoryManager.create(MmConfig.arm64(g))) {
            long p = parent.pageSize();
            long a = parent.mmap(0, 3 * p, RW, ANON);
            parent.store64(a, 1);
            parent.store64(a + p, 2);
            try (MemoryManager child = parent.fork()) {
                assertThat(child.vmas()).isEqualTo(parent.vmas());
                assertThat(Pte.pa(child.rawPte(a))).isEqualTo(Pte.pa(parent.rawPte(a)));
                assertThat(Pte.isWrite(parent.rawPte(a))).as("parent write-protected for CoW").isFalse();
                assertThat(parent.pagemapEntry(a) & Pagemap.PM_MMAP_EXCLUSIVE).isZero();
                child.store64(a, 10);
                parent.store64(a + p, 20);
                assertThat(parent.load64(a)).isEqualTo(1);
                assertThat(child.load64(a)).isEqualTo(10);
                assertThat(child.load64(a + p)).isEqualTo(2);
                assertThat(parent.load64(a + p)).isEqualTo(20);
                assertThat(Pte.pa(child.rawPte(a))).isNotEqualTo(Pte.pa(parent.rawPte(a)));
                assertThat(child.pagemapEntry(a + p) & Pagemap.PM_MMAP_EXCLUSIVE)
                        .as("the parent copied away, the child's page is exclusive again").isNotZero();
            }
            assertThat(parent.load64(a)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void forkWithEventForkHandsTheChildAContext(Granule g) throws Exception {
        try (MemoryManager parent = MemoryManager.create(MmConfig.arm64(g))) {
            long p = parent.pageSize();
            long a = parent.mmap(0, 2 * p, RW, ANON);
            Userfaultfd u = parent.userfaultfd(0);
            u.api(Uffd.FEATURE_EVENT_FORK | Uffd.FEATURE_WP_ASYNC);
            u.register(a, 2 * p, Uffd.REGISTER_MODE_WP);
            u.writeprotect(a, 2 * p, Uffd.WRITEPROTECT_MODE_WP);
            Future<MemoryManager> forked = threads.submit(parent::fork);
            UffdMsg msg = u.poll(10_000);
            assertThat(msg.event()).isEqualTo(Uffd.EVENT_FORK);
            try (MemoryManager child = forked.get(10, TimeUnit.SECONDS)) {
                assertThat(child.pagemapEntry(a) & Pagemap.PM_UFFD_WP).as("markers kept in the child").isNotZero();
                assertThat(child.vmas().getFirst().vmFlags() & VmFlags.VM_UFFD_WP).isNotZero();
                msg.child().close();
                assertThat(child.pagemapEntry(a) & Pagemap.PM_UFFD_WP).isZero();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void mremapMovesGrowsAndShrinks(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 4 * p, RW, ANON);
            long blocker = mm.mmap(a + 4 * p, p, Prot.READ, ANON | MapFlags.FIXED);
            assertThat(blocker).isEqualTo(a + 4 * p);
            for (int i = 0; i < 4; i++) {
                mm.store64(a + i * p, 100 + i);
            }
            assertErrno(() -> mm.mremap(a, 4 * p, 8 * p, 0, 0), Errno.ENOMEM);
            long b = mm.mremap(a, 4 * p, 8 * p, MapFlags.MREMAP_MAYMOVE, 0);
            assertThat(b).isNotEqualTo(a);
            for (int i = 0; i < 4; i++) {
                assertThat(mm.load64(b + i * p)).isEqualTo(100 + i);
            }
            assertThat(mm.load64(b + 6 * p)).isZero();
            assertThatThrownBy(() -> mm.load64(a)).isInstanceOf(SegmentationFault.class);
            assertThat(mm.mremap(b, 8 * p, 2 * p, 0, 0)).isEqualTo(b);
            assertThatThrownBy(() -> mm.load64(b + 3 * p)).isInstanceOf(SegmentationFault.class);
            assertErrno(() -> mm.mremap(b + 1, p, p, 0, 0), Errno.EINVAL);
            assertErrno(() -> mm.mremap(b, p, p, MapFlags.MREMAP_FIXED, a), Errno.EINVAL);
            assertErrno(() -> mm.mremap(b, 2 * p, 2 * p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, b + p),
                    Errno.EINVAL);
            // same size without a move is a no-op (Linux checks nothing past the first VMA); growing is not
            assertThat(mm.mremap(b, 4 * p, 4 * p, MapFlags.MREMAP_MAYMOVE, 0)).isEqualTo(b);
            assertErrno(() -> mm.mremap(b, 4 * p, 5 * p, MapFlags.MREMAP_MAYMOVE, 0), Errno.EFAULT);
            assertErrno(() -> mm.mremap(0x20000, p, p, MapFlags.MREMAP_MAYMOVE, 0), Errno.EFAULT);
            long c = mm.mremap(b, 2 * p, 2 * p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_DONTUNMAP, 0);
            assertThat(mm.load64(c + p)).isEqualTo(101);
            assertThat(mm.load64(b + p)).as("DONTUNMAP leaves an empty mapping behind").isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void pageoutSwapsAnonPagesKeepingUffdWpAndSoftDirty(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g).withSoftDirty(true))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 3 * p, RW, ANON);
            mm.store64(a, 11);
            mm.store64(a + p, 22);
            Userfaultfd u = mm.userfaultfd(Uffd.USER_MODE_ONLY);
            u.api(Uffd.FEATURE_WP_ASYNC);
            u.register(a, 3 * p, Uffd.REGISTER_MODE_WP);
            u.writeprotect(a + p, p, Uffd.WRITEPROTECT_MODE_WP);
            mm.madvise(a, 3 * p, Madvise.PAGEOUT);
            long e0 = mm.rawPte(a);
            long e1 = mm.rawPte(a + p);
            assertThat(Pte.isSwap(e0) && !Pte.isMarker(e0)).isTrue();
            assertThat(Pte.swapType(e0)).isZero();
            assertThat(e0 & Pte.SWP_EXCLUSIVE).isNotZero();
            assertThat(e0 & Pte.SWP_SOFT_DIRTY).as("RFC swap soft-dirty, bit 61").isNotZero();
            assertThat(e1 & Pte.SWP_UFFD_WP).as("uffd-wp in swap bit 3").isNotZero();
            long pm1 = mm.pagemapEntry(a + p);
            assertThat(pm1 & (Pagemap.PM_SWAP | Pagemap.PM_UFFD_WP | Pagemap.PM_PRESENT))
                    .isEqualTo(Pagemap.PM_SWAP | Pagemap.PM_UFFD_WP);
            assertThat(pm1 & Pagemap.PM_PFRAME_MASK).as("type 0 | offset << 5").isEqualTo(Pte.swapOffset(e1, true) << 5);
            PmScanArg sw = new PmScanArg(a, a + 3 * p).withVec(3)
                    .masks(Uffd.PAGE_IS_SWAPPED, 0, 0, Uffd.PAGE_IS_SWAPPED | Uffd.PAGE_IS_WRITTEN);
            assertThat(mm.pagemapScan(sw)).isEqualTo(2);
            assertThat(sw.vec[0]).isEqualTo(new PageRegion(a, a + p, Uffd.PAGE_IS_SWAPPED | Uffd.PAGE_IS_WRITTEN));
            assertThat(sw.vec[1]).isEqualTo(new PageRegion(a + p, a + 2 * p, Uffd.PAGE_IS_SWAPPED));
            byte[] peeked = new byte[8];
            mm.peek(a + p, peeked, 0, 8);
            assertThat(peeked[0]).isEqualTo((byte) 22);
            try (MemoryManager child = mm.fork()) {
                assertThat(child.rawPte(a + p) & (Pte.SWP_UFFD_WP | Pte.SWP_EXCLUSIVE)).isZero();
                assertThat(child.load64(a + p)).isEqualTo(22);
            }
            // swap-in restores the bits; the write then traps (async) and is reported written
            assertThat(mm.load64(a + p)).isEqualTo(22);
            assertThat(Pte.isUffdWp(mm.rawPte(a + p))).isTrue();
            assertThat(mm.rawPte(a + p) & Pte.SOFT_DIRTY).isNotZero();
            mm.store64(a + p, 23);
            assertThat(Pte.isUffdWp(mm.rawPte(a + p))).isFalse();
            assertThat(mm.load64(a)).isEqualTo(11);
            assertThat(mm.faultCounters().swapOuts()).isEqualTo(2);
            assertThat(mm.faultCounters().swapIns()).isEqualTo(2);
            u.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void softDirtyOfTheRfcKernel(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g).withSoftDirty(true))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 2 * p, RW, ANON);
            assertThat(mm.pagemapEntry(a) & Pagemap.PM_SOFT_DIRTY).as("new VMA (VM_SOFTDIRTY)").isNotZero();
            mm.store8(a, 1);
            assertThat(mm.rawPte(a) & Pte.SOFT_DIRTY).as("pte bit 63").isNotZero();
            mm.clearRefs(4);
            assertThat(mm.pagemapEntry(a) & Pagemap.PM_SOFT_DIRTY).isZero();
            assertThat(mm.pagemapEntry(a + p) & Pagemap.PM_SOFT_DIRTY).isZero();
            assertThat(Pte.isWrite(mm.rawPte(a))).as("clear_refs 4 write-protects").isFalse();
            mm.store8(a, 2);
            assertThat(mm.pagemapEntry(a) & Pagemap.PM_SOFT_DIRTY).isNotZero();
            assertThat(mm.faultCounters().softDirtyFaults()).isEqualTo(1);
            mm.clearRefs(4);
            mm.mprotect(a, p, Prot.READ);
            mm.mprotect(a, p, RW);
            assertThat(Pte.isWrite(mm.rawPte(a))).as("RO->RW keeps tracking (76aefad628aa)").isFalse();
            mm.store8(a, 3);
            assertThat(mm.pagemapEntry(a) & Pagemap.PM_SOFT_DIRTY).isNotZero();
            // mremap marks moved ptes soft-dirty
            mm.clearRefs(4);
            long b = mm.mremap(a, 2 * p, 2 * p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, a + 16 * p);
            assertThat(mm.rawPte(b) & Pte.SOFT_DIRTY).isNotZero();
        }
        try (MemoryManager stock = MemoryManager.create(MmConfig.arm64(g))) {
            long a = stock.mmap(0, stock.pageSize(), RW, ANON);
            stock.store8(a, 1);
            stock.clearRefs(4);
            assertThat(stock.pagemapEntry(a) & Pagemap.PM_SOFT_DIRTY).as("stock arm64: bit 55 always 0").isZero();
            assertThat(Pte.isWrite(stock.rawPte(a))).as("clear_refs 4 does nothing").isTrue();
            assertThat(stock.vmas().getFirst().vmFlags() & VmFlags.VM_SOFTDIRTY).isZero();
        }
    }
}
