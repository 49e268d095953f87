package dev.pagehop.syscall;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The C and assembly programs of src/test/a64, built with gcc-aarch64-linux-gnu and static
 * glibc, run on the emulated kernel of every granule to the output qemu-aarch64 7.2 printed for
 * the same binaries and arguments.
 */
class A64ProgramsTest {
    static final String DIRTIER_2_3 = """
            round 0 checksum 0e4f0c007ff38d3d
            round 1 checksum 1bc316a381909e7b
            round 2 checksum 20729fee9a0e71ef
            final 6605ae0b28035e75
            """;
    static final String HASHTABLE_20000 =
            "ops=20000 hits=1527 deletes=1596 live=5255 capacity=8192 checksum=fc5429e508eaa9c8\n";
    static final String THREADS_4_5000 =
            "workers=4 counter=790 atomic=49990000 results=124975000 check=faeee4a0b6c04550\n";

    static LinuxGuest start(Granule granule, String program, String... args) {
        MemoryManager mm = MemoryManager.create(MmConfig.arm64(granule));
        List<String> argv = new java.util.ArrayList<>();
        argv.add(program);
        argv.addAll(List.of(args));
        return LinuxGuest.start(mm, TestPrograms.load(program), argv, List.of("HOME=/", "LANG=C"),
                new FixedClock(), 42);
    }

    /** A clock that only moves when told to: runs do not depend on the host's time. */
    static final class FixedClock implements GuestClock {
        long ns = 1_700_000_000_000_000_000L;

        @Override
        public long realtimeNs() {
            return ns;
        }

        @Override
        public long monotonicNs() {
            return ns - 1_600_000_000_000_000_000L;
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void bareAssemblyProgramWithoutLibc(Granule granule) {
        LinuxGuest g = start(granule, "bare");
        assertThat(g.runToEnd(1_000_000)).isEqualTo(GuestOutcome.exited(42));
        assertThat(g.stdoutText()).isEqualTo("bare ok 00000000000013bf\n");
        assertThat(g.unknownSyscalls()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void helloWithStaticGlibc(Granule granule) {
        LinuxGuest g = start(granule, "hello");
        assertThat(g.runToEnd(10_000_000)).isEqualTo(GuestOutcome.exited(7));
        assertThat(g.stdoutText()).isEqualTo("hello from pagehop: argc=1 len=7 arg0=hello\n");
        assertThat(g.unknownSyscalls()).as("glibc probes rseq (293), which is answered ENOSYS and counted")
                .containsOnlyKeys(293L);
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void memoryDirtierPrintsTheQemuChecksums(Granule granule) {
        LinuxGuest g = start(granule, "dirtier", "2", "3");
        assertThat(g.runToEnd(100_000_000)).isEqualTo(GuestOutcome.exited(0));
        assertThat(g.stdoutText()).isEqualTo(DIRTIER_2_3);
    }

    @ParameterizedTest
    @EnumSource(value = Granule.class, names = {"K4", "K64"})
    void hashTableWorkload(Granule granule) {
        LinuxGuest g = start(granule, "hashtable", "20000");
        assertThat(g.runToEnd(200_000_000)).isEqualTo(GuestOutcome.exited(0));
        assertThat(g.stdoutText()).isEqualTo(HASHTABLE_20000);
    }

    @ParameterizedTest
    @EnumSource(value = Granule.class, names = {"K4", "K16"})
    void pthreadsThroughCloneAndFutex(Granule granule) {
        LinuxGuest g = start(granule, "threads", "4", "5000");
        assertThat(g.runToEnd(100_000_000)).isEqualTo(GuestOutcome.exited(0));
        assertThat(g.stdoutText()).isEqualTo(THREADS_4_5000);
        assertThat(g.threads()).hasSize(5);
        assertThat(g.threads()).allMatch(t -> t.state() == GuestThread.State.EXITED);
    }

    @ParameterizedTest
    @EnumSource(value = Granule.class, names = {"K4"})
    void threadsGiveTheSameOutputWithAnyQuantum(Granule granule) {
        LinuxGuest g = start(granule, "threads", "3", "3000");
        g.setQuantum(137);
        assertThat(g.runToEnd(100_000_000)).isEqualTo(GuestOutcome.exited(0));
        LinuxGuest h = start(granule, "threads", "3", "3000");
        h.setQuantum(50_000);
        assertThat(h.runToEnd(100_000_000)).isEqualTo(GuestOutcome.exited(0));
        assertThat(g.stdoutText()).isEqualTo(h.stdoutText()).startsWith("workers=3 counter=");
    }
}
