package dev.pagehop.track;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Soft-dirty collects with the writers frozen, and the layout it compares against the previous
 * collect's must be read in the same frozen moment. A writer that unmaps a range just before it
 * is stopped otherwise leaves the range neither walked (it is gone) nor reported as unmapped
 * (the layout was read while it was there): a migration whose final round that was would leave
 * the range's old pages on the target.
 */
class SoftDirtyLayoutRaceTest {

    @ParameterizedTest
    @EnumSource(Granule.class)
    void aRangeUnmappedJustBeforeTheWritersStopIsReportedByThatCollect(Granule g) {
        MemoryManager mm = MemoryManager.create(MmConfig.arm64(g).withSoftDirty(true));
        long ps = mm.pageSize();
        long heap = mm.mmap(0, 4 * ps, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        // Read-only beside read-write, so the two never merge into one VMA.
        long slot = mm.mmap(heap - 4 * ps, 4 * ps, Prot.READ, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
        mm.mprotect(slot, 4 * ps, Prot.READ | Prot.WRITE);
        mm.store64(slot + ps, 0x51);
        mm.store64(heap, 0x4ea9);
        AtomicReference<Runnable> justBeforeTheFreeze = new AtomicReference<>(() -> { });
        WriterFreeze freeze = () -> {
            justBeforeTheFreeze.getAndSet(() -> { }).run();
            return () -> { };
        };
        try (SoftDirtyTracker t = new SoftDirtyTracker(mm, TrackerOptions.defaults().withWriterFreeze(freeze))) {
            t.start();
            assertThat(t.collect().written()).isEmpty();

            justBeforeTheFreeze.set(() -> mm.munmap(slot, 4 * ps));
            DirtySet d = t.collect();
            assertThat(d.unmapped()).containsExactly(new PageRange(slot, slot + 4 * ps));
            assertThat(t.collect().unmapped()).isEmpty();
        }
    }
}
