package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.cli.output.Json;
import dev.pagehop.proto.control.v1.AgentInfo;
import dev.pagehop.proto.control.v1.ListProcessesResponse;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.ProcessInspection;
import dev.pagehop.proto.control.v1.ProcessState;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.types.v1.Granule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** info, spawn, ps, inspect and kill against an in-process agent: requests sent, output, exit codes. */
class ProcessCommandsTest {
    CliHarness cli;

    @BeforeEach
    void start() throws Exception {
        cli = new CliHarness();
    }

    @AfterEach
    void stop() throws Exception {
        cli.close();
    }

    @Test
    void infoShowsRoleTrackersAndGranules() {
        CliHarness.Result r = cli.onSource("info");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("source agent src, version 0.1.0, protocol 1")
                .contains("workloads: kv, zipf").contains("trackers:  uffd-wp-async, soft-dirty")
                .contains("granules:  4k, 16k");

        CliHarness.Result j = cli.onSource("info", "-o", "json");
        assertThat(Json.parse(j.out(), AgentInfo.newBuilder()).getName()).isEqualTo("src");
    }

    @Test
    void spawnSendsEveryFlagAndPrintsThePid() {
        CliHarness.Result r = cli.onSource("spawn", "-w", "zipf", "-m", "32MiB", "-g", "16k", "--seed", "9", "-T", "2",
                "--write-rate", "8MiB/s", "--soft-dirty", "-p", "hot_fraction=0.1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("spawned pid 1 on " + cli.sourceAddress + ": zipf, 32.0 MiB, 16k pages, 2 threads, running");
        SpawnRequest sent = (SpawnRequest) cli.source.requests.getFirst();
        assertThat(sent.getMemoryBytes()).isEqualTo(32L << 20);
        assertThat(sent.getGranule()).isEqualTo(Granule.GRANULE_16K);
        assertThat(sent.getSeed()).isEqualTo(9);
        assertThat(sent.getThreads()).isEqualTo(2);
        assertThat(sent.getWriteRateBytesPerSec()).isEqualTo(8L << 20);
        assertThat(sent.getSoftDirty()).isTrue();
        assertThat(sent.getParametersMap()).containsEntry("hot_fraction", "0.1");
    }

    @Test
    void spawnJsonIsTheProcessRecord() {
        CliHarness.Result r = cli.onSource("spawn", "-o", "json");
        assertThat(r.exitCode()).isZero();
        ProcessInfo p = Json.parse(r.out(), ProcessInfo.newBuilder()).build();
        assertThat(p.getPid()).isEqualTo(1);
        assertThat(p.getWorkload()).isEqualTo("kv");
        assertThat(p.getMemoryBytes()).isEqualTo(64L << 20);
    }

    @Test
    void spawnOfAnUnknownWorkloadIsAUsageErrorWithTheAgentsReason() {
        CliHarness.Result r = cli.onSource("spawn", "-w", "nope");
        assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
        assertThat(r.err().strip()).isEqualTo("pagehop: source agent at " + cli.sourceAddress
                + " rejected Spawn: workload 'nope' is unknown (known: kv, zipf)");
    }

    @Test
    void spawnWithABadSizeNamesTheText() {
        CliHarness.Result r = cli.onSource("spawn", "-m", "12 parsecs");
        assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
        assertThat(r.err()).contains("'12 parsecs'").contains("pagehop spawn --help");
        assertThat(cli.source.requests).isEmpty();
    }

    @Test
    void spawnOnATargetIsRefused() {
        CliHarness.Result r = cli.run("spawn", "--agent", cli.targetAddress.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCode.REFUSED.code());
        assertThat(r.err()).contains("refused Spawn: a target agent only receives processes");
    }

    @Test
    void psListsProcessesAsATableAndAsJson() {
        cli.source.addProcess("kv", 64L << 20, ProcessState.PROCESS_STATE_RUNNING);
        cli.source.addProcess("zipf", 1L << 30, ProcessState.PROCESS_STATE_FROZEN);
        CliHarness.Result r = cli.onSource("ps");
        assertThat(r.exitCode()).isZero();
        String[] lines = r.out().split("\n");
        assertThat(lines[0]).startsWith("PID  WORKLOAD  STATE").contains("MEMORY").contains("MIGRATION");
        assertThat(lines).hasSize(3);
        assertThat(r.out()).contains("kv").contains("running").contains("64.0 MiB").contains("zipf").contains("frozen")
                .contains("1.0 GiB");

        CliHarness.Result alias = cli.onSource("list", "-o", "json");
        assertThat(Json.parse(alias.out(), ListProcessesResponse.newBuilder()).getProcessesCount()).isEqualTo(2);
    }

    @Test
    void psOnAnEmptyAgentSaysSo() {
        assertThat(cli.onSource("ps").out()).isEqualTo("no processes on " + cli.sourceAddress + "\n");
    }

    @Test
    void inspectShowsDigestLayoutAndIntegrity() {
        cli.source.addProcess("kv", 1 << 20, ProcessState.PROCESS_STATE_RUNNING);
        CliHarness.Result r = cli.onSource("inspect", "1", "--check");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("memory digest: 3f2a117e55010203")
                .contains("integrity: ok (4096 keys, checksums ok)")
                .contains("000000400000  000000500000").contains("rw-");

        ProcessInspection j = Json.parse(cli.onSource("inspect", "1", "-o", "json").out(), ProcessInspection.newBuilder()).build();
        assertThat(j.getProcess().getPid()).isEqualTo(1);
    }

    @Test
    void inspectWithAFailedSelfCheckExitsVerifyFailed() {
        cli.source.addProcess("kv", 1 << 20, ProcessState.PROCESS_STATE_RUNNING);
        cli.source.integrityFailure = "key 17 checksum 0x1234 != 0x9999";
        CliHarness.Result r = cli.onSource("inspect", "1", "--check");
        assertThat(r.exitCode()).isEqualTo(ExitCode.VERIFY_FAILED.code());
        assertThat(r.err()).contains("pid 1").contains("key 17 checksum 0x1234 != 0x9999");
    }

    @Test
    void unknownProcessExitsNotFoundNamingThePid() {
        for (String cmd : new String[] {"inspect", "kill"}) {
            CliHarness.Result r = cli.onSource(cmd, "42");
            assertThat(r.exitCode()).as(cmd).isEqualTo(ExitCode.NOT_FOUND.code());
            assertThat(r.err().strip()).as(cmd).isEqualTo("pagehop: agent at " + cli.sourceAddress + ": no process with pid 42");
        }
    }

    @Test
    void killStopsTheProcess() {
        cli.source.addProcess("kv", 1 << 20, ProcessState.PROCESS_STATE_RUNNING);
        CliHarness.Result r = cli.onSource("kill", "1");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("killed pid 1 on " + cli.sourceAddress + " (stopped)\n");
        assertThat(cli.source.processes).isEmpty();
    }
}
