package dev.pagehop.proc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.provider.Arguments;

/**
 * "Across runs" taken literally: every workload run in another JVM ends with the same memory
 * digest, registers and step counts as in this one. The other JVM is made to differ where a
 * hidden dependence would show: every identity hash code is the same constant there (so
 * anything ordered by identity hashes orders differently) and it sees one CPU (so threads yield
 * at step boundaries there, see {@code EmulatedThread}, which they may not do here).
 */
class CrossRunDeterminismTest {
    private static final long STEPS = 600;

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void everyWorkloadEndsTheSameInAnotherJvm(@TempDir Path dir) throws Exception {
        List<String> args = new ArrayList<>();
        List<String> here = new ArrayList<>();
        for (Arguments a : EmulatedProcessTest.workloads().toList()) {
            String spec = (String) a.get()[0];
            int threads = (Integer) a.get()[1];
            args.addAll(List.of(spec, String.valueOf(threads), String.valueOf(STEPS)));
            here.add(DeterminismProbe.line(spec, threads, STEPS));
        }
        assertThat(otherJvm(dir, args)).containsExactlyElementsOf(here);
    }

    private static List<String> otherJvm(Path dir, List<String> probeArgs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-XX:+UnlockExperimentalVMOptions", "-XX:hashCode=2", "-XX:ActiveProcessorCount=1",
                "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                DeterminismProbe.class.getName()));
        cmd.addAll(probeArgs);
        Path out = dir.resolve("probe.out");
        Path err = dir.resolve("probe.err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(150, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the probe JVM did not finish in 150 s; stderr: " + Files.readString(err));
        }
        assertThat(p.exitValue()).as("probe JVM exit status; stderr: %s", Files.readString(err)).isZero();
        return Files.readAllLines(out, StandardCharsets.UTF_8).stream().filter(l -> l.contains(" memory ")).toList();
    }
}
