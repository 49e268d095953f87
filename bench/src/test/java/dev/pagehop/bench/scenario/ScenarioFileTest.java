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
        for (String name : List.of("smoke", "short", "full", "hybrid-vs-precopy")) {
            ScenarioFile f = ScenarioFile.load(Path.of("scenarios", name + ".json"));
            assertThat(f.name()).isEqualTo(name);
            assertThat(f.expand()).isNotEmpty();
        }
    }

    @Test
    void matricesAreAUnionInOrderAndACellListedTwiceRunsOnce() throws IOException {
        String m = """
                {"name": "u", "workloads": {"idle": {"kind": "idle"}}, "matrices": [
                  {"memory": ["16MiB"], "workload": ["idle"], "threads": [1], "granule": ["4K"],
                   "tracker": ["uffd-wp-async", "soft-dirty"], "mode": ["precopy"], "bandwidth": ["loopback"],
                   "downtimeLimitMs": [300]},
                  {"memory": ["16MiB"], "workload": ["idle"], "threads": [1], "granule": ["4K"],
                   "tracker": ["uffd-wp-async"], "mode": ["precopy", "postcopy"], "bandwidth": ["loopback"],
                   "downtimeLimitMs": [300]}]}
                """;
        List<Scenario> runs = load(m).expand();
        assertThat(runs).extracting(Scenario::id).containsExactly(
                "001-16MiB-idle-t1-4K-uffd-wp-async-precopy-loopback-300ms",
                "002-16MiB-idle-t1-4K-soft-dirty-precopy-loopback-300ms",
                "003-16MiB-idle-t1-4K-uffd-wp-async-postcopy-loopback-300ms");
    }

    @Test
    void rejectsBothMatrixFormsAndABadMatrixNamesWhichOne() {
        assertThatThrownBy(() -> load(VALID.replace("\"matrix\": {", "\"matrices\": [], \"matrix\": {")))
                .hasMessageContaining("give 'matrix' or 'matrices', not both");
        String two = VALID.replace("\"matrix\": {", "\"matrices\": [{").replace("\"downtimeLimitMs\": [300]\n  }",
                "\"downtimeLimitMs\": [300]}, {\"memory\": [\"1GiB\"]}]");
        assertThatThrownBy(() -> load(two)).hasMessageContaining("matrices[1]")
                .hasMessageContaining("matrix axis 'workload' is missing or empty");
    }

    @Test
    void runLimitsDefaultFromTheTimeoutsAndAreChecked() throws IOException {
        ScenarioFile f = load(VALID);
        assertThat(f.runTimeout()).isEqualTo(100 + 300_000 + 90_000);
        assertThat(f.stall()).isEqualTo(60_000);
        assertThat(f.warmUp()).isFalse();
        assertThat(ScenarioFile.load(Path.of("scenarios", "full.json")).warmUp()).isTrue();
        assertThatThrownBy(() -> load(VALID.replace("\"warmupMs\": 100,", "\"warmupMs\": 100, \"runTimeoutMs\": 50,")))
                .hasMessageContaining("runTimeoutMs 50 leaves no time after the warm-up of 100 ms");
        assertThatThrownBy(() -> load(VALID.replace("\"warmupMs\": 100,", "\"warmupMs\": 100, \"stallMs\": 10,")))
                .hasMessageContaining("stallMs 10 is below 1000");
    }

    @Test
    void executionGroupsRunsByMemoryAndLinkSoAgentsCanBeReused() throws IOException {
        List<Scenario> runs = load(VALID).expand();
        List<Scenario> order = ScenarioRunner.executionOrder(runs);
        assertThat(order).hasSameElementsAs(runs);
        // 512MiB loopback, 512MiB 1gbit, 1GiB loopback, 1GiB 1gbit: the link changes three times.
        int changes = 0;
        for (int i = 1; i < order.size(); i++) {
            if (!order.get(i).bandwidth().equals(order.get(i - 1).bandwidth())) {
                changes++;
            }
        }
        assertThat(changes).isEqualTo(3);
        assertThat(order.getFirst()).isEqualTo(runs.getFirst());
    }

    /**
     * The standard shapes, exactly: 512 MiB and 1 GiB; idle; random writes over 75 % at
     * 20 and 200 MB/s; 200 MB/s with 90 % in 32 MiB; unpaced; 300 ms; loopback and 1 Gbit/s;
     * pre-copy with every tracker, post-copy and hybrid with the default one. Nothing else, and
     * no cell twice.
     */
    @Test
    void theFullMatrixHasExactlyTheFieldsStandardShapes() throws IOException {
        ScenarioFile f = ScenarioFile.load(Path.of("scenarios", "full.json"));
        List<Scenario> runs = f.expand();
        assertThat(runs).extracting(Scenario::memoryBytes).containsOnly(512L << 20, 1L << 30);
        assertThat(runs).extracting(Scenario::bandwidth).containsOnly("loopback", "1gbit");
        assertThat(runs).extracting(Scenario::downtimeLimitMs).containsOnly(300L);
        assertThat(runs).extracting(Scenario::threads).containsOnly(1);
        assertThat(runs).extracting(Scenario::granule).containsOnly("4K");
        assertThat(runs).extracting(Scenario::workloadName)
                .containsOnly("idle", "random-20", "random-200", "hotset-200", "unpaced");
        var w = f.workloads();
        assertThat(w.get("idle").kind()).isEqualTo("idle");
        for (String name : List.of("random-20", "random-200", "unpaced")) {
            assertThat(w.get(name).kind()).isEqualTo("random");
            assertThat(w.get(name).workingSet()).isEqualTo(0.75);
        }
        assertThat(w.get("random-20").rate()).isEqualTo(20.0);
        assertThat(w.get("random-200").rate()).isEqualTo(200.0);
        assertThat(w.get("unpaced").rate()).isZero();
        assertThat(w.get("hotset-200").kind()).isEqualTo("hotset");
        assertThat(w.get("hotset-200").rate()).isEqualTo(200.0);
        assertThat(w.get("hotset-200").hotSetMiB()).isEqualTo(32.0);
        assertThat(w.get("hotset-200").hotFraction()).isEqualTo(0.9);
        // guestperf's stress fills its memory before it starts writing at the rate; so do ours.
        for (String name : List.of("random-20", "random-200", "hotset-200", "unpaced")) {
            assertThat(w.get(name).prefill()).as(name).isTrue();
        }
        // 2 sizes x 5 workloads x 2 links = 20 shapes; each: pre-copy x 3 trackers, post-copy, hybrid.
        assertThat(runs).hasSize(20 * 5);
        assertThat(runs.stream().map(Scenario::cell).distinct()).hasSize(runs.size());
        assertThat(runs.stream().filter(s -> s.mode().equals("precopy")).map(Scenario::tracker).distinct())
                .containsExactlyInAnyOrder("uffd-wp-async", "soft-dirty", "uffd-wp-sync");
        assertThat(runs.stream().filter(s -> !s.mode().equals("precopy")).map(Scenario::tracker).distinct())
                .containsExactly("uffd-wp-async");
        assertThat(runs.stream().filter(s -> s.mode().equals("precopy"))).hasSize(60);
        assertThat(runs.stream().filter(s -> s.mode().equals("postcopy"))).hasSize(20);
        assertThat(runs.stream().filter(s -> s.mode().equals("hybrid"))).hasSize(20);
    }
}
