package dev.pagehop.proc;

import static dev.pagehop.proc.ProcessTesting.freshMemory;
import static dev.pagehop.proc.ProcessTesting.runTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.Prot;
import dev.pagehop.workload.HeapWorkload;
import dev.pagehop.workload.IntegrityReport;
import dev.pagehop.workload.KvStoreWorkload;
import dev.pagehop.workload.WorkloadSpec;
import org.junit.jupiter.api.Test;

/** The self-checks catch what a broken migration does to memory: lost, stale, zeroed or moved pages. */
class WorkloadIntegrityTest {

    @Test
    void aZeroedKvPageIsReportedAsLost() {
        MemoryManager mm = freshMemory(Granule.K4);
        try (EmulatedProcess p = runTo(mm, WorkloadSpec.parse("kv:pagesPerThread=4,keys=100@1"), 1, 2000)) {
            assertThat(p.verify().orThrow().itemsChecked()).isEqualTo(100);
            long table = p.thread(0).cpu().x(HeapWorkload.X_BASE);
            mm.madvise(table + 2 * mm.pageSize(), mm.pageSize(), Madvise.DONTNEED); // a page "never arrived"
            IntegrityReport r = p.verify();
            assertThat(r.ok()).isFalse();
            assertThat(String.join("\n", r.problems())).contains("live entries, header says 100")
                    .contains("a page is stale or lost");
        }
    }

    /**
     * A thread frozen while applying a put (its entry written, its table header not yet) leaves
     * half a step in memory. The check must not call that corruption: it refuses, naming the
     * thread and what is left of its step, and passes once the step has completed.
     */
    @Test
    void aKvCheckWhileAThreadIsFrozenHalfwayThroughAPutIsRefusedNotReportedAsCorruption() throws Exception {
        FakeMemory fake = new FakeMemory(Granule.K4);
        MemoryManager mm = fake.mm();
        try (EmulatedProcess p = runTo(mm, WorkloadSpec.parse("kv:pagesPerThread=4,keys=3@4"), 1, 50)) {
            long table = p.thread(0).cpu().x(HeapWorkload.X_BASE);
            for (int slot = 0; slot < 63; slot++) {
                assertThat(mm.load64(table + 64 + 64L * slot)).as("seed 4 puts no entry on the header's page").isZero();
            }
            assertThat(p.verify().orThrow().itemsChecked()).isEqualTo(3);
            FakeMemory.Park park = fake.parkOn(table, FakeMemory.Touch.STORE);
            p.thaw();
            park.awaitParked();
            p.freeze();
            // The entry's stores landed on its own page; the header's count, puts and checksum wait.
            assertThat(p.thread(0).pendingOps()).hasSize(3);
            assertThatThrownBy(p::verify).isInstanceOf(IllegalStateException.class).hasMessage(String.format(
                    "process 100: cannot verify the workload while thread 100 is in the middle of step 51: 3 of its effects"
                            + " are not applied yet (parked in a userfault at 0x%x); thaw it to finish the step, then freeze and verify",
                    table + 16));
            park.release();
            p.freezeAt(60);
            assertThat(p.verify().orThrow().itemsChecked()).isEqualTo(3);
            assertThat(KvStoreWorkload.puts(mm)).isEqualTo(60);
        }
    }

    @Test
    void aStaleKvPageIsReported() {
        MemoryManager mm = freshMemory(Granule.K4);
        long ps = mm.pageSize();
        try (EmulatedProcess p = runTo(mm, WorkloadSpec.parse("kv:pagesPerThread=4,keys=100@1"), 1, 500)) {
            long table = p.thread(0).cpu().x(HeapWorkload.X_BASE);
            byte[] old = new byte[(int) ps];
            mm.peek(table + ps, old, 0, old.length);
            p.freezeAt(3000);
            mm.write(table + ps, old); // an old copy of the page: the target missed a dirty round
            IntegrityReport r = p.verify();
            assertThat(r.ok()).as("a page from step 500 among pages from step 3000").isFalse();
            assertThat(r.problems()).singleElement().asString()
                    .contains("entry versions add up to").contains("but the header recorded 3000 puts (a page is stale or lost)");
        }
    }

    @Test
    void kvProgressIsReadFromMemory() {
        try (EmulatedProcess p = runTo(freshMemory(Granule.K16), WorkloadSpec.parse("kv:pagesPerThread=1@1"), 3, 123)) {
            assertThat(KvStoreWorkload.puts(p.mm())).isEqualTo(369);
        }
    }

    @Test
    void aChurnSlotWhoseMappingDiffersFromTheControlTableIsReported() {
        MemoryManager mm = freshMemory(Granule.K4);
        try (EmulatedProcess p = runTo(mm, WorkloadSpec.parse("churn:slots=8,slotPages=2,remap=0@4"), 1, 400)) {
            assertThat(p.verify().orThrow().itemsChecked()).isEqualTo(8);
            long area = p.thread(0).cpu().x(25);
            long slotBytes = 2 * mm.pageSize();
            // Find a read-write slot and make it read-only behind the workload's back.
            long slot = -1;
            for (int s = 0; s < 8 && slot < 0; s++) {
                long a = area + s * slotBytes;
                if (mm.vmas().stream().anyMatch(v -> v.start() <= a && v.end() >= a + slotBytes && v.prot() == (Prot.READ | Prot.WRITE))) {
                    slot = s;
                }
            }
            assertThat(slot).isNotNegative();
            mm.mprotect(area + slot * slotBytes, slotBytes, Prot.READ);
            IntegrityReport r = p.verify();
            assertThat(r.problems()).singleElement().asString()
                    .contains("slot " + slot).contains("control table says rw-, the VMAs say r--");
        }
    }

    @Test
    void aTornChurnPairIsReported() {
        MemoryManager mm = freshMemory(Granule.K4);
        try (EmulatedProcess p = runTo(mm, WorkloadSpec.parse("churn:slots=4,slotPages=1,remap=0@6"), 1, 300)) {
            assertThat(p.verify().ok()).isTrue();
            long area = p.thread(0).cpu().x(25);
            long pair = -1;
            for (long a = area; a < area + 4 * mm.pageSize() && pair < 0; a += 16) {
                long at = a;
                boolean writable = mm.vmas().stream().anyMatch(v -> v.start() <= at && v.end() > at && (v.prot() & Prot.WRITE) != 0);
                if (writable && mm.load64(a) != 0) {
                    pair = a;
                }
            }
            assertThat(pair).as("300 churn steps leave some written pair").isNotNegative();
            mm.store64(pair + 8, 0x1234);
            assertThat(p.verify().problems()).singleElement().asString()
                    .contains(String.format("pair at 0x%x is (0x", pair)).contains(", 0x1234), expected check 0x");
        }
    }
}
