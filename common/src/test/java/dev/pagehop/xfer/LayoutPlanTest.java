package dev.pagehop.xfer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.mm.Prot;
import dev.pagehop.xfer.LayoutPlan.Map;
import dev.pagehop.xfer.LayoutPlan.Unmap;
import java.util.List;
import org.junit.jupiter.api.Test;

class LayoutPlanTest {
    private static final long P = 4096;
    private static final int RW = Prot.READ | Prot.WRITE;

    private static VmaSpec anon(long startPage, long endPage, int prot) {
        return new VmaSpec(startPage * P, endPage * P, prot, 0, 0, 0);
    }

    @Test
    void anMprotectSplitKeepsThePagesAlreadyReceived() {
        List<VmaSpec> before = List.of(anon(0, 10, RW));
        List<VmaSpec> after = List.of(anon(0, 4, RW), anon(4, 10, Prot.READ));
        assertThat(LayoutPlan.plan(before, after)).isEmpty();
    }

    @Test
    void unmappedRangesGoAndNewOnesAreMapped() {
        List<VmaSpec> before = List.of(anon(0, 10, RW), anon(20, 30, RW));
        List<VmaSpec> after = List.of(anon(0, 5, RW), anon(40, 50, RW));
        assertThat(LayoutPlan.plan(before, after)).containsExactly(new Unmap(5 * P, 10 * P), new Unmap(20 * P, 30 * P),
                new Map(anon(40, 50, RW)));
    }

    @Test
    void aChangedBackingIsRemapped() {
        VmaSpec shared = new VmaSpec(0, 8 * P, RW, VmaSpec.VM_SHARED, 1, 0);
        VmaSpec movedInFile = new VmaSpec(0, 8 * P, RW, VmaSpec.VM_SHARED, 1, 4 * P);
        assertThat(LayoutPlan.plan(List.of(shared), List.of(movedInFile))).containsExactly(new Unmap(0, 8 * P),
                new Map(movedInFile));
        assertThat(LayoutPlan.plan(List.of(anon(0, 8, RW)), List.of(shared))).containsExactly(new Unmap(0, 8 * P),
                new Map(shared));
    }

    @Test
    void aGrowingVmaMapsOnlyTheNewPartAndSlicesTheFileOffset() {
        VmaSpec small = new VmaSpec(4 * P, 8 * P, RW, VmaSpec.VM_SHARED, 2, 0);
        VmaSpec shifted = new VmaSpec(4 * P, 12 * P, RW, VmaSpec.VM_SHARED, 2, P);
        // Same file position for the old pages: offset - start stays equal.
        VmaSpec grownSame = new VmaSpec(4 * P, 12 * P, RW, VmaSpec.VM_SHARED, 2, 0);
        assertThat(LayoutPlan.plan(List.of(small), List.of(grownSame)))
                .containsExactly(new Map(new VmaSpec(8 * P, 12 * P, RW, VmaSpec.VM_SHARED, 2, 4 * P)));
        assertThat(shifted.sameBacking(small)).isFalse();
    }

    @Test
    void layoutCoverageQuestions() {
        LayoutSpec l = new LayoutSpec(List.of(anon(0, 4, RW), anon(4, 8, RW), anon(10, 12, RW)), List.of(), 0, 0);
        assertThat(l.covers(2 * P, 6 * P)).isTrue();
        assertThat(l.covers(6 * P, 11 * P)).isFalse();
        assertThat(l.covers(10 * P, 13 * P)).isFalse();
        assertThat(l.mappedBytes()).isEqualTo(10 * P);
    }
}
