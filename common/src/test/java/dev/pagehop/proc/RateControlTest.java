package dev.pagehop.proc;

import static dev.pagehop.proc.ProcessTesting.PID;
import static dev.pagehop.proc.ProcessTesting.freshMemory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pagehop.mm.Granule;
import dev.pagehop.workload.ManualTicker;
import dev.pagehop.workload.RateLimit;
import dev.pagehop.workload.WorkloadSpec;
import dev.pagehop.workload.WorkloadStats;
import org.junit.jupiter.api.Test;

/** Pacing through a whole process, on a clock the test owns: no sleeps, exact numbers. */
class RateControlTest {

    @Test
    void aPageRateTargetIsAchieved() {
        ManualTicker clock = new ManualTicker(0);
        ProcessOptions opts = ProcessOptions.defaults().withTicker(clock).withRate(RateLimit.pagesPerSecond(2000));
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, freshMemory(Granule.K4),
                WorkloadSpec.parse("uniform:pagesPerThread=16@1"), 1, opts)) {
            p.freezeAt(10_000);
            WorkloadStats s = p.stats();
            assertThat(s.pagesWritten()).isEqualTo(10_000);
            assertThat(s.bytesWritten()).isEqualTo(10_000 * 64);
            // 10 000 pages at 2000/s is 5 s, less the initial 10 ms burst of 20 pages.
            assertThat(s.pagesPerSecond()).isCloseTo(2000, within(20.0));
        }
    }

    @Test
    void aByteRateTargetAndALaterChangeAreBothFollowed() {
        ManualTicker clock = new ManualTicker(0);
        ProcessOptions opts = ProcessOptions.defaults().withTicker(clock).withRate(RateLimit.mebibytesPerSecond(1));
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, freshMemory(Granule.K4),
                WorkloadSpec.parse("sequential:pagesPerThread=16,writeBytes=256@1"), 1, opts)) {
            p.freezeAt(4096);
            WorkloadStats first = p.stats();
            assertThat(first.mebibytesPerSecond()).isCloseTo(1.0, within(0.02));

            p.setRateLimit(RateLimit.bytesPerSecond(4 * 1024 * 1024));
            p.freezeAt(4096 * 5);
            WorkloadStats second = p.stats().since(first);
            assertThat(second.mebibytesPerSecond()).isCloseTo(4.0, within(0.08));
        }
    }

    @Test
    void theThrottleCutsTheAchievedRateToItsDutyCycle() {
        // Every clock read moves time 1 µs: a step (two reads) takes 1 µs of "CPU".
        ManualTicker clock = new ManualTicker(0).advancingOnRead(1_000);
        ProcessOptions opts = ProcessOptions.defaults().withTicker(clock);
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, freshMemory(Granule.K4),
                WorkloadSpec.parse("uniform:pagesPerThread=16@1"), 1, opts)) {
            p.freezeAt(2000);
            WorkloadStats free = p.stats();

            p.setThrottlePercent(75);
            p.freezeAt(4000);
            WorkloadStats throttled = p.stats().since(free);
            // 75 % throttle: the thread runs a quarter of the time, so a quarter of the rate.
            assertThat(throttled.stepsPerSecond() / free.stepsPerSecond()).isCloseTo(0.25, within(0.03));
        }
    }

    @Test
    void theThrottleAlsoCutsAPacedThreadWhichIsNotCpuBound() {
        ManualTicker clock = new ManualTicker(0);
        ProcessOptions opts = ProcessOptions.defaults().withTicker(clock).withRate(RateLimit.pagesPerSecond(2000));
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, freshMemory(Granule.K4),
                WorkloadSpec.parse("zipf:pagesPerThread=16@1"), 1, opts)) {
            p.freezeAt(4000);
            WorkloadStats free = p.stats();
            p.setThrottlePercent(60);
            p.freezeAt(8000);
            WorkloadStats throttled = p.stats().since(free);
            assertThat(free.pagesPerSecond()).isCloseTo(2000, within(20.0));
            assertThat(throttled.pagesPerSecond()).isCloseTo(800, within(10.0));
        }
    }

    @Test
    void idleRunsAtItsDefaultStepRate() {
        ManualTicker clock = new ManualTicker(0);
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, freshMemory(Granule.K4), WorkloadSpec.parse("idle@1"), 1,
                ProcessOptions.defaults().withTicker(clock))) {
            assertThat(p.rateLimit()).isEqualTo(RateLimit.stepsPerSecond(1000));
            p.freezeAt(3000);
            assertThat(p.stats().stepsPerSecond()).isCloseTo(1000, within(10.0));
            assertThat(p.stats().bytesWritten()).isZero();
        }
    }
}
