package dev.pagehop.uffd;

import static dev.pagehop.uffd.Kernel.GETWP;
import static dev.pagehop.uffd.Kernel.W;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pagehop.mm.Errno;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Prot;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Errors of spec §B that §C does not list, each where fs/userfaultfd.c and fs/proc/task_mmu.c
 * raise it: the order of the argument checks against mmget_not_zero, the output fields an ioctl
 * writes (or leaves alone) when it fails, and what a failed PAGEMAP_SCAN still writes back.
 */
@DisplayName("§B errors beyond §C: EINVAL, EBADF, ESRCH, ENOMEM, EAGAIN, EPERM")
// Liveness guard only: an emulator bug that parks a thread forever fails the case instead of
// hanging the suite.
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class UffdErrnoScenariosTest {

    @ParameterizedTest(name = "B.2-07 a range below vm.mmap_min_addr fails EINVAL in every range ioctl [{0}]")
    @EnumSource(Granule.class)
    void belowMmapMinAddr(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            Userfaultfd u = k.uffd(0);
            // 0 is page aligned for every granule and below the 64 KiB mmap_min_addr.
            assertThat(Kernel.fails(() -> u.wake(0, k.p)).errno()).as("WAKE").isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> u.writeprotect(0, k.p, Uffd.WRITEPROTECT_MODE_WP)).errno()).as("WRITEPROTECT")
                    .isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> u.register(0, k.p, Uffd.REGISTER_MODE_WP)).errno()).as("REGISTER").isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> u.unregister(0, k.p)).errno()).as("UNREGISTER").isEqualTo(Errno.EINVAL);
            ErrnoException copy = Kernel.fails(() -> u.copy(0, new byte[(int) k.p], 0));
            assertThat(copy.errno()).as("COPY").isEqualTo(Errno.EINVAL);
            assertThat(copy.partialResult()).as("validate_range fails before the copy field is written").isZero();
            assertThat(Kernel.fails(() -> u.zeropage(0, k.p, 0)).errno()).as("ZEROPAGE").isEqualTo(Errno.EINVAL);
        }
    }

    @ParameterizedTest(name = "B.2-08 after the address space exits: ESRCH (COPY, ZEROPAGE, WRITEPROTECT, CONTINUE),"
            + " ENOMEM (REGISTER, UNREGISTER), argument errors first, WAKE still succeeds [{0}]")
    @EnumSource(Granule.class)
    void afterExit(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(2);
            Userfaultfd u = k.uffd(0);
            u.register(a, 2 * k.p, Uffd.REGISTER_MODE_MISSING | Uffd.REGISTER_MODE_WP);
            byte[] page = new byte[(int) k.p];
            k.mm.close();

            assertThat(Kernel.fails(() -> u.copy(a, page, 0)).errno()).as("COPY").isEqualTo(Errno.ESRCH);
            assertThat(Kernel.fails(() -> u.zeropage(a, k.p, 0)).errno()).as("ZEROPAGE").isEqualTo(Errno.ESRCH);
            assertThat(Kernel.fails(() -> u.writeprotect(a, k.p, Uffd.WRITEPROTECT_MODE_WP)).errno()).as("WRITEPROTECT")
                    .isEqualTo(Errno.ESRCH);
            assertThat(Kernel.fails(() -> u.continueRange(a, k.p, 0)).errno()).as("CONTINUE").isEqualTo(Errno.ESRCH);
            assertThat(Kernel.fails(() -> u.register(a, k.p, Uffd.REGISTER_MODE_WP)).errno()).as("REGISTER").isEqualTo(Errno.ENOMEM);
            assertThat(Kernel.fails(() -> u.unregister(a, k.p)).errno()).as("UNREGISTER").isEqualTo(Errno.ENOMEM);

            assertThat(Kernel.fails(() -> u.copy(a, page, 1 << 2)).errno()).as("COPY mode checked before mmget")
                    .isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> u.zeropage(a + 8, k.p, 0)).errno()).as("ZEROPAGE range checked before mmget")
                    .isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> u.writeprotect(a, k.p, Uffd.WRITEPROTECT_MODE_WP | Uffd.WRITEPROTECT_MODE_DONTWAKE))
                    .errno()).as("WRITEPROTECT WP|DONTWAKE checked before mmget").isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> u.register(a, k.p, 0)).errno()).as("REGISTER mode checked before mmget")
                    .isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> u.unregister(a, k.p + 1)).errno()).as("UNREGISTER range checked before mmget")
                    .isEqualTo(Errno.EINVAL);
            // UFFDIO_WAKE validates the range only: the descriptor is still open.
            u.wake(a, k.p);
        }
    }

    @ParameterizedTest(name = "B.2-09 ioctls on a closed userfaultfd fail EBADF [{0}]")
    @EnumSource(Granule.class)
    void closedDescriptor(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(1);
            Userfaultfd u = k.uffd(0);
            u.register(a, k.p, Uffd.REGISTER_MODE_MISSING);
            u.close();
            assertThat(Kernel.fails(() -> u.register(a, k.p, Uffd.REGISTER_MODE_WP)).errno()).as("REGISTER").isEqualTo(Errno.EBADF);
            assertThat(Kernel.fails(() -> u.unregister(a, k.p)).errno()).as("UNREGISTER").isEqualTo(Errno.EBADF);
            assertThat(Kernel.fails(() -> u.copy(a, new byte[(int) k.p], 0)).errno()).as("COPY").isEqualTo(Errno.EBADF);
            assertThat(Kernel.fails(() -> u.zeropage(a, k.p, 0)).errno()).as("ZEROPAGE").isEqualTo(Errno.EBADF);
            assertThat(Kernel.fails(() -> u.writeprotect(a, k.p, 0)).errno()).as("WRITEPROTECT").isEqualTo(Errno.EBADF);
            assertThat(Kernel.fails(() -> u.wake(a, k.p)).errno()).as("WAKE").isEqualTo(Errno.EBADF);
            assertThat(Kernel.fails(() -> {
                try {
                    u.poll(0);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }).errno()).as("read/poll").isEqualTo(Errno.EBADF);
            // Closing released the range: a fault there is an ordinary one.
            assertThat(k.mm.load8(a)).isZero();
        }
    }

    @ParameterizedTest(name = "B.6-07 CHECK_WPASYNC EPERM still flushes the regions found before it and writes walk_end [{0}]")
    @EnumSource(Granule.class)
    void epermFlushesWhatWasFound(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            k.asyncUffd();
            long a = k.map(4);
            long b = k.mm.mmap(a + 4 * k.p, 4 * k.p, Prot.READ, Kernel.ANON | MapFlags.FIXED_NOREPLACE);
            assertThat(b).as("the unregistered VMA right after the armed one").isEqualTo(a + 4 * k.p);
            k.wpInit(a, 4 * k.p);
            k.touchPages(a, 2);
            PmScanArg arg = new PmScanArg(a, a + 8 * k.p).flags(GETWP).masks(W, 0, 0, W).withVec(8);
            ErrnoException e = Kernel.fails(() -> k.mm.pagemapScan(arg));
            assertThat(e.errno()).isEqualTo(Errno.EPERM);
            assertThat(arg.vec[0]).as("the async VMA's written pages reach the vec although the ioctl failed")
                    .isEqualTo(new PageRegion(a, a + 2 * k.p, W));
            assertThat(arg.vec[1]).as("nothing more was found").isNull();
            assertThat(arg.walkEnd).as("walk_end left 0 by the walk becomes end").isEqualTo(a + 8 * k.p);
            assertThat(k.getWritten(a, 4 * k.p, 4)).as("and those pages were re-armed").isZero();
        }
    }

    @ParameterizedTest(name = "B.6-08 PAGEMAP_SCAN writes back walk_end only: an unaligned end is left as passed [{0}]")
    @EnumSource(Granule.class)
    void onlyWalkEndWrittenBack(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            k.asyncUffd();
            long a = k.map(4);
            k.wpInit(a, 4 * k.p);
            k.touchPages(a, 4);
            PmScanArg arg = new PmScanArg(a, a + k.p + 1).masks(W, 0, 0, W).withVec(4);
            arg.maxPages = 0;
            assertThat(k.mm.pagemapScan(arg)).isEqualTo(1);
            assertThat(arg.vec[0]).as("end rounds up to the page holding it").isEqualTo(new PageRegion(a, a + 2 * k.p, W));
            assertThat(arg.walkEnd).isEqualTo(a + 2 * k.p);
            assertThat(arg.end).as("end as the caller wrote it").isEqualTo(a + k.p + 1);
            assertThat(arg.maxPages).as("max_pages as the caller wrote it").isZero();
        }
    }

    @ParameterizedTest(name = "B.7-04 argument errors leave the copy/zeropage field unwritten; mfill errors write -errno [{0}]")
    @EnumSource(Granule.class)
    void outputFieldOnErrors(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(2);
            long plain = k.map(1);
            Userfaultfd u = k.uffd(0);
            u.register(a, 2 * k.p, Uffd.REGISTER_MODE_MISSING);
            byte[] page = new byte[(int) k.p];
            ErrnoException mode = Kernel.fails(() -> u.copy(a, page, 1 << 2));
            assertThat(mode.errno()).isEqualTo(Errno.EINVAL);
            assertThat(mode.partialResult()).as("COPY unknown mode: field untouched").isZero();
            ErrnoException zmode = Kernel.fails(() -> u.zeropage(a, k.p, 1 << 1));
            assertThat(zmode.errno()).isEqualTo(Errno.EINVAL);
            assertThat(zmode.partialResult()).as("ZEROPAGE unknown mode: field untouched").isZero();
            ErrnoException wp = Kernel.fails(() -> u.copy(a, page, Uffd.COPY_MODE_WP));
            assertThat(wp.errno()).isEqualTo(Errno.EINVAL);
            assertThat(wp.partialResult()).as("MODE_WP on a VMA without WP is found in mfill_atomic").isEqualTo(-Errno.EINVAL);
            ErrnoException none = Kernel.fails(() -> u.copy(plain, page, 0));
            assertThat(none.errno()).isEqualTo(Errno.ENOENT);
            assertThat(none.partialResult()).isEqualTo(-Errno.ENOENT);
        }
    }

    @ParameterizedTest(name = "B.7-05 ZEROPAGE partial: EAGAIN with the bytes done; EEXIST only for the first page [{0}]")
    @EnumSource(Granule.class)
    void zeropagePartial(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(4);
            Userfaultfd u = k.uffd(0);
            u.register(a, 4 * k.p, Uffd.REGISTER_MODE_MISSING);
            u.copy(a + 2 * k.p, new byte[(int) k.p], 0);
            ErrnoException partial = Kernel.fails(() -> u.zeropage(a, 4 * k.p, 0));
            assertThat(partial.errno()).isEqualTo(Errno.EAGAIN);
            assertThat(partial.partialResult()).as("zeropage field: bytes done").isEqualTo(2 * k.p);
            ErrnoException first = Kernel.fails(() -> u.zeropage(a + 2 * k.p, 2 * k.p, 0));
            assertThat(first.errno()).isEqualTo(Errno.EEXIST);
            assertThat(first.partialResult()).isEqualTo(-Errno.EEXIST);
            assertThat(u.zeropage(a + 3 * k.p, k.p, 0)).as("the caller retries past the populated page").isEqualTo(k.p);
        }
    }

    @ParameterizedTest(name = "B.7-06 while an event is unread: COPY and ZEROPAGE fail EAGAIN with field -EAGAIN,"
            + " WRITEPROTECT EAGAIN; WAKE unaffected [{0}]")
    @EnumSource(Granule.class)
    void mmapChanging(Granule g) throws Exception {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(4);
            Userfaultfd u = k.uffd(Uffd.FEATURE_EVENT_REMOVE);
            u.register(a, 4 * k.p, Uffd.REGISTER_MODE_MISSING | Uffd.REGISTER_MODE_WP);
            Thread zapper = Thread.ofPlatform().name("zapper").start(() -> k.mm.madvise(a + 3 * k.p, k.p, Madvise.DONTNEED));
            // The only place the zapper can wait is the event delivery (an uninterruptible condition wait).
            await().atMost(Duration.ofSeconds(30)).until(() -> zapper.getState() == Thread.State.WAITING);

            ErrnoException copy = Kernel.fails(() -> u.copy(a, new byte[(int) k.p], 0));
            assertThat(copy.errno()).isEqualTo(Errno.EAGAIN);
            assertThat(copy.partialResult()).as("copy field").isEqualTo(-Errno.EAGAIN);
            ErrnoException zero = Kernel.fails(() -> u.zeropage(a, k.p, 0));
            assertThat(zero.errno()).isEqualTo(Errno.EAGAIN);
            assertThat(zero.partialResult()).as("zeropage field").isEqualTo(-Errno.EAGAIN);
            assertThat(Kernel.fails(() -> u.writeprotect(a, k.p, Uffd.WRITEPROTECT_MODE_WP)).errno()).isEqualTo(Errno.EAGAIN);
            u.wake(a, k.p);

            assertThat(u.read()).isEqualTo(UffdMsg.remove(a + 3 * k.p, a + 4 * k.p));
            zapper.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(zapper.isAlive()).as("the zapper returns once its event was read").isFalse();
            assertThat(u.copy(a, new byte[(int) k.p], 0)).as("COPY works again").isEqualTo(k.p);
        }
    }

    @ParameterizedTest(name = "B.2-10 before UFFDIO_API every other ioctl and read fail EINVAL; unsupported features"
            + " fail EINVAL; an empty O_NONBLOCK read fails EAGAIN [{0}]")
    @EnumSource(Granule.class)
    void beforeHandshakeAndRead(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(1);
            Userfaultfd u = k.mm.userfaultfd(Uffd.USER_MODE_ONLY | Uffd.NONBLOCK);
            assertThat(Kernel.fails(() -> u.unregister(a, k.p)).errno()).as("UNREGISTER").isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> u.writeprotect(a, k.p, 0)).errno()).as("WRITEPROTECT").isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> u.copy(a, new byte[(int) k.p], 0)).errno()).as("COPY").isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> u.zeropage(a, k.p, 0)).errno()).as("ZEROPAGE").isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> u.wake(a, k.p)).errno()).as("WAKE").isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> read(u)).errno()).as("read").isEqualTo(Errno.EINVAL);
            for (long unsupported : new long[] {Uffd.FEATURE_MINOR_HUGETLBFS, Uffd.FEATURE_POISON, Uffd.FEATURE_MOVE}) {
                assertThat(Kernel.fails(() -> u.api(unsupported)).errno()).as("feature 0x%x", unsupported).isEqualTo(Errno.EINVAL);
            }
            assertThat(u.api(0) & Uffd.FEATURE_WP_ASYNC).as("a failed handshake leaves the fd usable").isNotZero();
            assertThat(Kernel.fails(() -> read(u)).errno()).as("O_NONBLOCK read with nothing queued").isEqualTo(Errno.EAGAIN);
            u.close();
        }
    }

    private static void read(Userfaultfd u) {
        try {
            u.read();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest(name = "B.2-11 UNREGISTER of a range without any mapping fails EINVAL; WRITEPROTECT unknown mode"
            + " bits fail EINVAL [{0}]")
    @EnumSource(Granule.class)
    void unregisterAndWriteprotectArguments(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(2);
            Userfaultfd u = k.uffd(0);
            u.register(a, 2 * k.p, Uffd.REGISTER_MODE_WP);
            k.mm.munmap(a + k.p, k.p);
            assertThat(Kernel.fails(() -> u.unregister(a + k.p, k.p)).errno()).as("UNREGISTER over a hole").isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> u.writeprotect(a, k.p, 1 << 2)).errno()).as("WRITEPROTECT mode bit 2")
                    .isEqualTo(Errno.EINVAL);
            u.unregister(a, 2 * k.p);
        }
    }

    @ParameterizedTest(name = "B.6-09 a vec shorter than vec_len fails EFAULT [{0}]")
    @EnumSource(Granule.class)
    void vecShorterThanVecLen(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(2);
            PmScanArg arg = new PmScanArg(a, a + 2 * k.p).withVec(2);
            arg.vecLen = 3;
            assertThat(Kernel.fails(() -> k.mm.pagemapScan(arg)).errno()).isEqualTo(Errno.EFAULT);
        }
    }

    @ParameterizedTest(name = "B.7-07 COPY onto a THP fails EEXIST; COPY past the end of a shared memfd fails EFAULT [{0}]")
    @EnumSource(Granule.class)
    void copyOntoThpAndPastEof(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long t = k.thp(1);
            Userfaultfd u = k.uffd(0);
            u.register(t, k.h, Uffd.REGISTER_MODE_MISSING);
            ErrnoException thp = Kernel.fails(() -> u.copy(t + k.p, new byte[(int) k.p], 0));
            assertThat(thp.errno()).as("dst PMD is a THP").isEqualTo(Errno.EEXIST);
            assertThat(thp.partialResult()).isEqualTo(-Errno.EEXIST);

            dev.pagehop.mm.Memfd fd = k.mm.memfdCreate("short", k.p);
            long s = k.mm.mmap(0, 2 * k.p, Kernel.RW, MapFlags.SHARED, fd, 0);
            u.register(s, 2 * k.p, Uffd.REGISTER_MODE_MISSING);
            ErrnoException eof = Kernel.fails(() -> u.copy(s, new byte[(int) (2 * k.p)], 0));
            assertThat(eof.errno()).as("the second page lies past the file's end").isEqualTo(Errno.EAGAIN);
            assertThat(eof.partialResult()).isEqualTo(k.p);
            ErrnoException first = Kernel.fails(() -> u.copy(s + k.p, new byte[(int) k.p], 0));
            assertThat(first.errno()).isEqualTo(Errno.EFAULT);
            assertThat(first.partialResult()).isEqualTo(-Errno.EFAULT);
        }
    }

    @ParameterizedTest(name = "B.7-08 ZEROPAGE on a uffd-wp marker: EEXIST in private memory, a zeroed page-cache page"
            + " in a shared memfd [{0}]")
    @EnumSource(Granule.class)
    void zeropageOnMarkerByMemoryType(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long anon = k.map(1);
            dev.pagehop.mm.Memfd fd = k.mm.memfdCreate("marker", 2 * k.p);
            long shared = k.mm.mmap(0, k.p, Kernel.RW, MapFlags.SHARED, fd, 0);
            long priv = k.mm.mmap(0, k.p, Kernel.RW, MapFlags.PRIVATE, fd, k.p);
            Userfaultfd u = k.uffd(Uffd.FEATURE_WP_UNPOPULATED);
            for (long a : new long[] {anon, shared, priv}) {
                u.register(a, k.p, Uffd.REGISTER_MODE_MISSING | Uffd.REGISTER_MODE_WP);
                u.writeprotect(a, k.p, Uffd.WRITEPROTECT_MODE_WP);
                assertThat(k.wp(a)).as("marker at 0x%x", a).isTrue();
            }
            // mfill_atomic_pte_zeropage wants a strictly none pte ...
            assertThat(Kernel.fails(() -> u.zeropage(anon, k.p, 0)).errno()).as("anonymous").isEqualTo(Errno.EEXIST);
            assertThat(Kernel.fails(() -> u.zeropage(priv, k.p, 0)).errno()).as("private memfd").isEqualTo(Errno.EEXIST);
            // ... shmem_mfill_atomic_pte installs through mfill_atomic_install_pte, which may overwrite one.
            assertThat(u.zeropage(shared, k.p, 0)).as("shared memfd").isEqualTo(k.p);
            assertThat(k.mm.load8(shared)).isZero();
            assertThat(k.wp(shared)).as("the zeroed page is installed without uffd-wp").isFalse();
        }
    }

    @ParameterizedTest(name = "B.7-09 COPY and ZEROPAGE past the end of a privately mapped memfd fail EFAULT [{0}]")
    @EnumSource(Granule.class)
    void privateFilePastEof(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            dev.pagehop.mm.Memfd fd = k.mm.memfdCreate("short-private", k.p);
            long a = k.mm.mmap(0, 2 * k.p, Kernel.RW, MapFlags.PRIVATE, fd, 0);
            Userfaultfd u = k.uffd(0);
            u.register(a, 2 * k.p, Uffd.REGISTER_MODE_MISSING);
            ErrnoException copy = Kernel.fails(() -> u.copy(a + k.p, new byte[(int) k.p], 0));
            assertThat(copy.errno()).as("COPY (mfill_file_over_size)").isEqualTo(Errno.EFAULT);
            assertThat(copy.partialResult()).isEqualTo(-Errno.EFAULT);
            assertThat(Kernel.fails(() -> u.zeropage(a + k.p, k.p, 0)).errno()).as("ZEROPAGE").isEqualTo(Errno.EFAULT);
            ErrnoException partial = Kernel.fails(() -> u.zeropage(a, 2 * k.p, 0));
            assertThat(partial.errno()).as("the page inside the file is zero-mapped first").isEqualTo(Errno.EAGAIN);
            assertThat(partial.partialResult()).isEqualTo(k.p);
        }
    }
}
