package dev.pagehop.proc;

import static dev.pagehop.proc.ProcessTesting.PID;
import static dev.pagehop.proc.ProcessTesting.freshMemory;
import static dev.pagehop.proc.ProcessTesting.migrate;
import static dev.pagehop.proc.ProcessTesting.runTo;
import static dev.pagehop.proc.ProcessTesting.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pagehop.mm.Granule;
import dev.pagehop.workload.KvStoreWorkload;
import dev.pagehop.workload.RateLimit;
import dev.pagehop.workload.WorkloadSpec;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Freeze and thaw, again and again, while several threads write at full speed. */
class FreezeUnderLoadTest {

    @ParameterizedTest(name = "{0} threads")
    @ValueSource(ints = {2, 4})
    void everyFreezeStopsAtStepBoundariesSoTheStoreIsConsistentEachTime(int threads) {
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, freshMemory(Granule.K4),
                WorkloadSpec.parse("kv:pagesPerThread=16@99"), threads, ProcessOptions.defaults())) {
            p.start();
            long lastPuts = 0;
            for (int round = 0; round < 40; round++) {
                long before = p.stats().steps();
                await().atMost(Duration.ofSeconds(20)).until(() -> p.stats().steps() > before + threads * 20L);
                FreezeResult f = p.freeze();
                assertThat(f.threads()).hasSize(threads).noneMatch(FreezeResult.ThreadStop::parkedInFault);
                // Stopped at a boundary means no entry is half written: the check passes every time.
                assertThat(p.verify().orThrow().itemsChecked()).isPositive();
                long puts = KvStoreWorkload.puts(p.mm());
                assertThat(puts).isEqualTo(f.totalSteps()).isGreaterThan(lastPuts);
                lastPuts = puts;
                p.thaw();
            }
        }
    }

    @ParameterizedTest(name = "{0} threads")
    @ValueSource(ints = {1, 4})
    void pacedThreadsFreezeAtOnceAndKeepTheirRateAfterThaw(int threads) {
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, freshMemory(Granule.K4),
                WorkloadSpec.parse("zipf:pagesPerThread=64,hotPages=16@3"), threads,
                ProcessOptions.defaults().withRate(RateLimit.pagesPerSecond(2000)))) {
            p.start();
            for (int round = 0; round < 10; round++) {
                long before = p.stats().steps();
                await().atMost(Duration.ofSeconds(20)).until(() -> p.stats().steps() > before + threads);
                FreezeResult f = p.freeze();
                assertThat(p.threads()).allMatch(t -> t.state() == ThreadState.FROZEN);
                assertThat(snapshot(p).steps().stream().mapToLong(Long::longValue).sum()).isEqualTo(f.totalSteps());
                p.thaw();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void determinismAndRestoreHoldOnEveryGranule(Granule g) {
        String spec = "kv:pagesPerThread=2,keys=40@5";
        ProcessTesting.Snapshot straight;
        try (EmulatedProcess p = runTo(freshMemory(g), WorkloadSpec.parse(spec), 2, 500)) {
            straight = snapshot(p);
        }
        try (EmulatedProcess p = runTo(freshMemory(g), WorkloadSpec.parse(spec), 2, 200);
                EmulatedProcess moved = migrate(p, freshMemory(g))) {
            moved.freezeAt(500);
            assertThat(snapshot(moved)).isEqualTo(straight);
            moved.verify().orThrow();
        }
    }
}
