package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The failure lines the source agent writes (SourceMigration, Convergence) and the exit code each maps to. */
class MigrationOutcomeTest {

    @Test
    void agentFailureLinesMapToTheirExitCodes() {
        assertThat(MigrationOutcome.ofFailure("migration m: target 127.0.0.1:1 refused Prepare: UNAVAILABLE: io exception"))
                .isEqualTo(ExitCode.UNREACHABLE);
        assertThat(MigrationOutcome.ofFailure("migration m: target t:1 refused Prepare: RESOURCE_EXHAUSTED: mapped_bytes "
                + "9663676416 over this agent's limit of 8589934592")).isEqualTo(ExitCode.REFUSED);
        assertThat(MigrationOutcome.ofFailure("migration m: policy aborted after round 29: OVERALL_TIMEOUT: migration ran "
                + "300012 ms, over the overall timeout of 300000 ms")).isEqualTo(ExitCode.TIMED_OUT);
        assertThat(MigrationOutcome.ofFailure("migration m: target t:1 refused Switchover: DEADLINE_EXCEEDED: deadline "
                + "exceeded after 59.9s")).isEqualTo(ExitCode.TIMED_OUT);
        assertThat(MigrationOutcome.ofFailure("migration m cancelled by the user in round 2")).isEqualTo(ExitCode.CANCELLED);
        assertThat(MigrationOutcome.ofFailure("migration m: policy aborted after round 8: MAX_ROUNDS: 8 rounds"))
                .isEqualTo(ExitCode.FAILED);
    }
}
