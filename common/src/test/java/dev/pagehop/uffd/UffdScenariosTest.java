package dev.pagehop.uffd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.mm.Errno;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.Memfd;
import dev.pagehop.mm.Pagemap;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Spec §C.3 (uffd-unit-tests.c) and the §C.4 uffd scenarios X-02..X-05. */
@DisplayName("§C.3/§C.4 userfaultfd: API, registration, MISSING, sync WP")
// Liveness guard only: an emulator bug that parks a thread forever fails the case instead of
// hanging the suite.
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class UffdScenariosTest {
    /** Liveness guard for reads of messages the test itself provoked; never a timing assertion. */
    private static final long MSG_WAIT_MS = 30_000;

    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    enum Mem {
        ANON,
        SHMEM,
        SHMEM_PRIVATE,
        HUGETLB,
        HUGETLB_PRIVATE
    }

    static Stream<Arguments> memTypes() {
        return Arrays.stream(Granule.values()).flatMap(g -> Arrays.stream(Mem.values()).map(m -> Arguments.of(g, m)));
    }

    private static long mapMem(Kernel k, Mem mem, long pages) {
        Assumptions.assumeFalse(mem == Mem.HUGETLB || mem == Mem.HUGETLB_PRIVATE,
                () -> mem + ": hugetlb is out of pagehop's scope (spec, Scope)");
        return switch (mem) {
            case ANON -> k.map(pages);
            case SHMEM -> k.mm.mmap(0, pages * k.p, Kernel.RW, MapFlags.SHARED, k.mm.memfdCreate("u", pages * k.p), 0);
            case SHMEM_PRIVATE -> k.mm.mmap(0, pages * k.p, Kernel.RW, MapFlags.PRIVATE,
                    k.mm.memfdCreate("u", pages * k.p), 0);
            default -> throw new AssertionError(mem);
        };
    }

    private static long bit(int ioctl) {
        return 1L << ioctl;
    }

    @ParameterizedTest(name = "U-01 API handshake: unknown feature fails, features 0 succeeds, a second API fails [{0}]")
    @EnumSource(Granule.class)
    void u01(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            Userfaultfd bad = k.mm.userfaultfd(Uffd.USER_MODE_ONLY);
            assertThat(Kernel.fails(() -> bad.api(0xab, 0)).errno()).as("api 0xab").isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> bad.api(Uffd.API, 1L << 63)).errno()).as("unknown feature bit 63").isEqualTo(Errno.EINVAL);
            bad.close();
            Userfaultfd u = k.mm.userfaultfd(Uffd.USER_MODE_ONLY);
            long features = u.api(0);
            assertThat(features & Uffd.FEATURE_WP_ASYNC).as("supported features include WP_ASYNC").isNotZero();
            assertThat(u.apiIoctls()).isEqualTo(bit(Uffd._UFFDIO_REGISTER) | bit(Uffd._UFFDIO_UNREGISTER)
                    | bit(Uffd._UFFDIO_API));
            assertThat(Kernel.fails(() -> u.api(0)).errno()).as("second UFFDIO_API on the same fd").isEqualTo(Errno.EINVAL);
            u.close();
        }
    }

    @ParameterizedTest(name = "U-01 ioctls before UFFDIO_API fail EINVAL [{0}]")
    @EnumSource(Granule.class)
    void u01BeforeApi(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(1);
            Userfaultfd u = k.mm.userfaultfd(Uffd.USER_MODE_ONLY);
            assertThat(Kernel.fails(() -> u.register(a, k.p, Uffd.REGISTER_MODE_WP)).errno()).isEqualTo(Errno.EINVAL);
            u.close();
        }
    }

    @ParameterizedTest(name = "U-02 register ioctls for every mode combination [{0}, {1}]")
    @MethodSource("memTypes")
    void u02(Granule g, Mem mem) {
        try (Kernel k = Kernel.of(g)) {
            long a = mapMem(k, mem, 1);
            Userfaultfd u = k.uffd(0);
            long supported;
            try (Userfaultfd probe = k.mm.userfaultfd(Uffd.USER_MODE_ONLY)) {
                supported = probe.api(0);
            }
            boolean minorOk = mem != Mem.ANON && (supported & Uffd.FEATURE_MINOR_SHMEM) != 0;
            for (int miss = 0; miss <= 1; miss++) {
                for (int wp = 0; wp <= 1; wp++) {
                    for (int minor = 0; minor <= 1; minor++) {
                        int mode = (miss == 1 ? Uffd.REGISTER_MODE_MISSING : 0) | (wp == 1 ? Uffd.REGISTER_MODE_WP : 0)
                                | (minor == 1 ? Uffd.REGISTER_MODE_MINOR : 0);
                        String what = "mode " + mode + " on " + mem;
                        if (mode == 0 || (minor == 1 && !minorOk)) {
                            assertThat(Kernel.fails(() -> u.register(a, k.p, mode)).errno()).as(what).isEqualTo(Errno.EINVAL);
                            continue;
                        }
                        long ioctls = u.register(a, k.p, mode);
                        assertThat(ioctls & bit(Uffd._UFFDIO_WAKE)).as(what).isNotZero();
                        if (miss == 1) {
                            assertThat(ioctls & bit(Uffd._UFFDIO_COPY)).as(what).isNotZero();
                        }
                        assertThat((ioctls & bit(Uffd._UFFDIO_WRITEPROTECT)) != 0).as(what + ": WRITEPROTECT iff WP")
                                .isEqualTo(wp == 1);
                        assertThat((ioctls & bit(Uffd._UFFDIO_CONTINUE)) != 0).as(what + ": CONTINUE iff MINOR")
                                .isEqualTo(minor == 1);
                        u.unregister(a, k.p);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "U-03 ZEROPAGE maps zeros once, then EEXIST [{0}, {1}]")
    @MethodSource("memTypes")
    void u03(Granule g, Mem mem) {
        try (Kernel k = Kernel.of(g)) {
            long a = mapMem(k, mem, 1);
            Userfaultfd u = k.uffd(0);
            long ioctls = u.register(a, k.p, Uffd.REGISTER_MODE_MISSING);
            assertThat(ioctls & bit(Uffd._UFFDIO_ZEROPAGE)).as("anon and shmem offer ZEROPAGE").isNotZero();
            assertThat(u.zeropage(a, k.p, 0)).isEqualTo(k.p);
            byte[] got = new byte[(int) k.p];
            k.mm.read(a, got);
            assertThat(got).containsOnly((byte) 0);
            long again = a;
            if (mem == Mem.SHMEM) {
                // The same file page through a second (alias) mapping.
                again = k.mm.mmap(0, k.p, Kernel.RW, MapFlags.SHARED, vmaMemfd(k, a), 0);
                u.register(again, k.p, Uffd.REGISTER_MODE_MISSING);
            }
            long target = again;
            ErrnoException e = Kernel.fails(() -> u.zeropage(target, k.p, 0));
            assertThat(e.errno()).isEqualTo(Errno.EEXIST);
            assertThat(e.partialResult()).as("zeropage field").isEqualTo(-Errno.EEXIST);
        }
    }

    private static Memfd vmaMemfd(Kernel k, long a) {
        return k.mm.vmas().stream().filter(v -> v.start() <= a && a < v.end()).findFirst().orElseThrow().memfd();
    }

    @ParameterizedTest(name = "U-04 COPY installs a page once, then EEXIST; WAKE after EEXIST [{0}, {1}]")
    @MethodSource("memTypes")
    void u04(Granule g, Mem mem) {
        try (Kernel k = Kernel.of(g)) {
            long a = mapMem(k, mem, 1);
            Userfaultfd u = k.uffd(0);
            u.register(a, k.p, Uffd.REGISTER_MODE_MISSING);
            byte[] src = new byte[(int) k.p];
            Arrays.fill(src, (byte) 0x5a);
            assertThat(u.copy(a, src, 0)).isEqualTo(k.p);
            long again = a;
            if (mem == Mem.SHMEM) {
                again = k.mm.mmap(0, k.p, Kernel.RW, MapFlags.SHARED, vmaMemfd(k, a), 0);
                u.register(again, k.p, Uffd.REGISTER_MODE_MISSING);
            }
            long target = again;
            ErrnoException e = Kernel.fails(() -> u.copy(target, src, 0));
            assertThat(e.errno()).isEqualTo(Errno.EEXIST);
            assertThat(e.partialResult()).as("copy field").isEqualTo(-Errno.EEXIST);
            u.wake(target, k.p);
            byte[] got = new byte[(int) k.p];
            k.mm.read(target, got);
            assertThat(got).containsOnly((byte) 0x5a);
        }
    }

    @ParameterizedTest(name = "U-05 a read of a missing page faults without WRITE; COPY resolves it [{0}, {1}]")
    @MethodSource("memTypes")
    void u05(Granule g, Mem mem) throws Exception {
        try (Kernel k = Kernel.of(g)) {
            long a = mapMem(k, mem, 1);
            Userfaultfd u = k.uffd(0);
            u.register(a, k.p, Uffd.REGISTER_MODE_MISSING);
            CompletableFuture<Long> reader = CompletableFuture.supplyAsync(() -> k.mm.load64(a + 16), threads);
            UffdMsg msg = u.poll(MSG_WAIT_MS);
            assertThat(msg).as("missing fault message").isNotNull();
            assertThat(msg.event()).isEqualTo(Uffd.EVENT_PAGEFAULT);
            assertThat(msg.flags()).as("read fault flags").isZero();
            assertThat(msg.address()).isEqualTo(a);
            byte[] src = new byte[(int) k.p];
            src[16] = 42;
            u.copy(a, src, 0);
            assertThat(reader.get(MSG_WAIT_MS, TimeUnit.MILLISECONDS)).isEqualTo(42L);
        }
    }

    @ParameterizedTest(name = "U-06 wp-unpopulated: markers set, cleared, dropped by anon zap; zero page keeps wp [{0}]")
    @EnumSource(Granule.class)
    void u06(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(1);
            Userfaultfd u = k.uffd(Uffd.FEATURE_WP_UNPOPULATED);
            u.register(a, k.p, Uffd.REGISTER_MODE_WP);
            u.writeprotect(a, k.p, Uffd.WRITEPROTECT_MODE_WP);
            assertThat(k.wp(a)).as("marker on an unpopulated page").isTrue();
            u.writeprotect(a, k.p, 0);
            assertThat(k.wp(a)).as("unprotected").isFalse();
            u.writeprotect(a, k.p, Uffd.WRITEPROTECT_MODE_WP);
            k.mm.madvise(a, k.p, Madvise.DONTNEED);
            assertThat(k.wp(a)).as("anon zap drops the marker").isFalse();
            k.touch(a);
            assertThat(k.mm.pagemapEntry(a) & Pagemap.PM_PRESENT).isNotZero();
            assertThat(k.wp(a)).isFalse();
            k.mm.madvise(a, k.p, Madvise.DONTNEED);
            u.writeprotect(a, k.p, Uffd.WRITEPROTECT_MODE_WP);
            assertThat(k.mm.load8(a)).isZero();
            long e = k.mm.pagemapEntry(a);
            assertThat(e & Pagemap.PM_PRESENT).as("zero page mapped by the read").isNotZero();
            assertThat(e & Pagemap.PM_UFFD_WP).as("the zero page keeps uffd-wp").isNotZero();
            k.mm.madvise(a, k.p, Madvise.DONTNEED);
        }
    }

    @ParameterizedTest(name = "X-02 COPY partial: EAGAIN with copy = P, EEXIST when the first page exists [{0}]")
    @EnumSource(Granule.class)
    void x02(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(4);
            Userfaultfd u = k.uffd(0);
            u.register(a, 4 * k.p, Uffd.REGISTER_MODE_MISSING);
            byte[] one = new byte[(int) k.p];
            byte[] two = new byte[(int) (2 * k.p)];
            u.copy(a + k.p, one, 0);
            ErrnoException partial = Kernel.fails(() -> u.copy(a, two, 0));
            assertThat(partial.errno()).isEqualTo(Errno.EAGAIN);
            assertThat(partial.partialResult()).as("copy field: bytes done").isEqualTo(k.p);
            u.copy(a + 2 * k.p, one, 0);
            ErrnoException first = Kernel.fails(() -> u.copy(a + 2 * k.p, two, 0));
            assertThat(first.errno()).isEqualTo(Errno.EEXIST);
            assertThat(first.partialResult()).isEqualTo(-Errno.EEXIST);
        }
    }

    @ParameterizedTest(name = "X-03 COPY may overwrite a uffd-wp marker, ZEROPAGE may not [{0}]")
    @EnumSource(Granule.class)
    void x03(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(2);
            Userfaultfd u = k.uffd(Uffd.FEATURE_WP_UNPOPULATED);
            u.register(a, 2 * k.p, Uffd.REGISTER_MODE_MISSING | Uffd.REGISTER_MODE_WP);
            u.writeprotect(a, 2 * k.p, Uffd.WRITEPROTECT_MODE_WP);
            assertThat(k.wp(a)).isTrue();
            assertThat(u.copy(a, new byte[(int) k.p], 0)).isEqualTo(k.p);
            ErrnoException z = Kernel.fails(() -> u.zeropage(a + k.p, k.p, 0));
            assertThat(z.errno()).isEqualTo(Errno.EEXIST);
        }
    }

    @ParameterizedTest(name = "X-04 mode and range errors: EINVAL, ENOENT where Linux raises them [{0}]")
    @EnumSource(Granule.class)
    void x04(Granule g) {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(2);
            Userfaultfd u = k.uffd(0);
            u.register(a, 2 * k.p, Uffd.REGISTER_MODE_MISSING);
            byte[] page = new byte[(int) k.p];
            assertThat(Kernel.fails(() -> u.copy(a, page, Uffd.COPY_MODE_WP)).errno()).as("COPY_MODE_WP without WP registration")
                    .isEqualTo(Errno.EINVAL);
            assertThat(Kernel.fails(() -> u.zeropage(a, k.p, 1 << 1)).errno()).as("ZEROPAGE mode bit 1").isEqualTo(Errno.EINVAL);
            long w = k.map(1);
            u.register(w, k.p, Uffd.REGISTER_MODE_WP);
            assertThat(Kernel.fails(() -> u.writeprotect(w, k.p, Uffd.WRITEPROTECT_MODE_WP | Uffd.WRITEPROTECT_MODE_DONTWAKE))
                    .errno()).as("WRITEPROTECT WP|DONTWAKE").isEqualTo(Errno.EINVAL);
            long plain = k.map(1);
            assertThat(Kernel.fails(() -> u.copy(plain, page, 0)).errno()).as("COPY into an unregistered VMA").isEqualTo(Errno.ENOENT);
            // Two registered VMAs side by side (different prot keeps them apart): one COPY may not span them.
            long two = k.map(2);
            k.mm.mprotect(two + k.p, k.p, dev.pagehop.mm.Prot.READ);
            u.register(two, 2 * k.p, Uffd.REGISTER_MODE_MISSING);
            assertThat(Kernel.fails(() -> u.copy(two, new byte[(int) (2 * k.p)], 0)).errno()).as("COPY spanning two VMAs")
                    .isEqualTo(Errno.ENOENT);
            assertThat(Kernel.fails(() -> u.copy(a + 8, page, 0)).errno()).as("unaligned dst").isEqualTo(Errno.EINVAL);
        }
    }

    @ParameterizedTest(name = "X-05 sync WP fault: WP|WRITE message, writer blocked until unprotect; DONTWAKE needs WAKE [{0}]")
    @EnumSource(Granule.class)
    void x05(Granule g) throws Exception {
        try (Kernel k = Kernel.of(g)) {
            long a = k.map(2);
            Userfaultfd u = k.uffd(0);
            u.register(a, 2 * k.p, Uffd.REGISTER_MODE_WP);
            k.touchPages(a, 2);
            u.writeprotect(a, 2 * k.p, Uffd.WRITEPROTECT_MODE_WP);

            CountDownLatch asleep = new CountDownLatch(1);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                FaultWait.install(new FaultWait.Listener() {
                    @Override
                    public void sleeping(long address, boolean write) {
                        asleep.countDown();
                    }

                    @Override
                    public void woken(long address) {
                    }
                });
                try {
                    k.mm.store32(a + 123, 7);
                } finally {
                    FaultWait.uninstall();
                }
            }, threads);
            UffdMsg msg = u.poll(MSG_WAIT_MS);
            assertThat(msg).isNotNull();
            assertThat(msg.event()).isEqualTo(Uffd.EVENT_PAGEFAULT);
            assertThat(msg.flags()).isEqualTo(Uffd.PAGEFAULT_FLAG_WP | Uffd.PAGEFAULT_FLAG_WRITE);
            assertThat(msg.address()).as("page-aligned without EXACT_ADDRESS").isEqualTo(a);
            assertThat(asleep.await(MSG_WAIT_MS, TimeUnit.MILLISECONDS)).as("writer sleeps in the fault").isTrue();
            assertThat(writer).as("writer still blocked").isNotDone();
            u.writeprotect(a, k.p, 0);
            writer.get(MSG_WAIT_MS, TimeUnit.MILLISECONDS);
            assertThat(k.mm.load32(a + 123)).isEqualTo(7);

            CompletableFuture<Void> second = CompletableFuture.runAsync(() -> k.mm.store32(a + k.p, 9), threads);
            UffdMsg msg2 = u.poll(MSG_WAIT_MS);
            assertThat(msg2.address()).isEqualTo(a + k.p);
            u.writeprotect(a + k.p, k.p, Uffd.WRITEPROTECT_MODE_DONTWAKE);
            assertThat(second).as("DONTWAKE leaves the writer asleep").isNotDone();
            u.wake(a + k.p, k.p);
            second.get(MSG_WAIT_MS, TimeUnit.MILLISECONDS);
            assertThat(k.mm.load32(a + k.p)).isEqualTo(9);
        }
    }
}
