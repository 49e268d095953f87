package dev.pagehop.proc;

import static dev.pagehop.proc.ProcessTesting.freshMemory;
import static dev.pagehop.proc.ProcessTesting.runTo;
import static dev.pagehop.proc.ProcessTesting.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.UffdMsg;
import dev.pagehop.uffd.Userfaultfd;
import dev.pagehop.workload.HeapWorkload;
import dev.pagehop.workload.WorkloadSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Freeze and thaw with threads asleep in real (emulated-kernel) userfaults, as in post-copy: a
 * MISSING-registered range, a thread that faults on it, a handler that resolves the fault with
 * UFFDIO_COPY before or during the freeze.
 */
class UserfaultFreezeTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void aThreadAsleepInAMissingFaultIsFrozenThereAndCompletesItsStepOnlyAfterThaw() throws Exception {
        MemoryManager mm = freshMemory(Granule.K4);
        long ps = mm.pageSize();
        try (EmulatedProcess p = runTo(mm, WorkloadSpec.parse("sequential:pagesPerThread=8@2"), 3, 3);
                Userfaultfd uffd = mm.userfaultfd(0)) {
            uffd.api(0);
            long base = p.thread(1).cpu().x(HeapWorkload.X_BASE);
            long page3 = base + 3 * ps;
            uffd.register(page3, ps, Uffd.REGISTER_MODE_MISSING);

            p.thaw();
            UffdMsg msg = uffd.poll(WAIT.toMillis());
            assertThat(msg).isNotNull();
            assertThat(msg.event()).isEqualTo(Uffd.EVENT_PAGEFAULT);
            assertThat(msg.address()).isEqualTo(page3);
            assertThat(msg.flags() & Uffd.PAGEFAULT_FLAG_WRITE).isNotZero();
            await().atMost(WAIT).until(() -> p.thread(1).state() == ThreadState.PARKED_IN_FAULT);

            FreezeResult f = p.freeze();
            assertThat(f.parkedInFaultCount()).isEqualTo(1);
            assertThat(f.threads().get(1).faultAddress()).isEqualTo(page3);
            assertThat(f.threads().get(0).parkedInFault()).isFalse();
            ProcessImage parked = p.saveImage();
            assertThat(parked.threads().get(1).pending()).hasSize(8);
            assertThat(parked.threads().get(1).steps()).isEqualTo(4);

            // The pager resolves the fault while the process is frozen.
            byte[] fill = new byte[(int) ps];
            Arrays.fill(fill, (byte) 0xab);
            assertThat(uffd.copy(page3, fill, 0)).isEqualTo(ps);
            await().atMost(WAIT).until(() -> word(mm, page3, 0) == (4 ^ (1L << 48)));
            assertThat(p.thread(1).state()).isEqualTo(ThreadState.PARKED_IN_FAULT);
            assertThat(p.saveImage().threads().get(1).pending()).hasSize(8);
            assertThat(word(mm, page3, 1)).as("the rest of the step waits for thaw").isEqualTo(0xababababababababL);

            p.thaw();
            await().atMost(WAIT).until(() -> p.thread(1).steps() > 4);
            p.freeze();
            assertThat(word(mm, page3, 1)).isNotEqualTo(0xababababababababL);
            assertThat(p.thread(1).state()).isEqualTo(ThreadState.FROZEN);
        }
    }

    @Test
    void aFaultResolvedAfterThawJustContinues() throws Exception {
        MemoryManager mm = freshMemory(Granule.K4);
        long ps = mm.pageSize();
        try (EmulatedProcess p = runTo(mm, WorkloadSpec.parse("sequential:pagesPerThread=4@2"), 2, 2);
                Userfaultfd uffd = mm.userfaultfd(0)) {
            uffd.api(0);
            long page2 = p.thread(0).cpu().x(HeapWorkload.X_BASE) + 2 * ps;
            uffd.register(page2, ps, Uffd.REGISTER_MODE_MISSING);
            p.thaw();
            assertThat(uffd.poll(WAIT.toMillis()).address()).isEqualTo(page2);
            await().atMost(WAIT).until(() -> p.thread(0).state() == ThreadState.PARKED_IN_FAULT);
            FreezeResult f = p.freeze();
            assertThat(f.parkedInFaultCount()).isEqualTo(1);
            p.thaw();
            FaultStats during = p.faultStats();
            assertThat(during.faults()).isEqualTo(1);
            assertThat(during.blockedNanos()).isPositive();
            assertThat(during.allBlockedNanos()).as("the other thread kept running").isZero();
            assertThat(uffd.zeropage(page2, ps, 0)).isEqualTo(ps);
            await().atMost(WAIT).until(() -> p.thread(0).steps() > 10);
            FreezeResult again = p.freeze();
            assertThat(again.parkedInFaultCount()).isZero();
            FaultStats after = p.faultStats();
            assertThat(after.faults()).isEqualTo(1);
            assertThat(after.blockedNanos()).isGreaterThanOrEqualTo(during.blockedNanos());
            assertThat(p.thread(0).state()).isEqualTo(ThreadState.FROZEN);
        }
    }

    @Test
    void killEndsAThreadAsleepInAFaultNobodyResolves() throws Exception {
        MemoryManager mm = freshMemory(Granule.K4);
        long ps = mm.pageSize();
        EmulatedProcess p = runTo(mm, WorkloadSpec.parse("sequential:pagesPerThread=4@2"), 2, 2);
        try (Userfaultfd uffd = mm.userfaultfd(0)) {
            uffd.api(0);
            long page2 = p.thread(1).cpu().x(HeapWorkload.X_BASE) + 2 * ps;
            uffd.register(page2, ps, Uffd.REGISTER_MODE_MISSING);
            p.thaw();
            await().atMost(WAIT).until(() -> p.thread(1).state() == ThreadState.PARKED_IN_FAULT);
            p.freeze();
            p.kill();
            StopReason r = p.awaitExit(WAIT);
            assertThat(r.kind()).isEqualTo(StopReason.Kind.KILLED);
            assertThat(p.threads()).allMatch(t -> t.state() == ThreadState.EXITED);
            assertThat(p.state()).isEqualTo(ProcessState.EXITED);
        }
    }

    /**
     * Freeze and thaw round after round while threads write flat out, with some of them asleep in
     * write-protect faults (a sync uffd-wp tracker's) each time: the faults are resolved while
     * frozen in even rounds and after thaw in odd ones; one round's image, taken with threads
     * parked mid-step, is restored into a fresh process. Both that process and the source end
     * exactly where a run without faults or freezes ends.
     */
    @Test
    void roundAfterRoundOfFreezeAndThawWithThreadsAsleepInWriteProtectFaultsEndsWhereAStraightRunEnds() throws Exception {
        String spec = "kv:pagesPerThread=4,keys=100@41";
        int threads = 4;
        MemoryManager mm = freshMemory(Granule.K4);
        long ps = mm.pageSize();
        ProcessTesting.Snapshot fromImage = null;
        long target = 0;
        try (EmulatedProcess p = runTo(mm, WorkloadSpec.parse(spec), threads, 50);
                Userfaultfd uffd = mm.userfaultfd(0)) {
            uffd.api(Uffd.FEATURE_WP_UNPOPULATED);
            long[] partition = new long[threads];
            for (int i = 0; i < threads; i++) {
                partition[i] = p.thread(i).cpu().x(HeapWorkload.X_BASE);
            }
            uffd.register(mm.brkStart(), mm.brk(0) - mm.brkStart(), Uffd.REGISTER_MODE_WP);
            for (int round = 0; round < 12; round++) {
                java.util.Set<Integer> victims = new java.util.TreeSet<>(java.util.List.of(round % threads));
                if (round % 2 == 1) {
                    victims.add((round + 2) % threads);
                }
                for (int v : victims) {
                    uffd.writeprotect(partition[v], 4 * ps, Uffd.WRITEPROTECT_MODE_WP);
                }
                long[] before = stepsOf(p);
                p.thaw();
                quickly().until(() -> victims.stream().allMatch(v -> p.thread(v).state() == ThreadState.PARKED_IN_FAULT));
                quickly().until(() -> java.util.stream.IntStream.range(0, threads)
                        .filter(i -> !victims.contains(i)).allMatch(i -> p.thread(i).steps() > before[i] + 20));

                FreezeResult f = p.freeze();
                assertThat(f.parkedInFaultCount()).as("round %d", round).isEqualTo(victims.size());
                ProcessImage image = p.saveImage();
                for (int i = 0; i < threads; i++) {
                    FreezeResult.ThreadStop stop = f.threads().get(i);
                    ProcessImage.ThreadImage saved = image.threads().get(i);
                    assertThat(stop.parkedInFault()).as("round %d thread %d", round, i).isEqualTo(victims.contains(i));
                    assertThat(saved.parkedInFault()).isEqualTo(victims.contains(i));
                    assertThat(saved.steps()).isEqualTo(stop.steps());
                    if (victims.contains(i)) {
                        assertThat(stop.faultAddress()).isBetween(partition[i], partition[i] + 4 * ps - 1);
                        assertThat(saved.pending()).as("a kv put parks on its first store").isNotEmpty();
                    } else {
                        assertThat(p.thread(i).state()).isEqualTo(ThreadState.FROZEN);
                        assertThat(saved.pending()).isEmpty();
                    }
                }
                if (round == 5) {
                    target = java.util.Arrays.stream(stepsOf(p)).max().orElseThrow() + 500;
                    try (EmulatedProcess moved = ProcessTesting.migrate(p, freshMemory(Granule.K4))) {
                        moved.freezeAt(target);
                        fromImage = snapshot(moved);
                        moved.verify().orThrow();
                    }
                }
                boolean whileFrozen = round % 2 == 0;
                if (whileFrozen) {
                    for (int v : victims) {
                        uffd.writeprotect(partition[v], 4 * ps, 0);
                    }
                    assertThat(p.awaitParkedFaultsLanded(WAIT.toNanos())).isZero();
                    // The faulting store landed; the rest of the step waits for thaw.
                    assertThat(victims).allMatch(v -> p.thread(v).state() == ThreadState.PARKED_IN_FAULT);
                    assertThat(p.saveImage().threads()).isEqualTo(image.threads());
                }
                long[] frozenAt = stepsOf(p);
                p.thaw();
                if (!whileFrozen) {
                    for (int v : victims) {
                        uffd.writeprotect(partition[v], 4 * ps, 0);
                    }
                }
                quickly().until(() -> java.util.stream.IntStream.range(0, threads)
                        .allMatch(i -> p.thread(i).steps() > frozenAt[i] + 5));
                p.freeze();
                while (uffd.poll(0) != null) {
                    // drain the fault messages; the test resolves by range, not by message
                }
            }
            long end = Math.max(target, java.util.Arrays.stream(stepsOf(p)).max().orElseThrow() + 100);
            p.freezeAt(end);
            ProcessTesting.Snapshot source = snapshot(p);
            p.verify().orThrow();
            ProcessTesting.Snapshot straight;
            try (EmulatedProcess s = runTo(freshMemory(Granule.K4), WorkloadSpec.parse(spec), threads, end)) {
                straight = snapshot(s);
            }
            assertThat(source).isEqualTo(straight);
            try (EmulatedProcess s = runTo(freshMemory(Granule.K4), WorkloadSpec.parse(spec), threads, target)) {
                assertThat(fromImage).isEqualTo(snapshot(s));
            }
        }
    }

    /** Polls every millisecond: the threads run flat out, and every wait adds steps to replay. */
    private static org.awaitility.core.ConditionFactory quickly() {
        return await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(WAIT);
    }

    private static long[] stepsOf(EmulatedProcess p) {
        return p.threads().stream().mapToLong(EmulatedThread::steps).toArray();
    }

    private static long word(MemoryManager mm, long addr, int index) {
        byte[] b = new byte[8];
        mm.peek(addr + 8L * index, b, 0, 8);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }
}
