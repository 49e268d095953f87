package dev.pagehop.syscall;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.proc.AddressSpaceLayout;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.FreezeResult;
import dev.pagehop.proc.ProcessImage;
import dev.pagehop.proc.ProcessOptions;
import dev.pagehop.proc.ThreadState;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.Userfaultfd;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A pthread program (src/test/a64/threads.c: pthread_create, a mutex, an atomic sum,
 * pthread_join) as a process: each guest thread made by clone is a process thread with its own
 * registers, futex waiters idle at their step boundary, and the process freezes, saves its image
 * with the thread list, and resumes in a fresh address space, printing exactly what the program
 * prints when {@link LinuxGuest} runs it alone.
 */
class ThreadedElfWorkloadTest {
    private static final int PID = 700;
    private static final Duration WAIT = Duration.ofSeconds(120);

    @BeforeAll
    static void register() {
        ElfWorkload.registerKind();
    }

    static String standalone(Granule granule, String... args) {
        LinuxGuest g = A64ProgramsTest.start(granule, "threads", args);
        assertThat(g.runToEnd(Long.MAX_VALUE)).isEqualTo(GuestOutcome.exited(0));
        return g.stdoutText();
    }

    @ParameterizedTest(name = "{0} workers, {1} iterations on {2}")
    @CsvSource({"4, 5000, K4", "3, 2000, K16", "1, 100, K64"})
    void eachGuestThreadIsAProcessThreadAndTheOutputIsTheStandaloneOne(int workers, int iterations, Granule granule)
            throws Exception {
        String expected = standalone(granule, String.valueOf(workers), String.valueOf(iterations));
        MemoryManager mm = MemoryManager.create(MmConfig.arm64(granule));
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, mm,
                ElfWorkloadTest.spec("threads", "threads+" + workers + "+" + iterations), 1, ProcessOptions.defaults())) {
            p.start();
            await().atMost(WAIT).until(() -> ElfWorkload.outcome(mm) != null || p.stopReason().isPresent());
            assertThat(p.stopReason()).isEmpty();
            assertThat(ElfWorkload.outcome(mm)).isEqualTo(GuestOutcome.exited(0));
            assertThat(ElfWorkload.console(mm)).isEqualTo(expected);
            assertThat(ElfWorkload.threadCount(mm)).isEqualTo(workers + 1);
            assertThat(p.threads()).hasSize(workers + 1);
            assertThat(p.threads()).extracting(t -> t.tid()).startsWith(PID, PID + 1);
            for (int i = 1; i <= workers; i++) {
                assertThat(mm.load64(ElfWorkload.slot(i) + ElfWorkload.SLOT_STATE)).as("guest thread %d", i)
                        .isEqualTo(ElfWorkload.THREAD_EXITED);
            }
        }
    }

    /**
     * Frozen while the main thread waits in pthread_join (a futex wait): the waiter is frozen at
     * its boundary, the image lists every thread, and both the restored copy and the thawed
     * original finish with the standalone output.
     */
    @ParameterizedTest(name = "on {0}")
    @CsvSource({"K4", "K64"})
    void futexWaitersSurviveAFreezeAndAMoveToAnotherAddressSpace(Granule granule) throws Exception {
        String expected = standalone(granule, "4", "200000");
        MemoryManager sourceMm = MemoryManager.create(MmConfig.arm64(granule));
        MemoryManager targetMm = MemoryManager.create(MmConfig.arm64(granule));
        try (EmulatedProcess source = EmulatedProcess.spawn(PID, sourceMm,
                ElfWorkloadTest.spec("threads", "threads+4+200000"), 1, ProcessOptions.defaults())) {
            source.start();
            // Main waits in pthread_join for nearly the whole run, while the workers count.
            long mainSlot = ElfWorkload.slot(0) + ElfWorkload.SLOT_STATE;
            await().atMost(WAIT).pollInterval(Duration.ofMillis(1)).until(
                    () -> sourceMm.load64(mainSlot) == ElfWorkload.THREAD_FUTEX_WAIT || ElfWorkload.outcome(sourceMm) != null);
            boolean caughtWaiting = false;
            for (int attempt = 0; attempt < 50 && !caughtWaiting; attempt++) {
                source.freeze();
                assertThat(ElfWorkload.outcome(sourceMm)).as("still running when frozen").isNull();
                caughtWaiting = sourceMm.load64(mainSlot) == ElfWorkload.THREAD_FUTEX_WAIT;
                if (!caughtWaiting) {
                    source.thaw(); // woken by a worker's exit just now: try again while it waits for the next
                }
            }
            assertThat(caughtWaiting).as("main frozen while waiting on a futex").isTrue();
            assertThat(source.threads()).hasSize(5);
            // A thread that wanted the kernel lock just then is stopped waiting for it instead.
            assertThat(source.threads()).allMatch(t -> t.state().isStopped());

            ProcessImage image = ProcessImage.decode(source.saveImage().encode());
            assertThat(image.threads()).extracting(ProcessImage.ThreadImage::tid)
                    .containsExactly(PID, PID + 1, PID + 2, PID + 3, PID + 4);
            AddressSpaceLayout.rebuild(image, targetMm);
            ElfWorkloadTest.copyMemory(sourceMm, targetMm);
            try (EmulatedProcess target = EmulatedProcess.restore(image, targetMm, ProcessOptions.defaults())) {
                assertThat(target.threads()).hasSize(5);
                target.thaw();
                await().atMost(WAIT).until(() -> ElfWorkload.outcome(targetMm) != null || target.stopReason().isPresent());
                assertThat(target.stopReason()).isEmpty();
                assertThat(ElfWorkload.outcome(targetMm)).isEqualTo(GuestOutcome.exited(0));
                assertThat(ElfWorkload.console(targetMm)).as("restored copy").isEqualTo(expected);
            }

            // The original, thawed, finishes too: freezing did not lose a futex waiter.
            source.thaw();
            await().atMost(WAIT).until(() -> ElfWorkload.outcome(sourceMm) != null || source.stopReason().isPresent());
            assertThat(source.stopReason()).isEmpty();
            assertThat(ElfWorkload.console(sourceMm)).as("thawed original").isEqualTo(expected);
        }
    }

    /** Freezes and thaws over and over while threads are created, wait, wake and exit. */
    @ParameterizedTest(name = "{0} freezes")
    @CsvSource({"25"})
    void repeatedFreezesLoseNoWakeUp(int freezes) throws Exception {
        String expected = standalone(Granule.K4, "4", "20000");
        MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4));
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, mm, ElfWorkloadTest.spec("threads", "threads+4+20000"), 1,
                ProcessOptions.defaults())) {
            p.start();
            for (int i = 0; i < freezes && ElfWorkload.outcome(mm) == null; i++) {
                long before = p.stats().steps();
                p.freeze();
                assertThat(p.threads()).allMatch(t -> t.state().isStopped());
                p.thaw();
                // Let it make some progress before the next freeze.
                await().atMost(WAIT).until(() -> p.stats().steps() > before + 2000 || ElfWorkload.outcome(mm) != null);
            }
            await().atMost(WAIT).until(() -> ElfWorkload.outcome(mm) != null || p.stopReason().isPresent());
            assertThat(p.stopReason()).isEmpty();
            assertThat(ElfWorkload.console(mm)).isEqualTo(expected);
        }
    }

    /**
     * One thread sleeps in a write-protect fault inside a system call, holding the kernel lock;
     * the others, wanting the lock for their own calls (futex, exit), wait for it. Those count as
     * stopped, so the process freezes with the fault still unresolved, and once the fault is
     * resolved and the process thawed the program finishes with the standalone output.
     */
    @ParameterizedTest(name = "{0} workers")
    @CsvSource({"4"})
    void threadsWaitingForTheKernelLockOfAThreadAsleepInAFaultDoNotHoldUpAFreeze(int workers) throws Exception {
        String expected = standalone(Granule.K4, String.valueOf(workers), "100000");
        MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4));
        long ps = mm.pageSize();
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, mm,
                ElfWorkloadTest.spec("threads", "threads+" + workers + "+100000"), 1, ProcessOptions.defaults());
                Userfaultfd uffd = mm.userfaultfd(0)) {
            uffd.api(Uffd.FEATURE_PAGEFAULT_FLAG_WP);
            p.start();
            await().atMost(WAIT).until(() -> ElfWorkload.threadCount(mm) == workers + 1);
            // The kernel area's first page holds the syscall counter every call stores to first.
            uffd.register(ElfWorkload.KERNEL_AREA, ps, Uffd.REGISTER_MODE_WP);
            uffd.writeprotect(ElfWorkload.KERNEL_AREA, ps, Uffd.WRITEPROTECT_MODE_WP);
            assertThat(uffd.poll(WAIT.toMillis())).as("a system call's store faults").isNotNull();
            // Every other worker needs the kernel lock sooner or later (a contended mutex, its exit).
            await().atMost(WAIT).until(() -> p.threads().stream()
                    .filter(t -> t.state() == ThreadState.PARKED_IN_FAULT).count() >= 2);
            assertThat(ElfWorkload.outcome(mm)).isNull();

            FreezeResult frozen = CompletableFuture.supplyAsync(p::freeze).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(frozen.parkedInFaultCount()).as("the faulting thread and at least one waiting for its lock")
                    .isGreaterThanOrEqualTo(2);
            assertThat(p.faultStats().faults()).as("waiting for a lock is not a userfault").isEqualTo(1);

            uffd.writeprotect(ElfWorkload.KERNEL_AREA, ps, 0);
            p.thaw();
            await().atMost(WAIT).until(() -> ElfWorkload.outcome(mm) != null || p.stopReason().isPresent());
            assertThat(p.stopReason()).isEmpty();
            assertThat(ElfWorkload.console(mm)).isEqualTo(expected);
        }
    }
}
