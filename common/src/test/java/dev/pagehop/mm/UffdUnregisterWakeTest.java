package dev.pagehop.mm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.UffdMsg;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * UFFDIO_UNREGISTER wakes the threads asleep in a range only where that range was registered
 * for MISSING (fs/userfaultfd.c userfaultfd_unregister: {@code if (userfaultfd_missing(vma))
 * wake_userfault(...)}); a sync WP fault in a WP-only range keeps sleeping until UFFDIO_WAKE.
 * Whether a thread still sleeps is read from the context's sleeper list, so no case depends on
 * how fast a woken thread runs.
 */
@DisplayName("§B.2 UFFDIO_UNREGISTER wakes MISSING faults only")
// Liveness guard only: an emulator bug that parks a thread forever fails the case instead of
// hanging the suite.
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class UffdUnregisterWakeTest {
    private static final int RW = Prot.READ | Prot.WRITE;
    private static final int ANON = MapFlags.PRIVATE | MapFlags.ANONYMOUS;
    /** Liveness guard for messages the test itself provoked; never a timing assertion. */
    private static final long WAIT_MS = 30_000;

    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    @ParameterizedTest(name = "B.2-05 UNREGISTER leaves a sync WP fault asleep in a WP-only range; WAKE ends it [{0}]")
    @EnumSource(Granule.class)
    void unregisterDoesNotWakeWpOnlyFaults(Granule g) throws Exception {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 2 * p, RW, ANON);
            UffdContext u = (UffdContext) mm.userfaultfd(Uffd.USER_MODE_ONLY);
            u.api(0);
            u.register(a, 2 * p, Uffd.REGISTER_MODE_WP);
            mm.store8(a, 1);
            u.writeprotect(a, 2 * p, Uffd.WRITEPROTECT_MODE_WP);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> mm.store8(a + 8, 2), threads);
            UffdMsg msg = u.poll(WAIT_MS);
            assertThat(msg).as("the WP fault message").isNotNull();
            assertThat(msg.flags()).isEqualTo(Uffd.PAGEFAULT_FLAG_WP | Uffd.PAGEFAULT_FLAG_WRITE);
            assertThat(u.sleepingFaults()).isEqualTo(1);

            u.unregister(a, 2 * p);
            assertThat(u.sleepingFaults()).as("UNREGISTER of a WP-only range wakes nobody").isEqualTo(1);
            assertThat(mm.pagemapEntry(a) & Pagemap.PM_UFFD_WP).as("but the uffd-wp bit is gone").isZero();

            u.wake(a, p);
            writer.get(WAIT_MS, TimeUnit.MILLISECONDS);
            assertThat(u.sleepingFaults()).isZero();
            assertThat(mm.load8(a + 8)).as("the woken store retried on the unprotected page").isEqualTo(2);
        }
    }

    @ParameterizedTest(name = "B.2-06 UNREGISTER wakes a fault asleep in a MISSING range [{0}]")
    @EnumSource(Granule.class)
    void unregisterWakesMissingFaults(Granule g) throws Exception {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 2 * p, RW, ANON);
            UffdContext u = (UffdContext) mm.userfaultfd(Uffd.USER_MODE_ONLY);
            u.api(0);
            u.register(a, 2 * p, Uffd.REGISTER_MODE_MISSING | Uffd.REGISTER_MODE_WP);
            CompletableFuture<Long> reader = CompletableFuture.supplyAsync(() -> mm.load64(a + p), threads);
            UffdMsg msg = u.poll(WAIT_MS);
            assertThat(msg).as("the MISSING fault message").isNotNull();
            assertThat(msg.address()).isEqualTo(a + p);
            assertThat(u.sleepingFaults()).isEqualTo(1);

            u.unregister(a, 2 * p);
            assertThat(u.sleepingFaults()).as("UNREGISTER of a MISSING range wakes its sleepers").isZero();
            assertThat(reader.get(WAIT_MS, TimeUnit.MILLISECONDS)).as("the retried read maps the zero page").isZero();
        }
    }
}
