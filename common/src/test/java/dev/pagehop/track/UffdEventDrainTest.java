package dev.pagehop.track;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Pagemap;
import dev.pagehop.mm.Prot;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.UffdMsg;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * UFFDIO_WRITEPROTECT fails EAGAIN while a non-cooperative event is queued and unread; a
 * uffd tracker must read its events and retry, never give up on the range (which would leave its
 * pages unprotected and their next writes untracked). Deterministic: the event is made to wait
 * in the queue by a monitor that only reads when the tracker asks it to.
 */
class UffdEventDrainTest {
    private static final int RW = Prot.READ | Prot.WRITE;
    private static final int ANON = MapFlags.PRIVATE | MapFlags.ANONYMOUS;

    /** A uffd tracker with the unmap event on and no monitor thread: events wait until drained. */
    private static final class Quiet extends UffdTracker {
        final List<UffdMsg> drained = new ArrayList<>();
        final boolean drains;

        Quiet(MemoryManager mm, boolean drains) {
            super(mm, TrackerOptions.defaults());
            this.drains = drains;
        }

        @Override
        public String name() {
            return "quiet";
        }

        @Override
        protected long requiredFeatures() {
            return Uffd.FEATURE_WP_UNPOPULATED | Uffd.FEATURE_EVENT_UNMAP;
        }

        @Override
        protected void drainPendingEvents() {
            if (!drains) {
                return;
            }
            try {
                for (UffdMsg m = uffd.poll(0); m != null; m = uffd.poll(0)) {
                    drained.add(m);
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }

        @Override
        protected void doCollect(List<PageRange> layout, List<PageRange> previousLayout, RangeList written,
                RangeList remapped) {
        }
    }

    /** munmap on another thread; it blocks in the kernel until its EVENT_UNMAP is read. */
    private static Thread unmapInBackground(MemoryManager mm, long addr, long len) {
        Thread t = Thread.ofPlatform().name("unmapper").start(() -> mm.munmap(addr, len));
        // The only place this thread can wait is the event delivery (an uninterruptible condition wait).
        await().atMost(Duration.ofSeconds(10)).until(() -> t.getState() == Thread.State.WAITING);
        return t;
    }

    @Test
    void writeprotectReadsThePendingEventAndThenProtectsTheRange() throws Exception {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 16 * p, RW, ANON);
            long b = mm.mmap(0, 16 * p, RW, ANON);
            Quiet t = new Quiet(mm, true);
            t.start();
            Thread unmapper = unmapInBackground(mm, b, 16 * p);

            t.writeprotect(a, 16 * p, Uffd.WRITEPROTECT_MODE_WP);

            assertThat(t.drained).extracting(UffdMsg::event).containsExactly(Uffd.EVENT_UNMAP);
            unmapper.join(10_000);
            assertThat(unmapper.isAlive()).isFalse();
            for (long x = a; x < a + 16 * p; x += p) {
                assertThat(mm.pagemapEntry(x) & Pagemap.PM_UFFD_WP).as("page 0x%x protected", x).isNotZero();
            }
            t.stop();
        }
    }

    @Test
    void aTrackerThatNeverReadsItsEventsFailsNamingTheRange() throws Exception {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 4 * p, RW, ANON);
            long b = mm.mmap(0, 4 * p, RW, ANON);
            Quiet t = new Quiet(mm, false);
            t.start();
            Thread unmapper = unmapInBackground(mm, b, 4 * p);
            assertThatThrownBy(() -> t.writeprotect(a, 4 * p, Uffd.WRITEPROTECT_MODE_WP))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(String.format("[0x%x, 0x%x)", a, a + 4 * p))
                    .hasMessageContaining("unread events after reading them " + UffdTracker.MAX_EAGAIN_RETRIES + " times");
            t.stop(); // closing the uffd releases the blocked munmap
            unmapper.join(10_000);
            assertThat(unmapper.isAlive()).isFalse();
        }
    }
}
