package dev.pagehop.proc;

import static dev.pagehop.proc.ProcessTesting.PID;
import static dev.pagehop.proc.ProcessTesting.freshMemory;
import static dev.pagehop.proc.ProcessTesting.manualClock;
import static dev.pagehop.proc.ProcessTesting.migrate;
import static dev.pagehop.proc.ProcessTesting.runTo;
import static dev.pagehop.proc.ProcessTesting.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.SegmentationFault;
import dev.pagehop.workload.HeapWorkload;
import dev.pagehop.workload.IntegrityReport;
import dev.pagehop.workload.KvStoreWorkload;
import dev.pagehop.workload.WorkloadSpec;
import dev.pagehop.workload.Workloads;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EmulatedProcessTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    static Stream<Arguments> workloads() {
        return Stream.of(
                Arguments.of("uniform:pagesPerThread=32@11", 1),
                Arguments.of("uniform:pagesPerThread=32@11", 3),
                Arguments.of("zipf:pagesPerThread=64,hotPages=8,skew=1.2@5", 2),
                Arguments.of("sequential:pagesPerThread=16,writeBytes=128@3", 2),
                Arguments.of("phase:pagesPerThread=32,hotPages=4,phaseSteps=100@9", 2),
                Arguments.of("idle@4", 2),
                Arguments.of("churn:slots=8,slotPages=2@21", 2),
                Arguments.of("churn:slots=8,slotPages=2,remap=0@22", 3),
                Arguments.of("kv:pagesPerThread=4,keys=60@77", 3));
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("workloads")
    void sameSeedAndStepsGiveSameMemoryAndRegisters(String spec, int threads) {
        Snapshot a = runAndSnapshot(spec, threads, 600);
        Snapshot b = runAndSnapshot(spec, threads, 600);
        assertThat(b).isEqualTo(a);
        assertThat(a.steps()).containsOnly(600L);
        Snapshot other = runAndSnapshot(WorkloadSpec.parse(spec).withSeed(12345).toString(), threads, 600);
        if (!spec.startsWith("idle")) {
            assertThat(other.digest()).isNotEqualTo(a.digest());
        }
        assertThat(other.registers()).isNotEqualTo(a.registers());
    }

    private static ProcessTesting.Snapshot runAndSnapshotRaw(String spec, int threads, long steps) {
        return runAndSnapshotOn(ProcessTesting.memoryFor(spec, Granule.K4), spec, threads, steps);
    }

    private static ProcessTesting.Snapshot runAndSnapshotOn(MemoryManager mm, String spec, int threads, long steps) {
        try (EmulatedProcess p = runTo(mm, WorkloadSpec.parse(spec), threads, steps)) {
            return snapshot(p);
        }
    }

    private record Snapshot(String digest, List<dev.pagehop.cpu.CpuState> registers, List<Long> steps) {
    }

    private static Snapshot runAndSnapshot(String spec, int threads, long steps) {
        ProcessTesting.Snapshot s = runAndSnapshotRaw(spec, threads, steps);
        return new Snapshot(s.digest(), s.registers(), s.steps());
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("workloads")
    void saveAndRestoreIntoAFreshProcessContinuesTheSameComputation(String spec, int threads) throws Exception {
        ProcessTesting.Snapshot straight = runAndSnapshotRaw(spec, threads, 800);

        try (EmulatedProcess source = runTo(ProcessTesting.memoryFor(spec, Granule.K4), WorkloadSpec.parse(spec), threads, 300)) {
            MemoryManager target = ProcessTesting.memoryFor(spec, Granule.K4);
            try (EmulatedProcess moved = migrate(source, target)) {
                assertThat(moved.state()).isEqualTo(ProcessState.FROZEN);
                assertThat(snapshot(moved)).isEqualTo(snapshot(source));
                moved.freezeAt(800);
                assertThat(snapshot(moved)).isEqualTo(straight);
                assertThat(moved.stats().steps()).isEqualTo(800L * threads);
                assertThat(moved.stats().stepsBefore()).isEqualTo(300L * threads);
                assertThat(moved.verify().ok()).isTrue();
            }
        }
    }

    @Test
    void freezeStopsEveryThreadAndThawResumesThem() {
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, freshMemory(Granule.K4),
                WorkloadSpec.parse("uniform:pagesPerThread=64@1"), 4, ProcessOptions.defaults())) {
            p.start();
            await().atMost(WAIT).until(() -> p.threads().stream().allMatch(t -> t.steps() > 10));

            FreezeResult f = p.freeze();
            assertThat(p.state()).isEqualTo(ProcessState.FROZEN);
            assertThat(f.threads()).hasSize(4).allMatch(s -> !s.parkedInFault());
            assertThat(f.freezeNanos()).isPositive();
            assertThat(p.threads()).allMatch(t -> t.state() == ThreadState.FROZEN);
            ProcessTesting.Snapshot frozen = snapshot(p);
            assertThat(frozen.steps()).isEqualTo(f.threads().stream().map(FreezeResult.ThreadStop::steps).toList());
            // Nothing moves while frozen: a second look (taken after the digest's own work) agrees.
            assertThat(snapshot(p)).isEqualTo(frozen);

            p.thaw();
            await().atMost(WAIT).until(() -> p.stats().steps() > f.totalSteps() + 40);
            assertThat(p.state()).isEqualTo(ProcessState.RUNNING);
            p.freeze();
            assertThat(p.verify().checked()).isFalse();
        }
    }

    /** Records, per thread index, the host threads its steps ran on. */
    static final class WhereItRuns implements dev.pagehop.workload.Workload {
        static final java.util.Map<Integer, java.util.Set<Long>> HOSTS = new java.util.concurrent.ConcurrentHashMap<>();
        private final WorkloadSpec spec;

        WhereItRuns(WorkloadSpec spec) {
            this.spec = spec;
        }

        @Override
        public WorkloadSpec spec() {
            return spec;
        }

        @Override
        public void setUp(MemoryManager mm, List<dev.pagehop.cpu.CpuState> threads) {
        }

        @Override
        public void step(dev.pagehop.workload.StepContext ctx) {
            HOSTS.computeIfAbsent(ctx.threadIndex(), i -> java.util.concurrent.ConcurrentHashMap.newKeySet())
                    .add(Thread.currentThread().threadId());
            ctx.cpu().setX(0, ctx.cpu().x(0) + 1);
        }
    }

    @Test
    void everyThreadStepsOnItsOwnJavaThreadWithItsOwnRegisters() {
        if (!Workloads.kinds().contains("test-where")) {
            Workloads.register("test-where", WhereItRuns::new);
        }
        WhereItRuns.HOSTS.clear();
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, freshMemory(Granule.K4), WorkloadSpec.of("test-where", 1), 4,
                manualClock())) {
            p.freezeAt(100);
            p.freezeAt(200);
            assertThat(WhereItRuns.HOSTS).hasSize(4);
            for (int i = 0; i < 4; i++) {
                assertThat(WhereItRuns.HOSTS.get(i)).as("thread %d", i).containsExactly(p.thread(i).hostThreadId());
                assertThat(p.thread(i).cpu().x(0)).as("thread %d counts its own steps in X0", i).isEqualTo(200);
                assertThat(p.thread(i).tid()).isEqualTo(PID + i);
            }
            assertThat(p.threads().stream().map(EmulatedThread::hostThreadId).distinct().count()).isEqualTo(4);
            assertThat(WhereItRuns.HOSTS.values()).noneMatch(ids -> ids.contains(Thread.currentThread().threadId()));
        }
    }

    @Test
    void aThreadParkedInAUserfaultCountsAsFrozenAndTheRestOfItsStepWaitsForThaw() throws Exception {
        FakeMemory fake = new FakeMemory(Granule.K4);
        MemoryManager mm = fake.mm();
        try (EmulatedProcess p = runTo(mm, WorkloadSpec.parse("sequential:pagesPerThread=8@2"), 3, 5)) {
            long base = p.thread(1).cpu().x(HeapWorkload.X_BASE);
            long page5 = base + 5 * mm.pageSize();
            FakeMemory.Park park = fake.parkOn(page5, FakeMemory.Touch.STORE);
            p.thaw();
            park.awaitParked();
            assertThat(p.thread(1).state()).isEqualTo(ThreadState.PARKED_IN_FAULT);

            FreezeResult f = p.freeze();
            assertThat(f.parkedInFaultCount()).isEqualTo(1);
            FreezeResult.ThreadStop stop = f.threads().get(1);
            assertThat(stop.parkedInFault()).isTrue();
            assertThat(stop.faultAddress()).isEqualTo(page5);
            assertThat(p.thread(1).pendingOps()).hasSize(8);

            // The handler resolves the fault while the process is frozen: the faulting store completes
            // (the kernel retries it), the other seven of the step wait for thaw.
            park.release();
            byte[] words = new byte[16];
            await().atMost(WAIT).until(() -> {
                mm.peek(page5, words, 0, 16);
                return words[0] == 6;
            });
            assertThat(p.thread(1).state()).isEqualTo(ThreadState.PARKED_IN_FAULT);
            assertThat(p.thread(1).steps()).isEqualTo(6);
            await().during(Duration.ofMillis(50)).atMost(WAIT).until(() -> {
                mm.peek(page5, words, 0, 16);
                return word(words, 1) == 0 && p.thread(1).state() == ThreadState.PARKED_IN_FAULT;
            });
            ProcessImage image = p.saveImage();
            assertThat(image.threads().get(1).parkedInFault()).isTrue();
            assertThat(image.threads().get(1).pending()).hasSize(8);

            p.thaw();
            await().atMost(WAIT).until(() -> p.thread(1).steps() > 10);
            p.freeze();
            mm.peek(page5, words, 0, 16);
            assertThat(words[0]).isEqualTo((byte) 6);  // step 6 wrote its own number at the page's first slot
            assertThat(word(words, 1)).isNotZero();
        }
    }

    private static long word(byte[] b, int i) {
        return java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(8 * i);
    }

    @Test
    void aThreadFrozenWhileApplyingAStepFinishesThatStepOnTheTarget() throws Exception {
        String spec = "kv:pagesPerThread=4,keys=40@31";
        ProcessTesting.Snapshot straight = runAndSnapshotOn(new FakeMemory(Granule.K4).mm(), spec, 1, 400);

        FakeMemory fake = new FakeMemory(Granule.K4);
        MemoryManager mm = fake.mm();
        try (EmulatedProcess source = runTo(mm, WorkloadSpec.parse(spec), 1, 200)) {
            long tableHeader = source.thread(0).cpu().x(HeapWorkload.X_BASE);
            FakeMemory.Park park = fake.parkOn(tableHeader, FakeMemory.Touch.STORE);
            source.thaw();
            park.awaitParked();
            FreezeResult f = source.freeze();
            assertThat(f.parkedInFaultCount()).isEqualTo(1);
            ProcessImage image = source.saveImage();
            ProcessImage.ThreadImage t = image.threads().getFirst();
            assertThat(t.steps()).isEqualTo(201);
            assertThat(t.pending()).isNotEmpty();
            assertThat(t.pending().getLast().address()).isEqualTo(tableHeader + 32);

            try (EmulatedProcess moved = migrate(source, new FakeMemory(Granule.K4).mm())) {
                moved.freezeAt(400);
                assertThat(snapshot(moved)).isEqualTo(straight);
                assertThat(moved.verify().orThrow().itemsChecked()).isEqualTo(40);
            }
            // The source, had the migration been cancelled, completes the same step after thaw.
            park.release();
            source.freezeAt(400);
            assertThat(snapshot(source)).isEqualTo(straight);
        }
    }

    @Test
    void aThreadFrozenInALoadFaultRedoesTheWholeStepOnTheTarget() throws Exception {
        String spec = "kv:pagesPerThread=4,keys=40@32";
        ProcessTesting.Snapshot straight = runAndSnapshotOn(new FakeMemory(Granule.K4).mm(), spec, 1, 300);

        FakeMemory fake = new FakeMemory(Granule.K4);
        MemoryManager mm = fake.mm();
        try (EmulatedProcess source = runTo(mm, WorkloadSpec.parse(spec), 1, 100)) {
            long tableHeader = source.thread(0).cpu().x(HeapWorkload.X_BASE);
            FakeMemory.Park park = fake.parkOn(tableHeader, FakeMemory.Touch.LOAD);
            source.thaw();
            park.awaitParked();
            source.freeze();
            ProcessImage.ThreadImage t = source.saveImage().threads().getFirst();
            assertThat(t.steps()).isEqualTo(100);
            assertThat(t.pending()).isEmpty();
            assertThat(t.parkedInFault()).isTrue();
            try (EmulatedProcess moved = migrate(source, new FakeMemory(Granule.K4).mm())) {
                moved.freezeAt(300);
                assertThat(snapshot(moved)).isEqualTo(straight);
            }
            FaultStats blocked = source.faultStats();
            assertThat(blocked.faults()).isEqualTo(1);
            assertThat(blocked.allBlockedNanos()).as("its only thread is asleep in the fault").isPositive();
            park.release();
        }
    }

    @Test
    void aSegmentationFaultStopsTheWholeProcessWithItsReason() throws Exception {
        Workloads.register("test-segv", s -> new SegvAfter(s, 50));
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, freshMemory(Granule.K4), WorkloadSpec.of("test-segv", 1), 3,
                manualClock())) {
            p.start();
            StopReason r = p.awaitExit(WAIT);
            assertThat(p.state()).isEqualTo(ProcessState.STOPPED);
            assertThat(r.kind()).isEqualTo(StopReason.Kind.SIGNAL);
            assertThat(r.signal()).isEqualTo(SegmentationFault.SIGSEGV);
            assertThat(r.code()).isEqualTo(SegmentationFault.SEGV_MAPERR);
            assertThat(r.address()).isEqualTo(SegvAfter.BAD_ADDRESS);
            assertThat(r.tid()).isBetween(PID, PID + 2);
            assertThat(r.toString()).contains("SIGSEGV", "SEGV_MAPERR", "0xdead0000", "thread " + r.tid());
            assertThat(p.threads()).allMatch(t -> t.state() == ThreadState.EXITED);
            assertThatThrownBy(p::thaw).isInstanceOf(IllegalStateException.class).hasMessageContaining("STOPPED");
            // The memory stays for inspection.
            assertThat(MemoryDigest.of(p.mm())).hasSize(64);
        }
    }

    /**
     * A fault resolved while the process is frozen lets the faulting access land then; if that
     * access is fatal (the page went away meanwhile), the process stops with the signal as it
     * would running, instead of staying FROZEN with no threads left.
     */
    @Test
    void aFatalAccessLandingWhileFrozenStopsTheProcessWithItsReason() throws Exception {
        FakeMemory fake = new FakeMemory(Granule.K4);
        MemoryManager mm = fake.mm();
        try (EmulatedProcess p = runTo(mm, WorkloadSpec.parse("sequential:pagesPerThread=8@2"), 2, 3)) {
            long page3 = p.thread(1).cpu().x(HeapWorkload.X_BASE) + 3 * mm.pageSize();
            FakeMemory.Park park = fake.parkOn(page3, FakeMemory.Touch.STORE);
            p.thaw();
            park.awaitParked();
            assertThat(p.freeze().parkedInFaultCount()).isEqualTo(1);
            mm.munmap(page3, mm.pageSize());
            park.release();
            StopReason r = p.awaitExit(WAIT);
            assertThat(p.state()).isEqualTo(ProcessState.STOPPED);
            assertThat(r.kind()).isEqualTo(StopReason.Kind.SIGNAL);
            assertThat(r.tid()).isEqualTo(PID + 1);
            assertThat(r.code()).isEqualTo(SegmentationFault.SEGV_MAPERR);
            assertThat(r.address()).isEqualTo(page3);
            assertThat(p.threads()).allMatch(t -> t.state() == ThreadState.EXITED);
            assertThatThrownBy(p::thaw).hasMessageContaining("thaw while STOPPED");
            assertThatThrownBy(p::saveImage).hasMessageContaining("FROZEN or NEW, not STOPPED");
        }
    }

    @Test
    void corruptionFoundWhileRunningStopsTheProcessNamingTheEntry() throws Exception {
        MemoryManager mm = freshMemory(Granule.K4);
        try (EmulatedProcess p = runTo(mm, WorkloadSpec.parse("kv:pagesPerThread=2,keys=3@8"), 1, 100)) {
            long table = p.thread(0).cpu().x(HeapWorkload.X_BASE);
            long capacity = p.thread(0).cpu().x(20);
            for (long slot = 0; slot < capacity; slot++) {
                long entry = table + 64 + slot * 64;
                if (mm.load64(entry) != 0) {
                    mm.store64(entry + 56, 0xbadL);
                }
            }
            IntegrityReport before = p.verify();
            assertThat(before.problems()).hasSize(3).allMatch(s -> s.contains("checksum 0xbad"));
            p.thaw();
            StopReason r = p.awaitExit(WAIT);
            assertThat(r.kind()).isEqualTo(StopReason.Kind.WORKLOAD_FAILURE);
            assertThat(r.message()).contains("checksum 0xbad", "key ");
            assertThat(r.address()).isBetween(table, table + 2 * 4096);
        }
    }

    @Test
    void controlCallsOutOfOrderFailNamingTheStates() {
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, freshMemory(Granule.K4), WorkloadSpec.parse("idle@1"), 1,
                manualClock())) {
            assertThatThrownBy(p::freeze).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("process 100").hasMessageContaining("freeze while NEW");
            assertThatThrownBy(p::thaw).hasMessageContaining("thaw while NEW");
            p.start();
            assertThatThrownBy(p::start).hasMessageContaining("start while RUNNING");
            assertThatThrownBy(p::saveImage).hasMessageContaining("FROZEN or NEW, not RUNNING");
            assertThatThrownBy(() -> p.thread(0).cpu()).hasMessageContaining("while RUNNING; freeze it first");
            assertThatThrownBy(() -> p.thread(1)).hasMessageContaining("threads 0..0, not 1");
            p.freeze();
            assertThatThrownBy(p::freeze).hasMessageContaining("freeze while FROZEN");
            assertThatThrownBy(() -> p.setThrottlePercent(100)).hasMessageContaining("100 % is outside 0..99");
            p.kill();
            p.kill();
            assertThat(p.state()).isEqualTo(ProcessState.EXITED);
            assertThatThrownBy(p::thaw).hasMessageContaining("thaw while EXITED");
        }
    }

    @Test
    void freezeAtFailsWhenAThreadIsAlreadyPastTheStep() {
        try (EmulatedProcess p = runTo(freshMemory(Granule.K4), WorkloadSpec.parse("uniform:pagesPerThread=4@1"), 2, 50)) {
            p.thaw();
            await().atMost(WAIT).until(() -> p.threads().stream().allMatch(t -> t.steps() > 20));
            assertThatThrownBy(() -> p.freezeAt(20)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("past the 20 asked for");
            assertThat(p.state()).isEqualTo(ProcessState.FROZEN);
        }
    }

    @Test
    void killEndsThreadsFrozenAtABoundaryAndParkedInAFault() throws Exception {
        FakeMemory fake = new FakeMemory(Granule.K4);
        MemoryManager mm = fake.mm();
        EmulatedProcess p = runTo(mm, WorkloadSpec.parse("sequential:pagesPerThread=8@2"), 2, 3);
        long base = p.thread(0).cpu().x(HeapWorkload.X_BASE);
        FakeMemory.Park park = fake.parkOn(base + 3 * mm.pageSize(), FakeMemory.Touch.STORE);
        p.thaw();
        park.awaitParked();
        p.freeze();
        p.kill();
        assertThat(p.awaitExit(WAIT).kind()).isEqualTo(StopReason.Kind.KILLED);
        assertThat(p.threads()).allMatch(t -> t.state() == ThreadState.EXITED);
    }

    /**
     * A thread held at its fault gate while frozen (its faulting store landed, the rest of its
     * step waits for thaw) stores nothing more once the process is killed.
     */
    @Test
    void aKilledProcessStoresNothingMoreOfAStepItWasHeldIn() throws Exception {
        FakeMemory fake = new FakeMemory(Granule.K4);
        MemoryManager mm = fake.mm();
        EmulatedProcess p = runTo(mm, WorkloadSpec.parse("kv:pagesPerThread=4,keys=3@4"), 1, 50);
        long table = p.thread(0).cpu().x(HeapWorkload.X_BASE);
        FakeMemory.Park park = fake.parkOn(table, FakeMemory.Touch.STORE);
        p.thaw();
        park.awaitParked();
        p.freeze();
        // Seed 4 keeps every entry off the header's page: the put parks on the header's count.
        assertThat(p.thread(0).pendingOps()).extracting(dev.pagehop.workload.PendingOp::address)
                .containsExactly(table + 16, table + 24, table + 32);
        park.release();
        assertThat(p.awaitParkedFaultsLanded(WAIT.toNanos())).isZero();
        p.kill();
        assertThat(p.awaitExit(WAIT).kind()).isEqualTo(StopReason.Kind.KILLED);
        assertThat(mm.load64(table + 24)).as("the table's put count, the step's next store").isEqualTo(50);
    }

    @Test
    void restoreRefusesAMemoryManagerWhoseLayoutDiffersFromTheImage() {
        try (EmulatedProcess p = runTo(freshMemory(Granule.K4), WorkloadSpec.parse("uniform:pagesPerThread=4@1"), 1, 5)) {
            ProcessImage image = p.saveImage();
            MemoryManager empty = freshMemory(Granule.K4);
            assertThatThrownBy(() -> EmulatedProcess.restore(image, empty, manualClock()))
                    .hasMessageContaining("of the image is missing");
            assertThatThrownBy(() -> EmulatedProcess.restore(image, freshMemory(Granule.K16), manualClock()))
                    .hasMessageContaining("image granule K4 but the memory manager has 16384-byte pages");
            MemoryManager used = freshMemory(Granule.K4);
            used.mmap(0, 4096, 3, 0x22);
            assertThatThrownBy(() -> AddressSpaceLayout.rebuild(image, used))
                    .hasMessageContaining("already has 1 VMAs");
        }
    }

    @Test
    void kvStoreVerifiesAfterMigrationAndCountsItsPuts() {
        try (EmulatedProcess p = runTo(freshMemory(Granule.K4), WorkloadSpec.parse("kv:pagesPerThread=8@3"), 2, 700)) {
            try (EmulatedProcess moved = migrate(p, freshMemory(Granule.K4))) {
                assertThat(KvStoreWorkload.puts(moved.mm())).isEqualTo(1400);
                IntegrityReport r = moved.verify().orThrow();
                assertThat(r.itemsChecked()).isPositive();
            }
        }
    }
}
