package dev.pagehop.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class EntrypointTest {

    @ParameterizedTest
    @EnumSource(Entrypoint.Program.class)
    void everyProgramOfTheImageHasAPublicStaticMain(Entrypoint.Program program) throws ReflectiveOperationException {
        assertThat(program.main()).as(program.mainClass()).isNotNull();
        assertThat(Entrypoint.usage(new String[] {program.command(), "--help"}, new PrintStream(new ByteArrayOutputStream())))
                .isZero();
    }

    @Test
    void anUnknownProgramIsAUsageErrorListingTheKnownOnes() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Entrypoint.usage(new String[] {"sourceagent", "--port=7070"}, new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .isEqualTo("unknown program 'sourceagent'; this image runs one of: source-agent, target-agent, pagehop\n");
    }

    @Test
    void noArgumentsPrintsWhatTheImageRuns() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertThat(Entrypoint.usage(new String[0], new PrintStream(err, true, StandardCharsets.UTF_8))).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("source-agent, target-agent, pagehop");
    }
}
