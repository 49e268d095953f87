package dev.pagehop.proc;

import static dev.pagehop.proc.ProcessTesting.PID;
import static dev.pagehop.proc.ProcessTesting.manualClock;
import static dev.pagehop.proc.ProcessTesting.migrate;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.Prot;
import dev.pagehop.workload.StepContext;
import dev.pagehop.workload.Workload;
import dev.pagehop.workload.WorkloadSpec;
import dev.pagehop.workload.Workloads;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An instruction-level ("direct memory") workload, the way the A64 interpreter plugs in: it
 * stores straight through the MMU and advances its registers only after each store completed,
 * so a thread frozen in a fault is saved at that instruction and re-executes it elsewhere.
 */
class DirectWorkloadTest {
    static final int SLOTS = 1024; // two pages of 8-byte slots at 4K
    static final int INSTRUCTIONS_PER_STEP = 10;

    /** X0 counts "instructions"; instruction n stores n into slot n mod SLOTS of the area at X1. */
    static final class Counter implements Workload {
        private final WorkloadSpec spec;

        Counter(WorkloadSpec spec) {
            this.spec = spec;
        }

        @Override
        public WorkloadSpec spec() {
            return spec;
        }

        @Override
        public boolean directMemory() {
            return true;
        }

        @Override
        public void setUp(MemoryManager mm, List<CpuState> threads) {
            for (CpuState c : threads) {
                c.setX(1, mm.mmap(0, SLOTS * 8L, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS));
            }
        }

        @Override
        public void step(StepContext ctx) {
            CpuState cpu = ctx.cpu();
            for (int i = 0; i < INSTRUCTIONS_PER_STEP; i++) {
                long n = cpu.x(0);
                ctx.memory().store64(cpu.x(1) + 8 * (n % SLOTS), n);
                cpu.setX(0, n + 1);
                cpu.setPc(cpu.pc() + 4);
                ctx.countWrite(8, 1);
                ctx.checkpoint();
            }
        }
    }

    @BeforeAll
    static void register() {
        if (!Workloads.kinds().contains("test-direct")) {
            Workloads.register("test-direct", Counter::new);
        }
    }

    /** Slot s holds the last n < x0 with n mod SLOTS == s (or 0 if there was none). */
    static void assertConsistent(MemoryManager mm, CpuState cpu) {
        long x0 = cpu.x(0);
        for (int s = 0; s < SLOTS; s++) {
            long expected = x0 <= s ? 0 : s + (x0 - 1 - s) / SLOTS * SLOTS;
            assertThat(mm.load64(cpu.x(1) + 8L * s)).as("slot %d at x0=%d", s, x0).isEqualTo(expected);
        }
    }

    @Test
    void aDirectThreadFrozenInAFaultReExecutesThatInstructionAfterRestore() throws Exception {
        FakeMemory fake = new FakeMemory(Granule.K4);
        try (EmulatedProcess p = EmulatedProcess.spawn(PID, fake.mm(), WorkloadSpec.of("test-direct", 1), 1, manualClock())) {
            p.freezeAt(300); // x0 = 3000: slots wrapped twice, next store at slot 952 (page 1)
            long area = p.thread(0).cpu().x(1);
            FakeMemory.Park park = fake.parkOn(area + 4096, FakeMemory.Touch.STORE);
            p.thaw();
            park.awaitParked();
            FreezeResult f = p.freeze();
            assertThat(f.parkedInFaultCount()).isEqualTo(1);
            CpuState atFault = p.thread(0).cpu();
            assertThat(atFault.x(0)).as("registers at the faulting instruction").isEqualTo(3000);
            assertThat(p.saveImage().threads().getFirst().pending()).isEmpty();

            try (EmulatedProcess moved = migrate(p, new FakeMemory(Granule.K4).mm())) {
                moved.freezeAt(400);
                assertConsistent(moved.mm(), moved.thread(0).cpu());
                assertThat(moved.thread(0).cpu().x(0)).isGreaterThan(atFault.x(0));
            }
            park.release();
            p.freezeAt(320);
            assertConsistent(p.mm(), p.thread(0).cpu());
        }
    }

    @Test
    void aBufferedWorkloadCannotReachTheMemoryManager() {
        StepContext ctx = new StepContext(new FakeMemory(Granule.K4).mm(), 3);
        assertThatThrownBy(ctx::memory).hasMessageContaining("thread 3: a buffered workload loads through its step context");
    }
}
