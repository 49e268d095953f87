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
import dev.pagehop.uffd.UffdMsg;
import dev.pagehop.uffd.Userfaultfd;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A read-modify-write instruction whose write faults on a write-protected page (as under the
 * uffd-wp sync tracker), is parked when the process freezes and is resolved while it is frozen:
 * the write lands on the source during the freeze, and the final round then copies memory with it.
 * The instruction must take effect exactly once, both on a target restored from the image taken
 * then and on the source thawed after it (a migration that failed).
 *
 * <p>The program ({@code src/test/a64/atomics.S}) increments three counters 1000 times each: with
 * LDADD, with an LDAXR/STLXR loop and with a CASAL loop, each counter alone on its page. The
 * write-protected page is one counter's, so its first increment is the access that parks.
 */
class AtomicFaultAcrossFreezeTest {
    private static final int PID = 4242;
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String EXPECTED = "atomics 00000000000013e8 00000000000023e8 00000000000033e8\n";

    @BeforeAll
    static void register() {
        ElfWorkload.registerKind();
    }

    @ParameterizedTest(name = "{0} at 0x{1} on {2}")
    @CsvSource({
        "ldadd, 420000, K4",
        "ldaxr-stlxr, 430000, K4",
        "casal, 440000, K4",
        "ldadd, 420000, K64",
        "ldaxr-stlxr, 430000, K16",
    })
    void parkedReadModifyWriteTakesEffectOnceOnTargetAndOnThawedSource(String instruction, String hexAddress,
            Granule granule) throws Exception {
        long counter = Long.parseLong(hexAddress, 16);
        MemoryManager sourceMm = MemoryManager.create(MmConfig.arm64(granule));
        long ps = sourceMm.pageSize();
        try (EmulatedProcess source = EmulatedProcess.spawn(PID, sourceMm,
                ElfWorkloadTest.spec("atomics", "atomics"), 1, ProcessOptions.defaults());
                Userfaultfd uffd = sourceMm.userfaultfd(0)) {
            // The linker script of atomics.S puts each counter at its own 64 KiB boundary.
            long initial = sourceMm.load64(counter);
            assertThat(initial).as("counter of %s at 0x%x", instruction, counter).isIn(0x1000L, 0x2000L, 0x3000L);
            uffd.api(Uffd.FEATURE_PAGEFAULT_FLAG_WP);
            uffd.register(counter, ps, Uffd.REGISTER_MODE_WP);
            uffd.writeprotect(counter, ps, Uffd.WRITEPROTECT_MODE_WP);

            source.start();
            UffdMsg msg = uffd.poll(WAIT.toMillis());
            assertThat(msg).as("write-protect fault of the first %s", instruction).isNotNull();
            assertThat(msg.address() & -ps).isEqualTo(counter);
            assertThat(msg.flags() & Uffd.PAGEFAULT_FLAG_WP).isNotZero();
            await().atMost(WAIT).until(() -> source.thread(0).state() == ThreadState.PARKED_IN_FAULT);

            FreezeResult frozen = source.freeze();
            assertThat(frozen.parkedInFaultCount()).isEqualTo(1);
            // Resolved while frozen, as a sync monitor does: the increment lands now.
            uffd.writeprotect(counter, ps, 0);
            assertThat(source.awaitParkedFaultsLanded(TimeUnit.SECONDS.toNanos(WAIT.toSeconds()))).isZero();
            assertThat(sourceMm.load64(counter)).as("the parked increment landed during the freeze").isEqualTo(initial + 1);

            ProcessImage image = ProcessImage.decode(source.saveImage().encode());
            MemoryManager targetMm = MemoryManager.create(MmConfig.arm64(granule));
            AddressSpaceLayout.rebuild(image, targetMm);
            ElfWorkloadTest.copyMemory(sourceMm, targetMm);
            try (EmulatedProcess target = EmulatedProcess.restore(image, targetMm, ProcessOptions.defaults())) {
                target.thaw();
                await().atMost(WAIT).until(() -> ElfWorkload.outcome(targetMm) != null || target.stopReason().isPresent());
                assertThat(target.stopReason()).isEmpty();
                assertThat(ElfWorkload.console(targetMm)).as("target after a migration").isEqualTo(EXPECTED);
            }

            source.thaw();
            await().atMost(WAIT).until(() -> ElfWorkload.outcome(sourceMm) != null || source.stopReason().isPresent());
            assertThat(source.stopReason()).isEmpty();
            assertThat(ElfWorkload.console(sourceMm)).as("source thawed after a failed migration").isEqualTo(EXPECTED);
        }
    }

    /**
     * The other order: the image is taken while the access is still parked (nothing landed), so
     * the target re-executes the instruction once; the source's fault is resolved only after
     * the image, and the thawed source completes that same instruction once.
     */
    @ParameterizedTest(name = "{0} at 0x{1}")
    @CsvSource({"ldadd, 420000", "ldaxr-stlxr, 430000", "casal, 440000"})
    void readModifyWriteParkedUnresolvedInTheImageRunsOnceOnTheTarget(String instruction, String hexAddress)
            throws Exception {
        long counter = Long.parseLong(hexAddress, 16);
        MemoryManager sourceMm = MemoryManager.create(MmConfig.arm64(Granule.K4));
        long ps = sourceMm.pageSize();
        try (EmulatedProcess source = EmulatedProcess.spawn(PID, sourceMm,
                ElfWorkloadTest.spec("atomics", "atomics"), 1, ProcessOptions.defaults());
                Userfaultfd uffd = sourceMm.userfaultfd(0)) {
            long initial = sourceMm.load64(counter);
            uffd.api(Uffd.FEATURE_PAGEFAULT_FLAG_WP);
            uffd.register(counter, ps, Uffd.REGISTER_MODE_WP);
            uffd.writeprotect(counter, ps, Uffd.WRITEPROTECT_MODE_WP);
            source.start();
            assertThat(uffd.poll(WAIT.toMillis())).as("write-protect fault of the first %s", instruction).isNotNull();
            await().atMost(WAIT).until(() -> source.thread(0).state() == ThreadState.PARKED_IN_FAULT);
            assertThat(source.freeze().parkedInFaultCount()).isEqualTo(1);

            ProcessImage image = ProcessImage.decode(source.saveImage().encode());
            assertThat(image.threads().get(0).parkedInFault()).isTrue();
            assertThat(sourceMm.load64(counter)).as("nothing landed yet").isEqualTo(initial);
            MemoryManager targetMm = MemoryManager.create(MmConfig.arm64(Granule.K4));
            AddressSpaceLayout.rebuild(image, targetMm);
            ElfWorkloadTest.copyMemory(sourceMm, targetMm);
            try (EmulatedProcess target = EmulatedProcess.restore(image, targetMm, ProcessOptions.defaults())) {
                target.thaw();
                await().atMost(WAIT).until(() -> ElfWorkload.outcome(targetMm) != null || target.stopReason().isPresent());
                assertThat(target.stopReason()).isEmpty();
                assertThat(ElfWorkload.console(targetMm)).as("target after a migration").isEqualTo(EXPECTED);
            }

            uffd.writeprotect(counter, ps, 0);
            source.thaw();
            await().atMost(WAIT).until(() -> ElfWorkload.outcome(sourceMm) != null || source.stopReason().isPresent());
            assertThat(source.stopReason()).isEmpty();
            assertThat(ElfWorkload.console(sourceMm)).as("source thawed, then its fault resolved").isEqualTo(EXPECTED);
        }
    }
}
