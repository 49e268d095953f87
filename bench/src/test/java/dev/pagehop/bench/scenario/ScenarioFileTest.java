package dev.pagehop.bench.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScenarioFileTest {

    @TempDir
    Path dir;

    private static final String VALID = """
            {
              "name": "t",
              "warmupMs": 100,
              "workloads": {
                "random-20": { "kind": "random", "workingSetFraction": 0.75, "rateMBps": 20 },
                "idle": { "kind": "idle" }
              },
              "matrix": {
                "memory": ["512MiB", "1GiB"], "workload": ["random-20", "idle"], "threads": [1],
                "granule": ["4K"], "tracker": ["uffd-wp-async", "soft-dirty"], "mode": ["precopy"],
                "bandwidth": ["loopback", "1gbit"], "downtimeLimitMs": [300]
              }
            }
            """;

    private ScenarioFile load(String json) throws IOException {
        Path f = dir.resolve("s.json");
        Files.writeString(f, json);
        return ScenarioFile.load(f);
    }

    @Test
    void expandsTheCartesianProductInAStableOrder() throws IOException {
        List<Scenario> runs = load(VALID).expand();
        assertThat(runs).hasSize(2 * 2 * 2 * 2);
        assertThat(runs.getFirst().id()).isEqualTo("001-512MiB-random-20-t1-4K-uffd-wp-async-precopy-loopback-300ms");
        assertThat(runs.get(1).bandwidth()).isEqualTo("1gbit");
        assertThat(runs.getLast().memoryBytes()).isEqualTo(1L << 30);
        assertThat(runs.getLast().workloadName()).isEqualTo("idle");
        assertThat(runs.stream().map(Scenario::id).distinct()).hasSize(runs.size());
    }

    @Test
    void repeatsEachCellWithItsOwnId() throws IOException {
        ScenarioFile f = load(VALID.replace("\"warmupMs\": 100,", "\"warmupMs\": 100, \"repeat\": 3,"));
        List<Scenario> runs = f.expand();
        assertThat(runs).hasSize(48);
        assertThat(runs.get(2).id()).endsWith("-r2");
        assertThat(runs.get(0).repetition()).isZero();
    }

    @Test
    void namesAnUndefinedWorkload() {
        assertThatThrownBy(() -> load(VALID.replace("\"workload\": [\"random-20\", \"idle\"]", "\"workload\": [\"hot\"]")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("matrix workload 'hot' is not defined")
                .hasMessageContaining("random-20");
    }

    @Test
    void namesAnUnknownTrackerModeOrBandwidth() {
        assertThatThrownBy(() -> load(VALID.replace("\"soft-dirty\"]", "\"mprotect\"]")))
                .hasMessageContaining("tracker 'mprotect' is not one of [uffd-wp-async, soft-dirty, uffd-wp-sync]");
        assertThatThrownBy(() -> load(VALID.replace("\"mode\": [\"precopy\"]", "\"mode\": [\"colo\"]")))
                .hasMessageContaining("mode 'colo'");
        assertThatThrownBy(() -> load(VALID.replace("\"1gbit\"]", "\"100mbit\"]")))
                .hasMessageContaining("bandwidth '100mbit' is not one of [loopback, 1gbit, 10gbit]");
    }

    @Test
    void rejectsAnEmptyAxisAndBadNumbers() {
        assertThatThrownBy(() -> load(VALID.replace("\"threads\": [1]", "\"threads\": []")))
                .hasMessageContaining("matrix axis 'threads' is missing or empty");
        assertThatThrownBy(() -> load(VALID.replace("\"threads\": [1]", "\"threads\": [0]")))
                .hasMessageContaining("threads 0 is below 1");
        assertThatThrownBy(() -> load(VALID.replace("\"downtimeLimitMs\": [300]", "\"downtimeLimitMs\": [0]")))
                .hasMessageContaining("downtimeLimitMs 0 is below 1");
        assertThatThrownBy(() -> load(VALID.replace("\"512MiB\"", "\"512MB\"")))
                .hasMessageContaining("size '512MB' is not <number>[B|KiB|MiB|GiB]");
    }

    @Test
    void rejectsUnknownKeysAndSyntaxErrors() {
        assertThatThrownBy(() -> load(VALID.replace("\"warmupMs\": 100,", "\"warmupMs\": 100,\n  \"warmup\": 5,")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Unrecognized field \"warmup\"");
        assertThatThrownBy(() -> load(VALID.replace("\"warmupMs\": 100,", "\"warmupMs\": 100")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at line 4");
    }

    @Test
    void parsesSizes() {
        assertThat(ScenarioFile.parseBytes("512MiB")).isEqualTo(512L << 20);
        assertThat(ScenarioFile.parseBytes("1GiB")).isEqualTo(1L << 30);
        assertThat(ScenarioFile.parseBytes("64KiB")).isEqualTo(65536);
        assertThat(ScenarioFile.parseBytes("4096")).isEqualTo(4096);
    }

    @Test
    void theShippedScenarioFilesAreValid() throws IOException {
        for (String name : List.of("smoke", "short", "full")) {
            ScenarioFile f = ScenarioFile.load(Path.of("scenarios", name + ".json"));
            assertThat(f.name()).isEqualTo(name);
            assertThat(f.expand()).isNotEmpty();
        }
    }

    @Test
    void theFullMatrixHasTheFieldsStandardShapes() throws IOException {
        ScenarioFile f = ScenarioFile.load(Path.of("scenarios", "full.json"));
        assertThat(f.matrix().memory()).contains("512MiB", "1GiB");
        assertThat(f.matrix().mode()).containsExactlyInAnyOrder("precopy", "postcopy", "hybrid");
        assertThat(f.matrix().bandwidth()).contains("loopback", "1gbit");
        assertThat(f.matrix().downtimeLimitMs()).containsExactly(300L);
        assertThat(f.workloads().values()).anySatisfy(w -> assertThat(w.kind()).isEqualTo("idle"));
        assertThat(f.workloads().values()).anySatisfy(w -> {
            assertThat(w.kind()).isEqualTo("hotset");
            assertThat(w.hotSetMiB()).isEqualTo(32.0);
            assertThat(w.hotFraction()).isEqualTo(0.9);
            assertThat(w.rateMBps()).isEqualTo(200.0);
        });
        assertThat(f.workloads().values()).anySatisfy(w -> assertThat(w.rate()).isZero());
        assertThat(f.workloads().values()).anySatisfy(w -> assertThat(w.rate()).isEqualTo(20.0));
    }
}
