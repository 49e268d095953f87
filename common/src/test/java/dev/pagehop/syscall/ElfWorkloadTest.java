package dev.pagehop.syscall;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.proc.AddressSpaceLayout;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.MemoryDigest;
import dev.pagehop.proc.ProcessImage;
import dev.pagehop.proc.ProcessOptions;
import dev.pagehop.proc.StopReason;
import dev.pagehop.workload.Ticker;
import dev.pagehop.workload.Workloads;
import dev.pagehop.workload.WorkloadSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The interpreter as a process-model workload: an ELF program stepped by an {@link EmulatedProcess}
 * thread, frozen at a step boundary, carried through a {@link ProcessImage} (bytes) and a copy of
 * its memory into a fresh address space, and resumed there.
 */
class ElfWorkloadTest {
    private static final int PID = 321;

    @BeforeAll
    static void register() {
        ElfWorkload.registerKind();
    }

    static WorkloadSpec spec(String program, String argv) {
        TestPrograms.load(program); // builds the programs, or aborts the test with the reason
        Path elf = Paths.get("target/a64-programs", program).toAbsolutePath();
        return WorkloadSpec.parse("a64:elf=" + elf + ",argv=" + argv + "@5");
    }

    static ProcessOptions options() {
        return ProcessOptions.defaults().withTicker(Ticker.manual());
    }

    @ParameterizedTest(name = "{0} on {2}")
    @CsvSource({"dirtier, dirtier+2+3, K4", "dirtier, dirtier+2+3, K64", "hashtable, hashtable+20000, K16"})
    void programRunsToItsOutputAsAProcess(String program, String argv, Granule granule) {
        MemoryManager mm = MemoryManager.create(MmConfig.arm64(granule));
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, mm, spec(program, argv), 1, options())) {
            p.freezeAt(steps(program));
            assertThat(ElfWorkload.outcome(mm)).isEqualTo(GuestOutcome.exited(0));
            assertThat(ElfWorkload.console(mm)).isEqualTo(expected(program));
            assertThat(ElfWorkload.unknownSyscalls(mm)).as("rseq").isEqualTo(1);
        }
    }

    /** Step counts that take each program past its exit (a step ends at each store). */
    static long steps(String program) {
        return program.equals("hashtable") ? 12_000_000 : 2_000_000;
    }

    static String expected(String program) {
        return program.equals("hashtable") ? A64ProgramsTest.HASHTABLE_20000 : A64ProgramsTest.DIRTIER_2_3;
    }

    @ParameterizedTest(name = "{0} frozen at step {2} on {3}")
    @CsvSource({
        "dirtier, dirtier+2+3, 1, K4",
        "dirtier, dirtier+2+3, 3000, K4",
        "dirtier, dirtier+2+3, 8000, K16",
        "hashtable, hashtable+20000, 2500000, K64",
    })
    void frozenImageAndMemoryResumeInAFreshAddressSpace(String program, String argv, long freezeAt, Granule granule)
            throws Exception {
        WorkloadSpec spec = spec(program, argv);
        long total = steps(program);
        MemoryManager straightMm = MemoryManager.create(MmConfig.arm64(granule));
        String straightDigest;
        try (EmulatedProcess straight = EmulatedProcess.spawn(PID, straightMm, spec, 1, options())) {
            straight.freezeAt(total);
            straightDigest = MemoryDigest.of(straightMm);
        }

        MemoryManager sourceMm = MemoryManager.create(MmConfig.arm64(granule));
        MemoryManager targetMm = MemoryManager.create(MmConfig.arm64(granule));
        try (EmulatedProcess source = EmulatedProcess.spawn(PID, sourceMm, spec, 1, options())) {
            source.freezeAt(freezeAt);
            assertThat(ElfWorkload.outcome(sourceMm)).as("still running at step %d", freezeAt).isNull();
            ProcessImage image = ProcessImage.decode(source.saveImage().encode());
            AddressSpaceLayout.rebuild(image, targetMm);
            copyMemory(sourceMm, targetMm);
            try (EmulatedProcess target = EmulatedProcess.restore(image, targetMm, options())) {
                target.freezeAt(total);
                assertThat(ElfWorkload.outcome(targetMm)).isEqualTo(GuestOutcome.exited(0));
                assertThat(ElfWorkload.console(targetMm)).isEqualTo(expected(program));
                assertThat(MemoryDigest.of(targetMm)).as("memory equals the uninterrupted run's").isEqualTo(straightDigest);
            }
        }
    }

    static void copyMemory(MemoryManager from, MemoryManager to) {
        byte[] page = new byte[(int) from.pageSize()];
        for (VmaInfo v : from.vmas()) {
            boolean writable = (v.prot() & Prot.WRITE) != 0;
            if (!writable) {
                to.mprotect(v.start(), v.length(), Prot.READ | Prot.WRITE);
            }
            for (long a = v.start(); a < v.end(); a += page.length) {
                from.peek(a, page, 0, page.length);
                to.write(a, page);
            }
            if (!writable) {
                to.mprotect(v.start(), v.length(), v.prot());
            }
        }
    }

    @Test
    void fatalSignalStopsTheProcessWithTheSignal() throws Exception {
        MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4));
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, mm, spec("syscalls", "syscalls+ill"), 1, options())) {
            p.start();
            StopReason reason = p.awaitExit(Duration.ofSeconds(60));
            assertThat(reason.kind()).isEqualTo(StopReason.Kind.SIGNAL);
            assertThat(reason.signal()).isEqualTo(4);
            assertThat(reason.message()).contains("0x00001234");
        }
    }

    @Test
    void specErrorsNameTheProblem() {
        assertThatThrownBy(() -> Workloads.create("a64:maxStep=0")).hasMessageContaining("maxStep must be positive, got 0");
        MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4));
        assertThatThrownBy(() -> EmulatedProcess.spawn(PID, mm, WorkloadSpec.parse("a64@1"), 1, options()))
                .hasMessageContaining("needs elf=");
        MemoryManager mm2 = MemoryManager.create(MmConfig.arm64(Granule.K4));
        assertThatThrownBy(() -> EmulatedProcess.spawn(PID, mm2, spec("hello", "hello"), 2, options()))
                .hasMessageContaining("starts with one thread").hasMessageContaining("got 2 threads");
        assertThat(Files.exists(Paths.get("target/a64-programs/hello"))).isTrue();
        assertThat(MapFlags.FIXED).isPositive();
    }
}
