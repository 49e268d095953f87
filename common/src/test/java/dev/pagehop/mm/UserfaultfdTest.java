package dev.pagehop.mm;

import static dev.pagehop.mm.AddressSpaceTest.assertErrno;
import static dev.pagehop.mm.AddressSpaceTest.catchErrno;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.uffd.FaultWait;
import dev.pagehop.uffd.PageRegion;
import dev.pagehop.uffd.PmScanArg;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.UffdMsg;
import dev.pagehop.uffd.Userfaultfd;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The emulated userfaultfd and PAGEMAP_SCAN from inside the mm package (internals visible). */
class UserfaultfdTest {
    private static final int RW = Prot.READ | Prot.WRITE;
    private static final int ANON = MapFlags.PRIVATE | MapFlags.ANONYMOUS;
    private static final long ASYNC = Uffd.FEATURE_WP_ASYNC | Uffd.FEATURE_WP_UNPOPULATED;
    private static final long W = Uffd.PAGE_IS_WRITTEN;
    private static final long GETWP = Uffd.PM_SCAN_WP_MATCHING | Uffd.PM_SCAN_CHECK_WPASYNC;
    private static final long WAIT_MS = 10_000;

    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void wpUnpopulatedWritesMarkersAndCountsTables(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 8 * p, RW, ANON);
            Userfaultfd u = mm.userfaultfd(Uffd.USER_MODE_ONLY);
            u.api(ASYNC);
            assertThat(u.register(a, 8 * p, Uffd.REGISTER_MODE_WP) & (1L << Uffd._UFFDIO_WRITEPROTECT)).isNotZero();
            assertThat(mm.pagemapEntry(a) & Pagemap.PM_UFFD_WP).as("registration arms nothing").isZero();
            long before = mm.pageTablesPopulated();
            u.writeprotect(a, 8 * p, Uffd.WRITEPROTECT_MODE_WP);
            assertThat(mm.pageTablesPopulated() - before).as("PTE table (and upper levels) populated").isPositive();
            assertThat(mm.rawPte(a)).isEqualTo(Pte.UFFD_WP_MARKER);
            // PM_SWAP | PM_UFFD_WP, swap type 31 and offset 1 in the frame field: 31 | 1 << 5
            assertThat(mm.pagemapEntry(a)).isEqualTo(Pagemap.PM_SWAP | Pagemap.PM_UFFD_WP | 0x3F);
            assertThat(mm.faultCounters().markersInstalled()).isEqualTo(8);
            // a read of a marker maps the zero page with uffd-wp kept; a write resolves in place (async)
            assertThat(mm.load64(a)).isZero();
            assertThat(Pte.isUffdWp(mm.rawPte(a))).isTrue();
            assertThat(Pte.isSpecial(mm.rawPte(a))).isTrue();
            mm.store64(a + p, 5);
            long d = mm.rawPte(a + p);
            assertThat(Pte.isUffdWp(d)).isFalse();
            assertThat(Pte.isHwDirty(d)).isTrue();
            assertThat(mm.faultCounters().wpAsyncFaults()).isEqualTo(1);
            PmScanArg scan = new PmScanArg(a, a + 8 * p).withVec(8).masks(W, 0, 0, W);
            assertThat(mm.pagemapScan(scan)).isEqualTo(1);
            assertThat(scan.vec[0]).isEqualTo(new PageRegion(a + p, a + 2 * p, W));
            assertThat(scan.walkEnd).isEqualTo(a + 8 * p);
            u.close();
            assertThat(mm.rawPte(a + 2 * p)).as("close removes markers").isZero();
            assertThat(mm.vmas().getFirst().vmFlags() & VmFlags.VM_UFFD_ALL).isZero();
        }
    }

    @Test
    void syncWpFaultBlocksOnlyTheWriterUntilUnprotected() throws Exception {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 2 * p, RW, ANON);
            mm.store64(a, 1);
            mm.store64(a + p, 1);
            Userfaultfd u = mm.userfaultfd(0);
            u.api(Uffd.FEATURE_THREAD_ID);
            u.register(a, 2 * p, Uffd.REGISTER_MODE_WP);
            u.writeprotect(a, 2 * p, Uffd.WRITEPROTECT_MODE_WP);
            CountDownLatch asleep = new CountDownLatch(1);
            CountDownLatch woken = new CountDownLatch(1);
            long[] writerTid = new long[1];
            Future<?> writer = threads.submit(() -> {
                writerTid[0] = Thread.currentThread().threadId();
                FaultWait.install(new FaultWait.Listener() {
                    @Override
                    public void sleeping(long address, boolean write) {
                        asleep.countDown();
                    }

                    @Override
                    public void woken(long address) {
                        woken.countDown();
                    }
                });
                mm.store64(a + 8, 2);
                return null;
            });
            UffdMsg msg = u.poll(WAIT_MS);
            assertThat(msg).isNotNull();
            assertThat(msg.event()).isEqualTo(Uffd.EVENT_PAGEFAULT);
            assertThat(msg.flags()).isEqualTo(Uffd.PAGEFAULT_FLAG_WP | Uffd.PAGEFAULT_FLAG_WRITE);
            assertThat(msg.address()).isEqualTo(a);
            assertThat(asleep.await(WAIT_MS, TimeUnit.MILLISECONDS)).isTrue();
            assertThat(msg.ptid()).isEqualTo(writerTid[0]);
            // this thread is not blocked: reads of the protected page and writes elsewhere go on
            assertThat(mm.load64(a)).isEqualTo(1);
            assertThat(writer.isDone()).isFalse();
            // DONTWAKE leaves it asleep until UFFDIO_WAKE
            u.writeprotect(a, p, 0 | Uffd.WRITEPROTECT_MODE_DONTWAKE);
            assertThat(writer.isDone()).isFalse();
            u.wake(a, p);
            writer.get(WAIT_MS, TimeUnit.MILLISECONDS);
            assertThat(woken.getCount()).isZero();
            assertThat(mm.load64(a + 8)).isEqualTo(2);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void missingFaultsResolvedByCopyAndZeropage(Granule g) throws Exception {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 4 * p, RW, ANON);
            Userfaultfd u = mm.userfaultfd(Uffd.USER_MODE_ONLY);
            u.api(0);
            long ioctls = u.register(a, 4 * p, Uffd.REGISTER_MODE_MISSING);
            assertThat(ioctls & (1L << Uffd._UFFDIO_COPY)).isNotZero();
            assertThat(ioctls & (1L << Uffd._UFFDIO_WRITEPROTECT)).isZero();
            Future<Long> reader = threads.submit(() -> mm.load64(a + 2 * p + 16));
            UffdMsg msg = u.poll(WAIT_MS);
            assertThat(msg.flags()).isZero();
            assertThat(msg.address()).isEqualTo(a + 2 * p);
            byte[] src = new byte[(int) p];
            src[16] = 7;
            assertThat(u.copy(a + 2 * p, src, 0)).isEqualTo(p);
            assertThat(reader.get(WAIT_MS, TimeUnit.MILLISECONDS)).isEqualTo(7);
            // UFFDIO_COPY writes count as dirtying: a dirty, writable anon pte
            assertThat(Pte.isHwDirty(mm.rawPte(a + 2 * p))).isTrue();
            Future<?> writer = threads.submit(() -> mm.store8(a, 1));
            assertThat(u.poll(WAIT_MS).flags()).isEqualTo(Uffd.PAGEFAULT_FLAG_WRITE);
            assertThat(u.zeropage(a, p, 0)).isEqualTo(p);
            writer.get(WAIT_MS, TimeUnit.MILLISECONDS);
            assertThat(mm.load8(a)).isEqualTo(1);
            assertThat(u.poll(0)).as("the write after ZEROPAGE is an ordinary COW").isNull();
            // COPY partial: page 1 free, page 2 populated -> EAGAIN with the count
            ErrnoException partial = catchErrno(() -> u.copy(a + p, new byte[(int) (2 * p)], 0));
            assertThat(partial.errno()).isEqualTo(Errno.EAGAIN);
            assertThat(partial.partialResult()).isEqualTo(p);
            ErrnoException first = catchErrno(() -> u.copy(a + p, new byte[(int) p], 0));
            assertThat(first.errno()).isEqualTo(Errno.EEXIST);
            assertThat(first.partialResult()).isEqualTo(-Errno.EEXIST);
            // peek does not fault: page 3 stays missing
            byte[] buf = new byte[8];
            mm.peek(a + 3 * p, buf, 0, 8);
            assertThat(mm.rawPte(a + 3 * p)).isZero();
            // unregister wakes a pending missing fault, which then maps the zero page
            Future<Long> late = threads.submit(() -> mm.load64(a + 3 * p));
            assertThat(u.poll(WAIT_MS)).isNotNull();
            u.unregister(a, 4 * p);
            assertThat(late.get(WAIT_MS, TimeUnit.MILLISECONDS)).isZero();
        }
    }

    @Test
    void apiAndRegisterErrorsAsLinux() {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K16))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 4 * p, RW, ANON);
            Userfaultfd u = mm.userfaultfd(Uffd.USER_MODE_ONLY);
            assertErrno(() -> u.register(a, p, Uffd.REGISTER_MODE_WP), Errno.EINVAL);
            assertErrno(() -> u.api(0xAB, 0), Errno.EINVAL);
            assertErrno(() -> u.api(1L << 63), Errno.EINVAL);
            assertErrno(() -> u.api(Uffd.FEATURE_POISON), Errno.EINVAL);
            assertErrno(() -> u.api(Uffd.FEATURE_MOVE), Errno.EINVAL);
            long features = u.api(Uffd.FEATURE_WP_ASYNC);
            assertThat(features & Uffd.FEATURE_WP_UNPOPULATED).isNotZero();
            assertThat(u.apiIoctls()).isEqualTo((1L << Uffd._UFFDIO_REGISTER) | (1L << Uffd._UFFDIO_UNREGISTER)
                    | (1L << Uffd._UFFDIO_API));
            assertErrno(() -> u.api(0), Errno.EINVAL);
            assertErrno(() -> u.register(a, p, 0), Errno.EINVAL);
            assertErrno(() -> u.register(a, p, 8), Errno.EINVAL);
            assertErrno(() -> u.register(a, p, Uffd.REGISTER_MODE_MINOR), Errno.EINVAL);
            assertErrno(() -> u.register(a + 1, p, Uffd.REGISTER_MODE_WP), Errno.EINVAL);
            assertErrno(() -> u.register(a, p + 1, Uffd.REGISTER_MODE_WP), Errno.EINVAL);
            assertErrno(() -> u.register(0x1_0000_0000L, p, Uffd.REGISTER_MODE_WP), Errno.EINVAL);
            u.register(a, 2 * p, Uffd.REGISTER_MODE_WP);
            Userfaultfd other = mm.userfaultfd(0);
            other.api(0);
            assertErrno(() -> other.register(a, p, Uffd.REGISTER_MODE_MISSING), Errno.EBUSY);
            assertErrno(() -> other.unregister(a, p), Errno.EINVAL);
            assertErrno(() -> u.writeprotect(a, p, Uffd.WRITEPROTECT_MODE_WP | Uffd.WRITEPROTECT_MODE_DONTWAKE),
                    Errno.EINVAL);
            assertErrno(() -> u.writeprotect(a, 4 * p, Uffd.WRITEPROTECT_MODE_WP), Errno.ENOENT);
            assertErrno(() -> u.writeprotect(0x1_0000_0000L, p, Uffd.WRITEPROTECT_MODE_WP), Errno.ENOENT);
            assertErrno(() -> u.copy(a, new byte[(int) p], Uffd.COPY_MODE_WP | 4), Errno.EINVAL);
            assertErrno(() -> u.copy(a + 3 * p, new byte[(int) p], 0), Errno.ENOENT);
            assertErrno(() -> u.copy(a + p, new byte[(int) (2 * p)], 0), Errno.ENOENT);
            assertErrno(() -> u.zeropage(a, p, 2), Errno.EINVAL);
            assertErrno(() -> mm.userfaultfd(0x40), Errno.EINVAL);
            other.close();
            u.close();
            assertErrno(() -> u.register(a, p, Uffd.REGISTER_MODE_WP), Errno.EBADF);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void pagemapScanArgumentChecksAndTruncation(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 20 * p, RW, ANON);
            Userfaultfd u = mm.userfaultfd(Uffd.USER_MODE_ONLY);
            u.api(ASYNC);
            u.register(a, 20 * p, Uffd.REGISTER_MODE_WP);
            u.writeprotect(a, 20 * p, Uffd.WRITEPROTECT_MODE_WP);
            PmScanArg bad = new PmScanArg(a, a + p);
            bad.size = 88;
            assertErrno(() -> mm.pagemapScan(bad), Errno.EINVAL);
            assertErrno(() -> mm.pagemapScan(new PmScanArg(a, a + p).flags(4)), Errno.EINVAL);
            assertErrno(() -> mm.pagemapScan(new PmScanArg(a, a + p).masks(1L << 9, 0, 0, 0)), Errno.EINVAL);
            assertErrno(() -> mm.pagemapScan(new PmScanArg(a + 1, a + p)), Errno.EINVAL);
            assertErrno(() -> mm.pagemapScan(new PmScanArg(a + p, a)), Errno.EFAULT);
            PmScanArg nullVec = new PmScanArg(a, a + p);
            nullVec.vecLen = 3;
            assertErrno(() -> mm.pagemapScan(nullVec), Errno.EINVAL);
            for (int i = 0; i < 20; i += 2) {
                mm.store8(a + i * p, 1);
            }
            // max_pages truncation: walk_end is the first matching page not reported
            PmScanArg s = new PmScanArg(a, a + 20 * p).withVec(20).masks(W, 0, 0, W).maxPages(3).flags(GETWP);
            assertThat(mm.pagemapScan(s)).isEqualTo(3);
            assertThat(s.walkEnd).isEqualTo(a + 6 * p);
            // only the reported pages were re-armed
            PmScanArg rest = new PmScanArg(a, a + 20 * p).withVec(2).masks(W, 0, 0, W);
            assertThat(mm.pagemapScan(rest)).isEqualTo(2);
            assertThat(rest.vec[0].start()).isEqualTo(a + 6 * p);
            assertThat(rest.walkEnd).as("vec full").isEqualTo(a + 10 * p);
            // unaligned end is rounded up; coalescing across an mprotect split
            mm.mprotect(a + 15 * p, p, Prot.READ);
            for (int i = 14; i < 17; i++) {
                mm.pagemapEntry(a + i * p);
            }
            mm.mprotect(a + 15 * p, p, RW);
            mm.store8(a + 15 * p, 1);
            PmScanArg co = new PmScanArg(a + 14 * p, a + 16 * p - 1).withVec(4).masks(W, 0, 0, W);
            assertThat(mm.pagemapScan(co)).isEqualTo(1);
            assertThat(co.walkEnd).as("the walk ran to the rounded-up end; only walk_end is written back").isEqualTo(a + 16 * p);
            assertThat(co.vec[0]).isEqualTo(new PageRegion(a + 14 * p, a + 16 * p, W));
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void shmemZapKeepsMarkersHolePunchDropsThem(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            Memfd fd = mm.memfdCreate("shm", 4 * p);
            long a = mm.mmap(0, 4 * p, RW, MapFlags.SHARED, fd, 0);
            for (int i = 0; i < 4; i++) {
                mm.store8(a + i * p, i + 1);
            }
            Userfaultfd u = mm.userfaultfd(Uffd.USER_MODE_ONLY);
            u.api(ASYNC);
            u.register(a, 4 * p, Uffd.REGISTER_MODE_WP);
            u.writeprotect(a, 4 * p, Uffd.WRITEPROTECT_MODE_WP);
            mm.madvise(a, p, Madvise.DONTNEED);
            assertThat(mm.rawPte(a)).as("zap_install_uffd_wp_if_needed").isEqualTo(Pte.UFFD_WP_MARKER);
            assertThat(mm.load8(a)).as("page cache keeps the data").isEqualTo(1);
            mm.madvise(a + p, p, Madvise.REMOVE);
            assertThat(mm.rawPte(a + p)).isZero();
            PmScanArg s = new PmScanArg(a, a + 4 * p).withVec(4).masks(W, 0, 0, W);
            assertThat(mm.pagemapScan(s)).isEqualTo(1);
            assertThat(s.vec[0]).as("hole punch reads as written (now zero)").isEqualTo(new PageRegion(a + p, a + 2 * p, W));
            assertThat(mm.load8(a + p)).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void minorFaultsOnShmemResolvedByContinue(Granule g) throws Exception {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            Memfd fd = mm.memfdCreate("guest", 2 * p);
            long writer = mm.mmap(0, 2 * p, RW, MapFlags.SHARED, fd, 0);
            long guest = mm.mmap(0, 2 * p, RW, MapFlags.SHARED, fd, 0);
            mm.store64(writer, 1);
            Userfaultfd u = mm.userfaultfd(Uffd.USER_MODE_ONLY);
            assertThat(u.api(Uffd.FEATURE_MINOR_SHMEM) & Uffd.FEATURE_MINOR_SHMEM).isNotZero();
            long anon = mm.mmap(0, p, RW, ANON);
            assertErrno(() -> u.register(anon, p, Uffd.REGISTER_MODE_MINOR), Errno.EINVAL);
            long ioctls = u.register(guest, 2 * p, Uffd.REGISTER_MODE_MINOR);
            assertThat(ioctls & (1L << Uffd._UFFDIO_CONTINUE)).isNotZero();
            Future<Long> reader = threads.submit(() -> mm.load64(guest));
            UffdMsg msg = u.poll(WAIT_MS);
            assertThat(msg.flags()).isEqualTo(Uffd.PAGEFAULT_FLAG_MINOR);
            assertThat(msg.address()).isEqualTo(guest);
            mm.store64(writer, 42);
            assertThat(u.continueRange(guest, p, 0)).isEqualTo(p);
            assertThat(reader.get(WAIT_MS, TimeUnit.MILLISECONDS)).isEqualTo(42);
            assertThat(Pte.pa(mm.rawPte(guest))).isEqualTo(Pte.pa(mm.rawPte(writer)));
            ErrnoException again = catchErrno(() -> u.continueRange(guest, p, 0));
            assertThat(again.errno()).isEqualTo(Errno.EEXIST);
            ErrnoException hole = catchErrno(() -> u.continueRange(guest + p, p, 0));
            assertThat(hole.errno()).as("no page in the cache").isEqualTo(Errno.EFAULT);
            assertErrno(() -> u.continueRange(guest, p, Uffd.CONTINUE_MODE_WP), Errno.EINVAL);
        }
    }

    @Test
    void checkWpAsyncFailsOnAVmaWithoutAsyncWp() {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 2 * p, RW, ANON);
            PmScanArg s = new PmScanArg(a, a + 2 * p).flags(GETWP).masks(W, 0, 0, W);
            assertErrno(() -> mm.pagemapScan(s), Errno.EPERM);
            PmScanArg skip = new PmScanArg(a, a + 2 * p).flags(Uffd.PM_SCAN_WP_MATCHING).withVec(2).masks(W, 0, 0, W);
            assertThat(mm.pagemapScan(skip)).isZero();
        }
    }

    /**
     * The shootdown protocol: writers on several threads never lose a write to a concurrent
     * get-and-re-protect (every page written is in some scan), and nothing unwritten is reported.
     */
    @ParameterizedTest
    @EnumSource(Granule.class)
    void concurrentWritersLoseNothingToGetAndReprotect(Granule g) throws Exception {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            int pages = 64;
            long a = mm.mmap(0, pages * p, RW, ANON);
            Userfaultfd u = mm.userfaultfd(Uffd.USER_MODE_ONLY);
            u.api(ASYNC);
            u.register(a, pages * p, Uffd.REGISTER_MODE_WP);
            u.writeprotect(a, pages * p, Uffd.WRITEPROTECT_MODE_WP);
            Set<Long> written = ConcurrentHashMap.newKeySet();
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                SplittableRandom rnd = new SplittableRandom(42 + w);
                writers.add(threads.submit(() -> {
                    go.await();
                    for (int i = 0; i < 20_000 && !stop.get(); i++) {
                        int page = rnd.nextInt(3) == 0 ? rnd.nextInt(pages) : rnd.nextInt(6);
                        written.add(a + page * p);
                        mm.store64(a + page * p + 8L * rnd.nextInt(16), i);
                    }
                    return null;
                }));
            }
            TreeSet<Long> collected = new TreeSet<>();
            go.countDown();
            boolean running = true;
            while (running) {
                running = writers.stream().anyMatch(f -> !f.isDone());
                collected.addAll(scanAndRearm(mm, a, pages, p));
            }
            for (Future<?> f : writers) {
                f.get(WAIT_MS, TimeUnit.MILLISECONDS);
            }
            collected.addAll(scanAndRearm(mm, a, pages, p));
            assertThat(collected).containsAll(written);
            assertThat(written).containsAll(collected);
        }
    }

    private static List<Long> scanAndRearm(MemoryManager mm, long a, int pages, long p) {
        PmScanArg s = new PmScanArg(a, a + pages * p).withVec(pages).masks(W, 0, 0, W).flags(GETWP);
        int n = mm.pagemapScan(s);
        List<Long> out = new ArrayList<>();
        for (PageRegion r : Arrays.asList(s.vec).subList(0, n)) {
            for (long x = r.start(); x < r.end(); x += p) {
                out.add(x);
            }
        }
        return out;
    }
}
