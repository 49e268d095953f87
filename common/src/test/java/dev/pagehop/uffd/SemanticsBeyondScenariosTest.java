package dev.pagehop.uffd;

import static dev.pagehop.uffd.Kernel.GETWP;
import static dev.pagehop.uffd.Kernel.W;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.mm.Errno;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.Pagemap;
import dev.pagehop.mm.VmFlags;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Cases spec §B implies that §C does not list; ids name the §B section they come from. */
@DisplayName("§B cases beyond §C")
// Liveness guard only: an emulator bug that parks a thread forever fails the case instead of
// hanging the suite.
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SemanticsBeyondScenariosTest {
    private static final long MSG_WAIT_MS = 30_000;
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    private static long armedAsync(Kernel k, long pages) {
        k.asyncUffd();
        long a = k.map(pages);
        k.wpInit(a, pages * k.p);
        return a;
    }

    @ParameterizedTest(name = "B.8-01 an armed unpopulated page is a marker: pagemap SWAP|UFFD_WP, scan SWAPPED not WRITTEN [{0}]")
    @EnumSource(Granule.class)
    void markerReportedSwapped(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = armedAsync(k, 4);
            long e = k.mm.pagemapEntry(a);
            assertThat(e & (Pagemap.PM_SWAP | Pagemap.PM_UFFD_WP)).isEqualTo(Pagemap.PM_SWAP | Pagemap.PM_UFFD_WP);
            assertThat(e & Pagemap.PM_PRESENT).isZero();
            assertThat(k.scan(a, 4 * k.p, 4, 0, 0, 0, Kernel.BITS_ALL, 0, Kernel.BITS_ALL)).isEqualTo(1);
            assertThat(k.region(0)).isEqualTo(new PageRegion(a, a + 4 * k.p,
                    Uffd.PAGE_IS_SWAPPED | Uffd.PAGE_IS_WPALLOWED));
        }
    }

    @ParameterizedTest(name = "B.2-01 registration arms nothing: bit 57 stays 0 until WRITEPROTECT [{0}]")
    @EnumSource(Granule.class)
    void registerArmsNothing(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            k.asyncUffd();
            long a = k.map(2);
            k.touch(a);
            k.uffd.register(a, 2 * k.p, Uffd.REGISTER_MODE_WP);
            assertThat(k.wp(a)).isFalse();
            assertThat(k.wp(a + k.p)).isFalse();
        }
    }

    @ParameterizedTest(name = "B.6-01 registered but never armed: none ptes and holes read WRITTEN (Linux 6.18) [{0}]")
    @EnumSource(Granule.class)
    void unarmedReadsWritten(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            k.asyncUffd();
            long a = k.map(8);
            k.touch(a);
            k.uffd.register(a, 8 * k.p, Uffd.REGISTER_MODE_WP);
            assertThat(k.getWritten(a, 8 * k.p, 8)).isEqualTo(1);
            assertThat(k.region(0)).isEqualTo(new PageRegion(a, a + 8 * k.p, W));
        }
    }

    @ParameterizedTest(name = "B.4-01 MADV_DONTNEED under async reads WRITTEN until re-armed [{0}]")
    @EnumSource(Granule.class)
    void dontneedReadsWritten(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = armedAsync(k, 4);
            k.touchPages(a, 4);
            k.arm(a, 4 * k.p);
            assertThat(k.getWritten(a, 4 * k.p, 4)).isZero();
            k.mm.madvise(a + k.p, 2 * k.p, Madvise.DONTNEED);
            assertThat(k.getWpWritten(a, 4 * k.p, 4, 0)).isEqualTo(1);
            assertThat(k.region(0)).isEqualTo(new PageRegion(a + k.p, a + 3 * k.p, W));
            assertThat(k.getWritten(a, 4 * k.p, 4)).as("GETWP re-armed the zapped range").isZero();
            byte[] got = new byte[(int) k.p];
            k.mm.peek(a + k.p, got, 0, got.length);
            assertThat(got).containsOnly((byte) 0);
        }
    }

    @ParameterizedTest(name = "B.4-02 async write to an armed THP splits it; only the written base page reads WRITTEN [{0}]")
    @EnumSource(Granule.class)
    void asyncThpSplit(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            k.asyncUffd();
            long a = k.thp(1);
            k.wpInit(a, k.h);
            long target = a + 3 * k.p;
            k.mm.store8(target + 5, 1);
            assertThat(k.scan(a, k.h, 16, 0, 0, W, 0, 0, W | Uffd.PAGE_IS_HUGE)).isEqualTo(1);
            assertThat(k.region(0)).isEqualTo(new PageRegion(target, target + k.p, W));
            assertThat(k.scan(a, k.h, 1, 0, 0, Uffd.PAGE_IS_HUGE, 0, 0, Uffd.PAGE_IS_HUGE)).as("PMD split").isZero();
            assertThat(k.wp(a)).as("other sub-pages stay protected").isTrue();
        }
    }

    @ParameterizedTest(name = "B.6-02 CHECK_WPASYNC EPERM is not atomic: the async VMA walked first was consumed [{0}]")
    @EnumSource(Granule.class)
    void checkWpasyncEpermNotAtomic(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            k.asyncUffd();
            long a = k.map(4);
            // A second, adjacent VMA that stays unregistered (different prot keeps them apart).
            long b = k.mm.mmap(a + 4 * k.p, 4 * k.p, dev.pagehop.mm.Prot.READ, Kernel.ANON | MapFlags.FIXED_NOREPLACE);
            k.wpInit(a, 4 * k.p);
            k.touchPages(a, 4);
            ErrnoException e = Kernel.fails(() -> k.getWpWritten(a, 8 * k.p, 8, 0));
            assertThat(e.errno()).isEqualTo(Errno.EPERM);
            assertThat(k.getWritten(a, 4 * k.p, 4)).as("the first VMA was re-armed before EPERM").isZero();
            assertThat(b).isEqualTo(a + 4 * k.p);
        }
    }

    @ParameterizedTest(name = "B.6-03 WP_MATCHING without CHECK_WPASYNC silently skips a non-async VMA [{0}]")
    @EnumSource(Granule.class)
    void wpMatchingSkipsForeignVma(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            k.asyncUffd();
            long a = k.map(4);
            k.mm.mmap(a + 4 * k.p, 4 * k.p, dev.pagehop.mm.Prot.READ, Kernel.ANON | MapFlags.FIXED_NOREPLACE);
            k.wpInit(a, 4 * k.p);
            k.touch(a);
            assertThat(k.scan(a, 8 * k.p, 8, Uffd.PM_SCAN_WP_MATCHING, 0, W, 0, 0, W)).isEqualTo(1);
            assertThat(k.region(0)).isEqualTo(new PageRegion(a, a + k.p, W));
        }
    }

    @ParameterizedTest(name = "B.6-04 walk_end: end when complete, the first unreported match when the vec fills [{0}]")
    @EnumSource(Granule.class)
    void walkEndRules(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = armedAsync(k, 10);
            k.arm(a, 10 * k.p);
            for (int i = 0; i < 10; i += 2) {
                k.touch(a + i * k.p);
            }
            assertThat(k.getWritten(a, 10 * k.p, 10)).isEqualTo(5);
            assertThat(k.last.walkEnd).isEqualTo(a + 10 * k.p);
            assertThat(k.getWritten(a, 10 * k.p, 2)).isEqualTo(2);
            assertThat(k.last.walkEnd).as("vec full: first matching page not reported").isEqualTo(a + 4 * k.p);
            assertThat(k.getWpWritten(a, 10 * k.p, 10, 3)).isEqualTo(3);
            assertThat(k.last.walkEnd).as("max_pages reached").isEqualTo(a + 6 * k.p);
            assertThat(k.getWpWritten(a, 10 * k.p, 10, 0)).as("the rest stayed written").isEqualTo(2);
            // end is rounded up to a page.
            assertThat(k.getWritten(a, 10 * k.p - 1, 10)).isZero();
            assertThat(k.last.walkEnd).isEqualTo(a + 10 * k.p);
        }
    }

    @ParameterizedTest(name = "B.6-05 coalescing needs equal categories and contiguity [{0}]")
    @EnumSource(Granule.class)
    void coalescing(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = armedAsync(k, 6);
            k.arm(a, 6 * k.p);
            k.touchPages(a, 3);
            long all = Kernel.BITS_ALL;
            assertThat(k.scan(a, 6 * k.p, 6, 0, 0, 0, all, 0, all)).isEqualTo(2);
            assertThat(k.region(0)).isEqualTo(new PageRegion(a, a + 3 * k.p,
                    W | Uffd.PAGE_IS_PRESENT | Uffd.PAGE_IS_WPALLOWED));
            assertThat(k.region(1)).isEqualTo(new PageRegion(a + 3 * k.p, a + 6 * k.p,
                    Uffd.PAGE_IS_SWAPPED | Uffd.PAGE_IS_WPALLOWED));
        }
    }

    @ParameterizedTest(name = "B.6-06 exclusive WP (NULL vec, WP_MATCHING) arms every page whatever the masks [{0}]")
    @EnumSource(Granule.class)
    void exclusiveWp(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = armedAsync(k, 4);
            k.touchPages(a, 4);
            assertThat(k.scan(a, 4 * k.p, 0, Uffd.PM_SCAN_WP_MATCHING, 0, Uffd.PAGE_IS_PFNZERO, 0, 0, W)).isZero();
            assertThat(k.getWritten(a, 4 * k.p, 4)).isZero();
        }
    }

    @ParameterizedTest(name = "B.2-02 UNREGISTER resets uffd-wp bits and markers [{0}]")
    @EnumSource(Granule.class)
    void unregisterResets(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = armedAsync(k, 2);
            k.touch(a);
            k.arm(a, 2 * k.p);
            assertThat(k.wp(a)).isTrue();
            assertThat(k.wp(a + k.p)).isTrue();
            k.uffd.unregister(a, 2 * k.p);
            assertThat(k.wp(a)).isFalse();
            assertThat(k.mm.pagemapEntry(a + k.p)).as("marker removed").isZero();
        }
    }

    @ParameterizedTest(name = "B.2-03 WP_ASYNC forces WP_UNPOPULATED on; register outside any VMA fails EINVAL [{0}]")
    @EnumSource(Granule.class)
    void asyncImpliesUnpopulated(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            k.uffd(Uffd.FEATURE_WP_ASYNC);
            long a = k.map(1);
            k.uffd.register(a, k.p, Uffd.REGISTER_MODE_WP);
            k.uffd.writeprotect(a, k.p, Uffd.WRITEPROTECT_MODE_WP);
            assertThat(k.wp(a)).as("marker although only WP_ASYNC was asked").isTrue();
            k.mm.munmap(a, k.p);
            assertThat(Kernel.fails(() -> k.uffd.register(a, k.p, Uffd.REGISTER_MODE_WP)).errno()).isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> k.uffd.register(a + 1, k.p, Uffd.REGISTER_MODE_WP)).errno()).isEqualTo(Errno.EINVAL);
        }
    }

    @ParameterizedTest(name = "B.2-04 a VMA owned by another uffd fails EBUSY [{0}]")
    @EnumSource(Granule.class)
    void otherContextBusy(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(1);
            Userfaultfd one = k.uffd(0);
            one.register(a, k.p, Uffd.REGISTER_MODE_WP);
            try (Userfaultfd two = k.mm.userfaultfd(Uffd.USER_MODE_ONLY)) {
                two.api(0);
                assertThat(Kernel.fails(() -> two.register(a, k.p, Uffd.REGISTER_MODE_WP)).errno()).isEqualTo(Errno.EBUSY);
            }
        }
    }

    @ParameterizedTest(name = "B.3-01 WRITEPROTECT on a range with an unregistered VMA fails ENOENT [{0}]")
    @EnumSource(Granule.class)
    void writeprotectUnregisteredEnoent(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            k.uffd(0);
            long a = k.map(1);
            assertThat(Kernel.fails(() -> k.uffd.writeprotect(a, k.p, Uffd.WRITEPROTECT_MODE_WP)).errno()).isEqualTo(Errno.ENOENT);
        }
    }

    @ParameterizedTest(name = "B.5-01 mprotect keeps uffd-wp; a write after RO->RW still counts as written [{0}]")
    @EnumSource(Granule.class)
    void mprotectKeepsWp(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = armedAsync(k, 1);
            k.touch(a);
            k.arm(a, k.p);
            k.mm.mprotect(a, k.p, dev.pagehop.mm.Prot.READ);
            k.mm.mprotect(a, k.p, Kernel.RW);
            assertThat(k.wp(a)).isTrue();
            k.touch(a);
            assertThat(k.getWritten(a, k.p, 1)).isEqualTo(1);
        }
    }

    @ParameterizedTest(name = "B.5-02 mremap without EVENT_REMAP clears uffd-wp at the destination [{0}]")
    @EnumSource(Granule.class)
    void mremapClearsWp(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = armedAsync(k, 2);
            k.touchPages(a, 2);
            k.arm(a, 2 * k.p);
            long hole = k.map(8);
            k.mm.munmap(hole, 8 * k.p);
            long b = k.mm.mremap(a, 2 * k.p, 4 * k.p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, hole);
            assertThat(b).isEqualTo(hole);
            assertThat(k.wp(b)).isFalse();
            assertThat(k.wp(b + k.p)).isFalse();
        }
    }

    @ParameterizedTest(name = "B.5-03 fork without EVENT_FORK: the child has no uffd-wp bits or markers [{0}]")
    @EnumSource(Granule.class)
    void forkDropsWp(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = armedAsync(k, 2);
            k.touch(a);
            k.arm(a, 2 * k.p);
            try (MemoryManager child = k.mm.fork()) {
                assertThat(child.pagemapEntry(a) & Pagemap.PM_UFFD_WP).isZero();
                assertThat(child.pagemapEntry(a + k.p) & Pagemap.PM_UFFD_WP).isZero();
            }
            assertThat(k.wp(a)).as("parent unchanged").isTrue();
        }
    }

    @ParameterizedTest(name = "B.3-02 COPY_MODE_WP installs a write-protected page; a write then faults WP [{0}]")
    @EnumSource(Granule.class)
    void copyModeWp(Granule g) throws Exception {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(1);
            Userfaultfd u = k.uffd(0);
            u.register(a, k.p, Uffd.REGISTER_MODE_MISSING | Uffd.REGISTER_MODE_WP);
            u.copy(a, new byte[(int) k.p], Uffd.COPY_MODE_WP);
            assertThat(k.wp(a)).isTrue();
            CompletableFuture<Void> w = CompletableFuture.runAsync(() -> k.touch(a), threads);
            UffdMsg msg = u.poll(MSG_WAIT_MS);
            assertThat(msg.flags()).isEqualTo(Uffd.PAGEFAULT_FLAG_WP | Uffd.PAGEFAULT_FLAG_WRITE);
            u.writeprotect(a, k.p, 0);
            w.get(MSG_WAIT_MS, TimeUnit.MILLISECONDS);
        }
    }

    @ParameterizedTest(name = "B.3-03 MISSING|WP: access to a marker raises a MISSING fault, never WP [{0}]")
    @EnumSource(Granule.class)
    void markerInMissingVmaFaultsMissing(Granule g) throws Exception {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(1);
            Userfaultfd u = k.uffd(Uffd.FEATURE_WP_UNPOPULATED);
            u.register(a, k.p, Uffd.REGISTER_MODE_MISSING | Uffd.REGISTER_MODE_WP);
            u.writeprotect(a, k.p, Uffd.WRITEPROTECT_MODE_WP);
            CompletableFuture<Void> w = CompletableFuture.runAsync(() -> k.touch(a), threads);
            UffdMsg msg = u.poll(MSG_WAIT_MS);
            assertThat(msg.flags()).isEqualTo(Uffd.PAGEFAULT_FLAG_WRITE);
            u.copy(a, new byte[(int) k.p], 0);
            w.get(MSG_WAIT_MS, TimeUnit.MILLISECONDS);
            assertThat(k.mm.load8(a)).isEqualTo(1);
        }
    }

    @ParameterizedTest(name = "B.7-01 EVENT_REMOVE: MADV_DONTNEED waits until the monitor reads the event [{0}]")
    @EnumSource(Granule.class)
    void removeEvent(Granule g) throws Exception {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(4);
            Userfaultfd u = k.uffd(Uffd.FEATURE_EVENT_REMOVE);
            u.register(a, 4 * k.p, Uffd.REGISTER_MODE_MISSING);
            CompletableFuture<Void> zap = CompletableFuture.runAsync(() -> k.mm.madvise(a + k.p, 2 * k.p,
                    Madvise.DONTNEED), threads);
            UffdMsg msg = u.poll(MSG_WAIT_MS);
            assertThat(msg).isEqualTo(UffdMsg.remove(a + k.p, a + 3 * k.p));
            zap.get(MSG_WAIT_MS, TimeUnit.MILLISECONDS);
            assertThat(u.copy(a + k.p, new byte[(int) k.p], 0)).as("the zapped range stays registered").isEqualTo(k.p);
        }
    }

    @ParameterizedTest(name = "B.7-02 EVENT_UNMAP and EVENT_REMAP report munmap and mremap [{0}]")
    @EnumSource(Granule.class)
    void unmapAndRemapEvents(Granule g) throws Exception {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(4);
            Userfaultfd u = k.uffd(Uffd.FEATURE_EVENT_UNMAP | Uffd.FEATURE_EVENT_REMAP);
            u.register(a, 4 * k.p, Uffd.REGISTER_MODE_MISSING);
            CompletableFuture<Void> unmap = CompletableFuture.runAsync(() -> k.mm.munmap(a + 3 * k.p, k.p), threads);
            assertThat(u.poll(MSG_WAIT_MS)).isEqualTo(UffdMsg.unmap(a + 3 * k.p, a + 4 * k.p));
            unmap.get(MSG_WAIT_MS, TimeUnit.MILLISECONDS);
            CompletableFuture<Long> move = CompletableFuture.supplyAsync(() -> k.mm.mremap(a, 3 * k.p, 3 * k.p,
                    MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, a + 64 * k.p), threads);
            assertThat(u.poll(MSG_WAIT_MS)).isEqualTo(UffdMsg.remap(a, a + 64 * k.p, 3 * k.p));
            assertThat(move.get(MSG_WAIT_MS, TimeUnit.MILLISECONDS)).isEqualTo(a + 64 * k.p);
        }
    }

    @ParameterizedTest(name = "B.7-03 ZEROPAGE then write: an ordinary COW, no message [{0}]")
    @EnumSource(Granule.class)
    void zeropageThenWrite(Granule g) throws Exception {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(1);
            Userfaultfd u = k.uffd(0);
            u.register(a, k.p, Uffd.REGISTER_MODE_MISSING);
            u.zeropage(a, k.p, 0);
            assertThat(k.scan(a, k.p, 1, 0, 0, Uffd.PAGE_IS_PFNZERO, 0, 0, Uffd.PAGE_IS_PFNZERO)).isEqualTo(1);
            k.touch(a);
            assertThat(k.mm.load8(a)).isEqualTo(1);
            assertThat(u.poll(0)).isNull();
        }
    }

    @ParameterizedTest(name = "B.2-12 REGISTER with modes the range already has changes nothing (MISSING|WP then WP keeps"
            + " MISSING); other modes replace the old ones [{0}]")
    @EnumSource(Granule.class)
    void reRegisterSubsetKeepsModes(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(2);
            Userfaultfd u = k.uffd(0);
            u.register(a, 2 * k.p, Uffd.REGISTER_MODE_MISSING | Uffd.REGISTER_MODE_WP);
            long ioctls = u.register(a, 2 * k.p, Uffd.REGISTER_MODE_WP);
            assertThat(ioctls & (1L << Uffd._UFFDIO_WRITEPROTECT)).isNotZero();
            assertThat(uffdFlags(k, a)).as("already MISSING|WP: a WP registration is a no-op")
                    .isEqualTo(VmFlags.VM_UFFD_MISSING | VmFlags.VM_UFFD_WP);
            u.register(a, k.p, Uffd.REGISTER_MODE_MISSING);
            assertThat(uffdFlags(k, a)).as("MISSING again: still a subset").isEqualTo(VmFlags.VM_UFFD_MISSING | VmFlags.VM_UFFD_WP);
            long b = k.map(1);
            u.register(b, k.p, Uffd.REGISTER_MODE_MISSING);
            u.register(b, k.p, Uffd.REGISTER_MODE_WP);
            assertThat(uffdFlags(k, b)).as("MISSING then WP: the new mode replaces the old").isEqualTo(VmFlags.VM_UFFD_WP);
        }
    }

    private static long uffdFlags(Kernel k, long addr) {
        return k.mm.vmas().stream().filter(v -> v.start() <= addr && addr < v.end()).findFirst().orElseThrow().vmFlags()
                & (VmFlags.VM_UFFD_MISSING | VmFlags.VM_UFFD_WP | VmFlags.VM_UFFD_MINOR);
    }

    @ParameterizedTest(name = "B.3-04 FEATURE_SIGBUS: a MISSING or WP fault raises SIGBUS and queues no message [{0}]")
    @EnumSource(Granule.class)
    void sigbusFeature(Granule g) throws Exception {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(2);
            k.touch(a + k.p);
            Userfaultfd u = k.uffd(Uffd.FEATURE_SIGBUS);
            u.register(a, 2 * k.p, Uffd.REGISTER_MODE_MISSING | Uffd.REGISTER_MODE_WP);
            u.writeprotect(a + k.p, k.p, Uffd.WRITEPROTECT_MODE_WP);
            dev.pagehop.mm.SegmentationFault missing = org.assertj.core.api.Assertions.catchThrowableOfType(
                    dev.pagehop.mm.SegmentationFault.class, () -> k.mm.load8(a + 3));
            assertThat(missing).as("missing read").isNotNull();
            assertThat(missing.signal()).isEqualTo(dev.pagehop.mm.SegmentationFault.SIGBUS);
            dev.pagehop.mm.SegmentationFault wp = org.assertj.core.api.Assertions.catchThrowableOfType(
                    dev.pagehop.mm.SegmentationFault.class, () -> k.mm.store8(a + k.p + 5, 1));
            assertThat(wp).as("WP write").isNotNull();
            assertThat(wp.signal()).isEqualTo(dev.pagehop.mm.SegmentationFault.SIGBUS);
            assertThat(wp.isWrite()).isTrue();
            assertThat(u.poll(0)).as("no message with SIGBUS").isNull();
            assertThat(k.mm.load8(a + k.p)).as("the page is unchanged").isEqualTo(1);
        }
    }

    @ParameterizedTest(name = "B.3-05 FEATURE_EXACT_ADDRESS: the fault message carries the faulting address, not its page [{0}]")
    @EnumSource(Granule.class)
    void exactAddressFeature(Granule g) throws Exception {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(1);
            Userfaultfd u = k.uffd(Uffd.FEATURE_EXACT_ADDRESS);
            u.register(a, k.p, Uffd.REGISTER_MODE_MISSING);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> k.mm.store8(a + 123, 9), threads);
            UffdMsg msg = u.poll(MSG_WAIT_MS);
            assertThat(msg).isNotNull();
            assertThat(msg.address()).isEqualTo(a + 123);
            assertThat(msg.flags()).isEqualTo(Uffd.PAGEFAULT_FLAG_WRITE);
            u.zeropage(a, k.p, 0);
            writer.get(MSG_WAIT_MS, TimeUnit.MILLISECONDS);
            assertThat(k.mm.load8(a + 123)).isEqualTo(9);
        }
    }
}
