package dev.pagehop.proc;

import static dev.pagehop.proc.ProcessTesting.PID;
import static dev.pagehop.proc.ProcessTesting.freshMemory;
import static dev.pagehop.proc.ProcessTesting.runTo;
import static dev.pagehop.proc.ProcessTesting.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pagehop.mm.Granule;
import dev.pagehop.workload.ManualTicker;
import dev.pagehop.workload.Ticker;
import dev.pagehop.workload.WorkloadSpec;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A freeze claims a thread that sits yielded at a step boundary without waiting for it to run
 * again, as the cgroup freezer does for a task that is not on a CPU. The test holds the thread
 * inside its yield, which on a real machine is the time it waits for a core.
 */
class YieldPointClaimTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    /** A manual clock whose next yield blocks until released. */
    static final class HoldingTicker implements Ticker {
        final ManualTicker clock = new ManualTicker(0);
        final AtomicBoolean armed = new AtomicBoolean();
        final CountDownLatch held = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch returned = new CountDownLatch(1);

        @Override
        public long nanoTime() {
            return clock.nanoTime();
        }

        @Override
        public void parkUntil(long deadlineNanos) {
            clock.parkUntil(deadlineNanos);
        }

        @Override
        public void yieldCpu() {
            if (armed.compareAndSet(true, false)) {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                returned.countDown();
            }
        }
    }

    @Test
    void aThreadHeldInItsYieldIsFrozenAtOnceAndDoesNotStepUntilThaw() throws Exception {
        String spec = "uniform:pagesPerThread=16@3";
        ProcessTesting.Snapshot straight;
        try (EmulatedProcess p = runTo(freshMemory(Granule.K4), WorkloadSpec.parse(spec), 1, 300)) {
            straight = snapshot(p);
        }
        HoldingTicker ticker = new HoldingTicker();
        ProcessOptions opts = ProcessOptions.defaults().withTicker(ticker).withYieldPoints(ProcessOptions.YieldPoints.ON);
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, freshMemory(Granule.K4), WorkloadSpec.parse(spec), 1, opts)) {
            p.freezeAt(100);
            ticker.armed.set(true);
            p.thaw();
            ticker.held.await(); // at step 128, the next yield point
            FreezeResult f = p.freeze();
            assertThat(f.threads().getFirst().steps()).isEqualTo(128);
            assertThat(p.thread(0).state()).isEqualTo(ThreadState.FROZEN);
            ProcessTesting.Snapshot frozen = snapshot(p);

            ticker.release.countDown();
            ticker.returned.await();
            await().during(Duration.ofMillis(50)).atMost(WAIT).until(() -> p.thread(0).steps() == 128);
            assertThat(snapshot(p)).isEqualTo(frozen);

            p.freezeAt(300);
            assertThat(snapshot(p)).isEqualTo(straight);
        }
    }

    @Test
    void aClaimReleasedByThawBeforeTheThreadComesBackLetsItRunOn() throws Exception {
        HoldingTicker ticker = new HoldingTicker();
        ProcessOptions opts = ProcessOptions.defaults().withTicker(ticker).withYieldPoints(ProcessOptions.YieldPoints.ON);
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, freshMemory(Granule.K4),
                WorkloadSpec.parse("uniform:pagesPerThread=16@3"), 1, opts)) {
            p.freezeAt(10);
            ticker.armed.set(true);
            p.thaw();
            ticker.held.await();
            p.freeze();
            p.thaw();
            ticker.release.countDown();
            await().atMost(WAIT).until(() -> p.thread(0).steps() > 200);
            assertThat(p.freeze().threads().getFirst().steps()).isGreaterThan(200);
        }
    }

    @Test
    void withoutYieldPointsTheThreadNeverCallsTheYield() {
        HoldingTicker ticker = new HoldingTicker();
        ticker.armed.set(true);
        ProcessOptions opts = ProcessOptions.defaults().withTicker(ticker).withYieldPoints(ProcessOptions.YieldPoints.OFF);
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, freshMemory(Granule.K4),
                WorkloadSpec.parse("uniform:pagesPerThread=16@3"), 2, opts)) {
            p.freezeAt(500);
            assertThat(ticker.held.getCount()).isEqualTo(1);
        }
    }
}
