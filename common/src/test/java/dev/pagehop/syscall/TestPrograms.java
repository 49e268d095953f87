package dev.pagehop.syscall;

import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;

/**
 * The AArch64 test programs of src/test/a64, built once per test JVM by its build.sh into
 * target/a64-programs. If the cross compiler is not installed (./dev test installs it through
 * .ci/setup-test-host) the tests that need a program are aborted with a message saying so.
 */
public final class TestPrograms {
    private static Path dir;
    private static String failure;

    private TestPrograms() {
    }

    public static synchronized byte[] load(String name) {
        if (dir == null && failure == null) {
            build();
        }
        if (failure != null) {
            abort(failure);
        }
        try {
            return Files.readAllBytes(dir.resolve(name));
        } catch (IOException e) {
            throw new IllegalStateException("test program " + name + " missing in " + dir, e);
        }
    }

    private static void build() {
        Path script = Paths.get("src/test/a64/build.sh").toAbsolutePath();
        Path out = Paths.get("target/a64-programs").toAbsolutePath();
        try {
            Process p = new ProcessBuilder(script.toString(), out.toString()).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("building the AArch64 test programs took over 5 minutes: " + text);
            }
            if (p.exitValue() == 3) {
                failure = "*** AArch64 test programs NOT RUN: " + text.trim()
                        + " — run .ci/setup-test-host (./dev test does) to install it ***";
                System.err.println(failure);
                return;
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("building the AArch64 test programs failed (exit " + p.exitValue()
                        + "):\n" + text);
            }
            dir = out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + script, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted building test programs", e);
        }
    }
}
