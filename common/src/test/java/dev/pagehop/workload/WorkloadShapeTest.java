package dev.pagehop.workload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Each built-in workload writes where its description says: uniform over the partition, Zipf
 * over the hot set (skewed towards its first pages), a sweep page after page, a hot set that
 * moves every phaseSteps, nothing for idle, and churn's mix of system calls. Steps run one by
 * one outside a process, so every store and call of every step is seen.
 */
class WorkloadShapeTest {

    /** What one step did: the page of the partition it stored to (-1 if none) and its effects. */
    private record Step(long page, List<PendingOp> effects) {
    }

    private static List<Step> run(String spec, int steps) {
        MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4));
        Workload w = Workloads.create(spec);
        CpuState cpu = new CpuState();
        w.setUp(mm, List.of(cpu));
        long base = cpu.x(HeapWorkload.X_BASE);
        long ps = mm.pageSize();
        StepContext ctx = new StepContext(mm, 0);
        List<Step> out = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            ctx.begin(cpu);
            w.step(ctx);
            List<PendingOp> effects = ctx.pendingOps();
            long page = -1;
            for (PendingOp op : effects) {
                if (op.kind() == PendingOp.Kind.STORE) {
                    long p = Math.floorDiv(op.address() - base, ps);
                    page = page == -1 ? p : page;
                    assertThat(p).as("step %d stores to page %d of the partition only", i, page).isEqualTo(page);
                }
            }
            ctx.commit();
            out.add(new Step(page, effects));
        }
        return out;
    }

    private static long[] pageCounts(List<Step> steps, int pages) {
        long[] counts = new long[pages];
        for (Step s : steps) {
            assertThat(s.page()).isBetween(0L, pages - 1L);
            counts[(int) s.page()]++;
        }
        return counts;
    }

    @Test
    void uniformHitsEveryPageOfThePartitionAboutEqually() {
        long[] counts = pageCounts(run("uniform:pagesPerThread=16@3", 16_000), 16);
        for (int p = 0; p < 16; p++) {
            assertThat(counts[p]).as("page %d", p).isBetween(800L, 1_200L);
        }
    }

    @Test
    void zipfStaysInItsHotSetAndFavoursItsFirstPagesMoreTheHigherTheSkew() {
        long[] skewed = pageCounts(run("zipf:pagesPerThread=64,hotPages=8,skew=1.2@5", 8_000), 64);
        long[] flat = pageCounts(run("zipf:pagesPerThread=64,hotPages=8,skew=0@5", 8_000), 64);
        for (int p = 8; p < 64; p++) {
            assertThat(skewed[p] + flat[p]).as("page %d is outside the 8-page hot set", p).isZero();
        }
        // Zipf(1.2) over 8 ranks: rank 0 takes about 44 %, rank 7 about 3 %.
        assertThat(skewed[0]).isBetween(3_200L, 3_800L);
        assertThat(skewed[0]).isGreaterThan(skewed[1]).isGreaterThan(skewed[7]);
        assertThat(skewed[7]).isBetween(150L, 400L);
        for (int p = 0; p < 8; p++) {
            assertThat(flat[p]).as("skew 0 is uniform over the hot set").isBetween(800L, 1_200L);
        }
    }

    @Test
    void sequentialSweepsThePartitionPageAfterPage() {
        List<Step> steps = run("sequential:pagesPerThread=16@7", 50);
        for (int i = 0; i < steps.size(); i++) {
            assertThat(steps.get(i).page()).as("step %d", i).isEqualTo(i % 16);
        }
    }

    @Test
    void phaseMovesItsHotSetEveryPhaseSteps() {
        List<Step> steps = run("phase:pagesPerThread=32,hotPages=4,phaseSteps=100@9", 1_000);
        for (int i = 0; i < steps.size(); i++) {
            long first = (i / 100) * 4 % 32;
            assertThat(steps.get(i).page()).as("step %d, phase %d", i, i / 100).isBetween(first, first + 3);
        }
        // Each phase uses its whole hot set.
        for (int phase = 0; phase < 10; phase++) {
            assertThat(steps.subList(phase * 100, phase * 100 + 100).stream().mapToLong(Step::page).distinct().count())
                    .isEqualTo(4);
        }
    }

    @Test
    void idleStoresNothingAndCallsNothing() {
        assertThat(run("idle@1", 500)).allSatisfy(s -> assertThat(s.effects()).isEmpty());
    }

    @Test
    void churnMapsWritesProtectsRemapsZapsAndUnmapsAsItRuns() {
        Map<PendingOp.Kind, Integer> calls = new EnumMap<>(PendingOp.Kind.class);
        int[] dontneed = {0};
        Consumer<PendingOp> count = op -> {
            calls.merge(op.kind(), 1, Integer::sum);
            if (op.kind() == PendingOp.Kind.MADVISE && op.value() == Madvise.DONTNEED) {
                dontneed[0]++;
            }
        };
        run("churn:slots=8,slotPages=2@21", 2_000).forEach(s -> s.effects().forEach(count));
        assertThat(calls.keySet()).containsExactlyInAnyOrder(PendingOp.Kind.values());
        assertThat(dontneed[0]).isEqualTo(calls.get(PendingOp.Kind.MADVISE));
        // remap=0: the mremap share becomes mmap.
        Map<PendingOp.Kind, Integer> noRemap = new EnumMap<>(PendingOp.Kind.class);
        run("churn:slots=8,slotPages=2,remap=0@21", 2_000).forEach(s -> s.effects().forEach(
                op -> noRemap.merge(op.kind(), 1, Integer::sum)));
        assertThat(noRemap).doesNotContainKey(PendingOp.Kind.MREMAP_FIXED).containsKey(PendingOp.Kind.MMAP_FIXED);
    }
}
