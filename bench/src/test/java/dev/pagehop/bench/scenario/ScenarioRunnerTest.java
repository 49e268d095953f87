package dev.pagehop.bench.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner against stand-in agent processes: agents are reused across runs, and a run that
 * hangs (no progress, or a call that never returns) has both agents killed, is recorded as
 * FAILED with the reason, and the next run goes on with a fresh pair.
 */
class ScenarioRunnerTest {

    @TempDir
    Path dir;

    private List<Scenario> twoRuns(String limits) throws IOException {
        Path f = dir.resolve("s.json");
        Files.writeString(f, """
                {"name": "t", "warmupMs": 200, %s "agentHeap": "128m",
                 "workloads": {"idle": {"kind": "idle"}},
                 "matrix": {"memory": ["16MiB"], "workload": ["idle"], "threads": [1], "granule": ["4K"],
                   "tracker": ["uffd-wp-async", "soft-dirty"], "mode": ["postcopy"], "bandwidth": ["loopback"],
                   "downtimeLimitMs": [300]}}
                """.formatted(limits));
        file = ScenarioFile.load(f);
        return file.expand();
    }

    private ScenarioFile file;

    private List<RunResult> runAll(List<Scenario> runs, Class<?> agent) {
        List<RunResult> out = new ArrayList<>();
        List<String> log = new ArrayList<>();
        try (ScenarioRunner r = new ScenarioRunner(file, "s.json", System.getProperty("java.class.path"),
                dir, log::add, true, agent.getName(), agent.getName())) {
            for (Scenario s : runs) {
                out.add(r.run(s));
            }
        }
        return out;
    }

    private long agentLogs() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".source.log")).count();
        }
    }

    @Test
    void consecutiveRunsOnOneLinkShareTheAgentPair() throws IOException {
        List<RunResult> r = runAll(twoRuns(""), FakeAgent.Completing.class);

        assertThat(r).extracting(RunResult::status).containsExactly("COMPLETED", "COMPLETED");
        assertThat(r).extracting(RunResult::agentRun).containsExactly(1, 2);
        assertThat(agentLogs()).as("one pair started").isEqualTo(1);
        assertThat(r).allSatisfy(x -> assertThat(x.loadAvgStart()).isNotNaN());
        assertThat(r).allSatisfy(x -> assertThat(x.linkBytes()).as("loopback has no link of its own").isEqualTo(-1));
    }

    @Test
    void aRunWithoutProgressIsKilledRecordedAsFailedAndTheNextGetsFreshAgents() throws IOException {
        List<RunResult> r = runAll(twoRuns("\"stallMs\": 1500,"), FakeAgent.Stalling.class);

        assertThat(r).extracting(RunResult::status).containsExactly("FAILED", "FAILED");
        assertThat(r.getFirst().reason()).contains("hung: no progress for 1500 ms in source phase SOURCE_PHASE_POSTCOPY")
                .contains("m-").contains("both agents killed");
        assertThat(r).extracting(RunResult::agentRun).containsExactly(1, 1);
        assertThat(agentLogs()).as("a fresh pair after the hung run").isEqualTo(2);
    }

    @Test
    void aCallThatNeverReturnsEndsAtTheRunLimit() throws IOException {
        List<RunResult> r = runAll(twoRuns("\"runTimeoutMs\": 3000,"), FakeAgent.Silent.class);

        assertThat(r).extracting(RunResult::status).containsExactly("FAILED", "FAILED");
        assertThat(r.getFirst().reason()).contains("run exceeded its limit of 3000 ms (")
                .contains("migration not started").contains("both agents killed");
        assertThat(agentLogs()).isEqualTo(2);
    }

    @Test
    void stoppingTheRunnerMidRunKillsItsAgents() throws Exception {
        List<Scenario> runs = twoRuns("\"runTimeoutMs\": 120000,");
        try (ScenarioRunner r = new ScenarioRunner(file, "s.json", System.getProperty("java.class.path"), dir,
                m -> { }, true, FakeAgent.Silent.class.getName(), FakeAgent.Silent.class.getName())) {
            java.util.concurrent.CompletableFuture<RunResult> run = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> r.run(runs.getFirst()));
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
                    .until(() -> r.openResources() == 3 && agentLogs() == 1);
            List<ProcessHandle> agents = ProcessHandle.current().children().toList();
            assertThat(agents).hasSizeGreaterThanOrEqualTo(2);

            r.close();

            assertThat(r.openResources()).isZero();
            assertThat(agents).allSatisfy(p -> assertThat(p.isAlive()).isFalse());
            RunResult result = run.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(result.status()).isEqualTo("FAILED");
        }
    }
}
