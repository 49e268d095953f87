package dev.pagehop.bench.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.bench.report.SuiteReport;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code suite report DIR}: the tables and report.html rebuilt from runs.json alone. */
class ReportCommandTest {

    @TempDir
    Path dir;

    private int report(Path d, StringWriter out, StringWriter err) {
        return new CommandLine(new Suite()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute("report", d.toString());
    }

    @Test
    void rebuildsTheReportOfAStoppedRunFromRunsJson() throws Exception {
        ScenarioFile f = ScenarioFile.load(Path.of("scenarios", "smoke.json"));
        Scenario s = f.expand().getFirst();
        RunResult notRun = RunResult.skipped("smoke.json", s, "NOT_RUN", "not started: the suite's deadline had passed")
                .withHost(3.5, 4.5, -1, 0);
        new SuiteReport(List.of(notRun), "test machine", "./dev suite run x").write(dir, false);
        assertThat(dir.resolve("report.html")).doesNotExist();

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(report(dir, out, err)).as(err.toString()).isZero();

        assertThat(out.toString()).contains("1 runs");
        assertThat(Files.readString(dir.resolve("report.html"))).contains(s.id()).contains("NOT_RUN")
                .contains("1-minute load average 3.5 to 4.5");
        assertThat(Files.readString(dir.resolve("summary.md"))).contains("{NOT_RUN=1}").contains("./dev suite run x");
    }

    @Test
    void aDirectoryWithoutRunsJsonIsNamed() {
        StringWriter err = new StringWriter();
        assertThat(report(dir.resolve("nothing"), new StringWriter(), err)).isEqualTo(2);
        assertThat(err.toString()).contains("nothing").contains("runs.json does not exist");
    }
}
