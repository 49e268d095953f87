package dev.pagehop.syscall;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.VmaInfo;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A program stopped between two {@link LinuxGuest#run} calls, its non-memory state serialised
 * ({@link LinuxGuest#snapshot()}, registers through {@link dev.pagehop.cpu.CpuState#toBytes()})
 * and its memory copied into a fresh address space, continues there to the same output as an
 * uninterrupted run. This is the stop-and-copy core of a migration, done in-process.
 */
class SnapshotResumeTest {

    @ParameterizedTest(name = "{0} {1} stopped after {2} instructions on {3}")
    @CsvSource({
        "dirtier, '2,3', 1000000, K4",
        "dirtier, '2,3', 2500000, K16",
        "hashtable, '20000', 7000000, K64",
        "threads, '4,5000', 200000, K4",
        "threads, '4,5000', 400001, K16",
        "hello, '', 3000, K4",
    })
    void resumedCopyPrintsTheSameAsAnUninterruptedRun(String program, String args, long stopAfter, Granule granule) {
        String[] argv = args.isEmpty() ? new String[0] : args.split(",");
        LinuxGuest reference = A64ProgramsTest.start(granule, program, argv);
        GuestOutcome expected = reference.runToEnd(Long.MAX_VALUE);

        LinuxGuest source = A64ProgramsTest.start(granule, program, argv);
        assertThat(source.run(stopAfter)).isEqualTo(stopAfter);
        assertThat(source.finished()).isFalse();
        LinuxGuest.Snapshot snapshot = source.snapshot();

        MemoryManager target = MemoryManager.create(MmConfig.arm64(granule));
        copyMemory(source.memory(), target);
        LinuxGuest resumed = LinuxGuest.resume(target, snapshot, new A64ProgramsTest.FixedClock());
        GuestOutcome outcome = resumed.runToEnd(Long.MAX_VALUE);

        assertThat(outcome).isEqualTo(expected);
        assertThat(source.stdoutText() + resumed.stdoutText()).isEqualTo(reference.stdoutText());
        assertThat(source.instructionsRetired() + resumed.instructionsRetired())
                .isEqualTo(reference.instructionsRetired());
    }

    /** What a stop-and-copy transfers: every VMA with its protection and contents, and the heap break. */
    static void copyMemory(MemoryManager from, MemoryManager to) {
        List<VmaInfo> vmas = from.vmas();
        for (VmaInfo v : vmas) {
            to.mmap(v.start(), v.length(), Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
            byte[] page = new byte[(int) from.pageSize()];
            for (long a = v.start(); a < v.end(); a += page.length) {
                from.peek(a, page, 0, page.length);
                if (!isZero(page)) {
                    to.write(a, page);
                }
            }
        }
        for (VmaInfo v : vmas) {
            to.mprotect(v.start(), v.length(), v.prot());
        }
        to.setBrk(from.brkStart(), from.brk(0));
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
