package dev.pagehop.syscall;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.mm.Granule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LinuxGuestTest {

    @Test
    void syscallsAnswerAsLinuxDoesIncludingErrors() {
        LinuxGuest g = A64ProgramsTest.start(Granule.K4, "syscalls");
        assertThat(g.runToEnd(50_000_000)).isEqualTo(GuestOutcome.exited(3));
        assertThat(g.stdoutText()).isEqualTo("""
                unknown syscall: -1 errno=38
                write to fd 77: -1 errno=9
                uname: Linux aarch64
                realtime: 1700000000.000000000
                getrandom: 64
                mmap 1 MiB: ok, munmap: 0
                mmap unaligned fixed: failed errno=22
                brk grew by 12288
                getpid=1000 gettid=1000
                pagesize=4096
                """);
        assertThat(g.stderrText()).isEqualTo("to stderr\n");
        assertThat(g.unknownSyscalls()).containsEntry(999L, 1L).containsKey(293L);
    }

    @Test
    void pageSizeFollowsTheGranule() {
        LinuxGuest g = A64ProgramsTest.start(Granule.K64, "syscalls");
        assertThat(g.runToEnd(50_000_000)).isEqualTo(GuestOutcome.exited(3));
        assertThat(g.stdoutText()).contains("pagesize=65536\n");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "segv, 11, 'SIGSEGV (SEGV_MAPERR) at 0x0 on write'",
        "ill, 4, 'encoding 0x00001234'",
        "abort, 6, 'signal 6'",
        "mprotect, 11, 'SEGV_ACCERR'",
    })
    void fatalSignalsEndTheProgramWithTheReason(String how, int signal, String detail) {
        LinuxGuest g = A64ProgramsTest.start(Granule.K4, "syscalls", how);
        GuestOutcome outcome = g.runToEnd(50_000_000);
        assertThat(outcome.kind()).isEqualTo(GuestOutcome.Kind.KILLED);
        assertThat(outcome.status()).isEqualTo(signal);
        assertThat(outcome.detail()).contains(detail).contains("thread 1000");
        assertThat(g.finished()).isTrue();
        assertThat(g.run(1000)).as("a dead program runs no more").isZero();
    }

    @Test
    void runStopsAtTheBudgetOnAnInstructionBoundary() {
        LinuxGuest g = A64ProgramsTest.start(Granule.K4, "dirtier", "1", "1");
        assertThat(g.run(12_345)).isEqualTo(12_345);
        assertThat(g.instructionsRetired()).isEqualTo(12_345);
        assertThat(g.finished()).isFalse();
    }

    @Test
    void quantumMustBePositive() {
        LinuxGuest g = A64ProgramsTest.start(Granule.K4, "bare");
        assertThatThrownBy(() -> g.setQuantum(0)).hasMessageContaining("quantum must be positive, got 0");
    }
}
