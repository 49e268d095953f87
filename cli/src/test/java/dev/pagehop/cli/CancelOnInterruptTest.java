package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.proto.types.v1.SourcePhase;
import org.junit.jupiter.api.Test;

class CancelOnInterruptTest {

    @Test
    void theHookCancelsTheMigrationItGuards() throws Exception {
        try (CliHarness cli = new CliHarness()) {
            cli.source.migrations.put("m-1", Migrations.running(Migrations.completed("m-1", 1, "t:1")).toBuilder()
                    .setMigrationId("m-1").build());
            CancelOnInterrupt guard = CancelOnInterrupt.install(cli.context().channels(), cli.sourceAddress, 5_000, "m-1");
            try {
                guard.hook().run();
            } finally {
                guard.remove();
            }
            assertThat(cli.source.migrations.get("m-1").getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_CANCELLED);
        }
    }

    @Test
    void aMigrationPastSwitchoverIsLeftAlone() throws Exception {
        try (CliHarness cli = new CliHarness()) {
            cli.source.migrations.put("m-2", Migrations.completed("m-2", 1, "t:1"));
            CancelOnInterrupt guard = CancelOnInterrupt.install(cli.context().channels(), cli.sourceAddress, 5_000, "m-2");
            guard.hook().run();
            guard.remove();
            assertThat(cli.source.migrations.get("m-2").getSourcePhase()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);
        }
    }
}
