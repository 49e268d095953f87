package dev.pagehop.proc;

import static dev.pagehop.proc.ProcessTesting.PID;
import static dev.pagehop.proc.ProcessTesting.freshMemory;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.workload.HeapWorkload;
import dev.pagehop.workload.ManualTicker;
import dev.pagehop.workload.WorkloadSpec;
import dev.pagehop.workload.WorkloadStats;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every built-in workload reports what it wrote (bytes and pages, so bytes/s and pages/s) and a
 * progress counter, and after a migration the counter goes on from where the source left it
 * while the written figures count only what ran on the target. The written figures are checked
 * against what each workload's steps store, not just for being positive.
 */
class WorkloadRatesTest {
    private static final long STEP_NANOS = 2_000; // a clock read moves 1 µs; a step reads it twice

    private static ProcessOptions clock() {
        return ProcessOptions.defaults().withTicker(new ManualTicker(0).advancingOnRead(STEP_NANOS / 2));
    }

    private static EmulatedProcess runTo(MemoryManager mm, String spec, int threads, long steps) {
        EmulatedProcess p = EmulatedProcess.spawn(PID, mm, WorkloadSpec.parse(spec), threads, clock());
        p.freezeAt(steps);
        return p;
    }

    /** {@link ProcessTesting#migrate}, with a target clock that moves as its steps run. */
    private static EmulatedProcess migrate(EmulatedProcess source, MemoryManager target) {
        ProcessImage image = ProcessImage.decode(source.saveImage().encode());
        AddressSpaceLayout.rebuild(image, target);
        ProcessTesting.copyMemory(source.mm(), target);
        return EmulatedProcess.restore(image, target, clock());
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("dev.pagehop.proc.EmulatedProcessTest#workloads")
    void everyWorkloadReportsWhatItsStepsWroteAndItsProgress(String spec, int threads) {
        long steps = 600;
        MemoryManager mm = freshMemory(Granule.K4);
        try (EmulatedProcess p = runTo(mm, spec, threads, steps)) {
            WorkloadStats s = p.stats();
            long total = steps * threads;
            assertThat(s.steps()).isEqualTo(total);
            assertThat(s.stepsBefore()).isZero();
            assertThat(s.nanos()).isPositive();
            assertThat(s.bytesPerSecond()).isEqualTo(s.bytesWritten() * 1e9 / s.nanos());
            assertThat(s.pagesPerSecond()).isEqualTo(s.pagesWritten() * 1e9 / s.nanos());
            String kind = WorkloadSpec.parse(spec).kind();
            switch (kind) {
                case "uniform", "zipf", "phase", "sequential" -> {
                    long writeBytes = WorkloadSpec.parse(spec).longParam("writeBytes", 64, 8, 65536);
                    // One writeBytes slot of one page per step.
                    assertThat(s.bytesWritten()).isEqualTo(total * writeBytes);
                    assertThat(s.pagesWritten()).isEqualTo(total);
                }
                case "idle" -> {
                    assertThat(s.bytesWritten()).isZero();
                    assertThat(s.pagesWritten()).isZero();
                }
                case "kv" -> {
                    // A put stores version, five values, checksum (56 bytes) and the table header's
                    // count, puts and checksum (24); an insert also the key: 80 per put, 8 per entry.
                    long entries = 0;
                    for (int t = 0; t < threads; t++) {
                        entries += mm.load64(p.thread(t).cpu().x(HeapWorkload.X_BASE) + 16);
                    }
                    assertThat(entries).isPositive();
                    assertThat(s.bytesWritten()).isEqualTo(80 * total + 8 * entries);
                    assertThat(s.pagesWritten()).isBetween(total, 2 * total);
                }
                case "churn" -> {
                    // Each step stores into exactly one page: a 16-byte pair into a slot, or its
                    // control word(s) after a system call (two for mremap, in the same page).
                    assertThat(s.pagesWritten()).isEqualTo(total);
                    assertThat(s.bytesWritten()).isBetween(8 * total + 1, 16 * total - 1);
                }
                default -> throw new AssertionError("no expectation for workload kind " + kind);
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("dev.pagehop.proc.EmulatedProcessTest#workloads")
    void afterAMigrationProgressGoesOnAndTheRatesCountOnlyTheTargetsSteps(String spec, int threads) {
        WorkloadStats straight;
        try (EmulatedProcess p = runTo(freshMemory(Granule.K4), spec, threads, 800)) {
            straight = p.stats();
        }
        try (EmulatedProcess source = runTo(freshMemory(Granule.K4), spec, threads, 300)) {
            WorkloadStats before = source.stats();
            try (EmulatedProcess moved = migrate(source, freshMemory(Granule.K4))) {
                assertThat(moved.stats().steps()).as("progress right after restore").isEqualTo(300L * threads);
                assertThat(moved.stats().bytesWritten()).isZero();
                moved.freezeAt(800);
                WorkloadStats after = moved.stats();
                assertThat(after.steps()).isEqualTo(800L * threads);
                assertThat(after.stepsBefore()).isEqualTo(300L * threads);
                assertThat(before.bytesWritten() + after.bytesWritten()).isEqualTo(straight.bytesWritten());
                assertThat(before.pagesWritten() + after.pagesWritten()).isEqualTo(straight.pagesWritten());
                assertThat(after.stepsPerSecond()).isEqualTo(500.0 * threads * 1e9 / after.nanos());
            }
        }
    }
}
