package dev.pagehop.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.SegmentationFault;
import dev.pagehop.proc.FakeMemory;
import org.junit.jupiter.api.Test;

class StepContextTest {
    private final MemoryManager mm = new FakeMemory(Granule.K4).mm();
    private final long base = mm.mmap(0, 4 * 4096, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
    private final StepContext ctx = new StepContext(mm, 0);

    @Test
    void effectsApplyInOrderAfterTheStepAndAreCountedPerPage() {
        ctx.begin(new CpuState());
        assertThat(ctx.load64(base)).isZero();
        ctx.store64(base, 1);
        ctx.store64(base, 2);
        ctx.store32(base + 4096, 3);
        ctx.store8(base + 8, 4);
        assertThat(mm.load64(base)).as("nothing lands before commit").isZero();
        assertThat(ctx.pendingCount()).isEqualTo(4);
        ctx.commit();
        assertThat(mm.load64(base)).isEqualTo(2);
        assertThat(mm.load32(base + 4096)).isEqualTo(3);
        assertThat(mm.load8(base + 8)).isEqualTo(4);
        assertThat(ctx.stepBytes()).isEqualTo(8 + 8 + 4 + 1);
        assertThat(ctx.stepPages()).isEqualTo(3); // page 0, page 1, page 0 again
        assertThat(ctx.pendingCount()).isZero();
    }

    @Test
    void aLoadAfterAStoreIsRefused() {
        ctx.begin(new CpuState());
        ctx.store64(base, 1);
        assertThatThrownBy(() -> ctx.load64(base + 8)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("load at 0x" + Long.toHexString(base + 8) + " after 1 buffered effects");
    }

    @Test
    void aFailingEffectLeavesItAndTheRestPending() {
        ctx.begin(new CpuState());
        ctx.store64(base, 7);
        ctx.mprotect(base + 4096, 4096, Prot.READ);
        ctx.store64(base + 4096, 8);
        ctx.store64(base + 8, 9);
        assertThatThrownBy(ctx::commit).isInstanceOf(SegmentationFault.class);
        assertThat(mm.load64(base)).isEqualTo(7);
        assertThat(ctx.pendingOps()).extracting(PendingOp::address).containsExactly(base + 4096, base + 8);
        assertThatThrownBy(() -> ctx.begin(new CpuState())).hasMessageContaining("2 effects of the last one not applied");
    }

    @Test
    void savedEffectsReplayOnAnotherContext() {
        ctx.begin(new CpuState());
        ctx.munmap(base + 3 * 4096, 4096);
        ctx.store16(base + 2, 0xbeef);
        var saved = ctx.pendingOps();
        StepContext other = new StepContext(mm, 0);
        other.loadPending(saved);
        other.commit();
        assertThat(mm.load16(base + 2)).isEqualTo(0xbeef);
        assertThat(mm.vmas()).hasSize(1);
        assertThat(saved.get(0).toString()).isEqualTo("munmap(0x" + Long.toHexString(base + 3 * 4096) + ", 4096)");
        assertThatThrownBy(() -> new PendingOp(PendingOp.Kind.STORE, 0x1000, 3, 0, 0))
                .hasMessageContaining("store of 3 bytes at 0x1000");
        assertThatThrownBy(() -> PendingOp.Kind.ofCode(0)).hasMessageContaining("code 0 is unknown");
    }
}
