package dev.pagehop.syscall;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.abort;

import dev.pagehop.mm.Granule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Differential test against QEMU's user-mode emulator: each program's output and exit status
 * under the interpreter equal qemu-aarch64's for the same binary and arguments. The {@code isa}
 * program hashes integer, floating-point, string and library results over edge values, so one
 * differing instruction anywhere in those paths changes its output.
 */
class QemuCrossCheckTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"isa, ''", "isa-o3, ''", "hashtable, 3000", "dirtier, 1+2", "bare, ''", "threads, 3+1000"})
    void sameOutputAsQemu(String program, String args) throws Exception {
        List<String> argv = new ArrayList<>(List.of(program));
        if (!args.isEmpty()) {
            argv.addAll(List.of(args.split("\\+")));
        }
        LinuxGuest g = A64ProgramsTest.start(Granule.K4, program, argv.subList(1, argv.size()).toArray(String[]::new));
        GuestOutcome ours = g.runToEnd(2_000_000_000L);

        List<String> cmd = new ArrayList<>(List.of("qemu-aarch64",
                Paths.get("target/a64-programs", program).toAbsolutePath().toString()));
        cmd.addAll(argv.subList(1, argv.size()));
        Process q;
        try {
            q = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            String why = "*** qemu-aarch64 not installed (apt-get install qemu-user): cross-check NOT RUN ***";
            System.err.println(why);
            abort(why);
            return;
        }
        String qemuOut = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(q.waitFor(2, TimeUnit.MINUTES)).as("qemu finished").isTrue();

        assertThat(g.stdoutText()).isEqualTo(qemuOut);
        assertThat(ours).isEqualTo(GuestOutcome.exited(q.exitValue()));
    }
}
