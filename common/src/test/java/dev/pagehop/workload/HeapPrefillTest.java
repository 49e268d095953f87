package dev.pagehop.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code prefill=1}: every heap page resident and non-zero before the first step, as guestperf's stress starts. */
class HeapPrefillTest {

    private static final long PRESENT = 1L << 63;

    private static long[] residentAndFirstByte(String spec, int threads) {
        HeapWorkload w = (HeapWorkload) Workloads.create(spec);
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4))) {
            List<CpuState> cpus = java.util.stream.Stream.generate(CpuState::new).limit(threads).toList();
            w.setUp(mm, cpus);
            long ps = mm.pageSize();
            long first = mm.brkStart() + ps;
            long pages = w.pagesPerThread() * threads;
            long resident = 0;
            for (long i = 0; i < pages; i++) {
                if ((mm.pagemapEntry(first + i * ps) & PRESENT) != 0) {
                    resident++;
                }
            }
            byte[] last = new byte[1];
            mm.peek(first + (pages - 1) * ps + ps - 1, last, 0, 1);
            return new long[] {resident, pages, last[0]};
        }
    }

    @Test
    void prefillMakesEveryPartitionPageResidentAndNonZero() {
        long[] r = residentAndFirstByte("zipf:pagesPerThread=96,hotPages=8,prefill=1@3", 2);
        assertThat(r[0]).as("resident of %d", r[1]).isEqualTo(r[1]).isEqualTo(192);
        assertThat((byte) r[2]).isEqualTo(HeapWorkload.PREFILL_BYTE);
    }

    @Test
    void withoutPrefillNoPartitionPageIsResidentBeforeTheFirstStep() {
        long[] r = residentAndFirstByte("zipf:pagesPerThread=96,hotPages=8@3", 2);
        assertThat(r[0]).isZero();
    }

    @Test
    void prefillIsZeroOrOne() {
        assertThatThrownBy(() -> Workloads.create("zipf:prefill=2")).hasMessageContaining("prefill");
    }
}
