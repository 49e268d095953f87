package dev.pagehop.bench.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The CI smoke suite: bench/scenarios/smoke.json end to end, two agent JVMs on loopback, a real
 * pre-copy migration, and every output file of the report.
 */
@Tag("slow")
class SmokeSuiteTest {

    @TempDir
    Path out;

    @Test
    void smokeMatrixMigratesAndWritesTheReport() throws Exception {
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        int exit = new CommandLine(new Suite()).setOut(new PrintWriter(stdout)).setErr(new PrintWriter(stderr))
                .execute("run", "scenarios/smoke.json", "--out", out.toString());

        assertThat(exit).as("stdout:%n%s%nstderr:%n%s", stdout, stderr).isZero();
        List<String> csv = Files.readAllLines(out.resolve("runs.csv"));
        assertThat(csv).hasSize(2);
        assertThat(csv.get(1)).contains(",COMPLETED,");

        JsonNode run = new ObjectMapper().readTree(out.resolve("runs.json").toFile()).get("runs").get(0);
        assertThat(run.get("status").asText()).isEqualTo("COMPLETED");
        assertThat(run.get("digestsMatch").asBoolean()).isTrue();
        assertThat(run.get("resumedOnTarget").asBoolean()).isTrue();
        assertThat(run.get("rounds").asInt()).isGreaterThanOrEqualTo(2);
        assertThat(run.get("perRound")).hasSize(run.get("rounds").asInt());
        // At least the 16 MiB heap's pages went over the wire, as data or zero markers.
        assertThat(run.get("normalPages").asLong() + run.get("zeroPages").asLong())
                .isGreaterThanOrEqualTo(16L * 1024 * 1024 / 4096);
        assertThat(run.get("transferredBytes").asLong()).isPositive();
        assertThat(run.get("totalTimeMs").asLong()).isGreaterThanOrEqualTo(run.get("downtimeMs").asLong());
        assertThat(run.get("sourceCpuMs").asLong()).isPositive();
        assertThat(run.get("targetCpuMs").asLong()).isPositive();
        assertThat(run.get("baselineStepsPerSec").asDouble()).isPositive();
        assertThat(run.get("collects").asLong()).isPositive();

        assertThat(Files.readAllLines(out.resolve("rounds.csv"))).hasSize(1 + run.get("rounds").asInt());
        String html = Files.readString(out.resolve("report.html"));
        for (String png : List.of("downtime-vs-dirty-rate.png", "total-time-vs-dirty-rate.png", "bytes-vs-memory.png",
                "rounds.png", "tracker-cost.png")) {
            assertThat(html).contains("src=\"" + png + "\"");
            assertThat(Files.size(out.resolve(png))).isPositive();
        }
        assertThat(Files.readString(out.resolve("summary.md"))).contains("| COMPLETED |").contains("| match |");
        assertThat(out.resolve("logs")).isDirectoryContaining(p -> p.getFileName().toString().endsWith(".source.log"));
    }
}
