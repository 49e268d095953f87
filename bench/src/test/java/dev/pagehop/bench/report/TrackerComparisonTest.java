package dev.pagehop.bench.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.ThpMode;
import dev.pagehop.workload.WorkloadSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrackerComparisonTest {
    private static final long MIB = 1 << 20;

    private static TrackerCase uniform(ThpMode thp, long steps) {
        return new TrackerCase("t", WorkloadSpec.of("uniform", 7), 8 * MIB, 2, 3, steps, thp, "test");
    }

    @Test
    void everyTrackerReportsExactlyTheWrittenPagesOfPlainRandomWrites() {
        for (String t : List.of("uffd-wp-async", "soft-dirty", "uffd-wp-sync")) {
            TrackerRun r = TrackerComparison.run(uniform(ThpMode.NEVER, 200), Granule.K4, t);
            assertThat(r.pagesWritten()).as(t).isPositive();
            assertThat(r.pagesReported()).as(t).isEqualTo(r.pagesWritten());
            assertThat(r.falsePositives()).as(t).isZero();
            assertThat(r.falseNegatives()).as(t).isZero();
            assertThat(r.traps()).as(t).isPositive();
            assertThat(r.rounds()).isEqualTo(3);
            assertThat(r.steps()).isEqualTo(3 * 200 * 2);
        }
    }

    @Test
    void identicalSeedsGiveIdenticalGroundTruthAcrossTrackers() {
        long none = TrackerComparison.run(uniform(ThpMode.NEVER, 300), Granule.K16, TrackerComparison.NONE).pagesWritten();
        long async = TrackerComparison.run(uniform(ThpMode.NEVER, 300), Granule.K16, "uffd-wp-async").pagesWritten();
        long sd = TrackerComparison.run(uniform(ThpMode.NEVER, 300), Granule.K16, "soft-dirty").pagesWritten();
        assertThat(async).isEqualTo(none);
        assertThat(sd).isEqualTo(none);
    }

    @Test
    void softDirtyOverReportsWholeHugePagesWhereUffdWpIsExact() {
        TrackerRun sd = TrackerComparison.run(uniform(ThpMode.ALWAYS, 20), Granule.K4, "soft-dirty");
        TrackerRun async = TrackerComparison.run(uniform(ThpMode.ALWAYS, 20), Granule.K4, "uffd-wp-async");
        assertThat(sd.thpAllocated()).isPositive();
        assertThat(sd.falsePositives()).isPositive();
        // A 2 MiB block is 512 base pages: each sparse write costs up to 511 extra pages.
        assertThat(sd.pagesReported()).isGreaterThan(10 * sd.pagesWritten());
        assertThat(async.falsePositives()).isZero();
        assertThat(async.pagesReported()).isEqualTo(async.pagesWritten());
    }

    @Test
    void uffdWpPopulatesPageTablesToArmASparseMappingAndSoftDirtyDoesNot() {
        TrackerCase sparse = new TrackerCase("s", WorkloadSpec.of("uniform", 7), 64 * MIB, 1, 1, 10, ThpMode.NEVER, "test");
        TrackerRun async = TrackerComparison.run(sparse, Granule.K4, "uffd-wp-async");
        TrackerRun sd = TrackerComparison.run(sparse, Granule.K4, "soft-dirty");
        // 64 MiB of 4K pages spans 32 PTE tables.
        assertThat(async.pageTablesAfterArm() - async.pageTablesBaseline()).isGreaterThanOrEqualTo(32);
        assertThat(sd.pageTablesAfterArm()).isEqualTo(sd.pageTablesBaseline());
    }

    @Test
    void reportWritesTablesAndOneChartPerQuestion(@TempDir Path dir) throws Exception {
        TrackerCase c = uniform(ThpMode.NEVER, 50);
        var results = TrackerComparison.runAll(List.of(c), List.of(Granule.K4),
                List.of(TrackerComparison.NONE, "uffd-wp-async"), r -> { }, s -> { });
        assertThat(results.skips()).isEmpty();
        List<Path> files = new TrackerReport(results.runs(), results.skips()).write(dir, "m", "cmd");
        assertThat(files).extracting(p -> p.getFileName().toString()).contains("trackers.csv", "trackers.json",
                "trackers.md", "tracker-trap-ns.png", "tracker-collect-ms.png", "tracker-false-positives.png");
        assertThat(Files.readAllLines(dir.resolve("trackers.csv"))).hasSize(3);
        assertThat(Files.readString(dir.resolve("trackers.md"))).contains("| t | 4K | uffd-wp-async |");
    }

    @Test
    void badCasesFailWithTheNumbers() {
        // One page per thread cannot hold the churn workload's 4096-slot control table.
        TrackerCase broken = new TrackerCase("broken", WorkloadSpec.of("churn", 1).with("slots", 4096), 8192, 2, 1, 10,
                ThpMode.NEVER, "test");
        assertThatThrownBy(() -> TrackerComparison.run(broken, Granule.K4, "uffd-wp-async"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4096 slots");
        assertThatThrownBy(() -> new TrackerCase("x", WorkloadSpec.of("uniform", 1), 0, 1, 1, 1, ThpMode.NEVER, "q"))
                .hasMessageContaining("working set 0 bytes");
        assertThatThrownBy(() -> TrackerCase.standard(0)).hasMessageContaining("scale must be in (0, 1], got 0.0");
    }
}
