package dev.pagehop.mm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Writers hammer a mapping through their TLBs while another thread unmaps it, maps fresh memory
 * (which reuses the freed frames) and zaps pages: a store that slipped past a shootdown would
 * land in a frame that now belongs to the new mapping and show up there as a foreign value.
 */
class ShootdownStressTest {
    private static final int RW = Prot.READ | Prot.WRITE;
    private static final int ANON = MapFlags.PRIVATE | MapFlags.ANONYMOUS;
    private static final long WRITER_MARK = 0x5741_5249_5445_0000L;

    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void noStoreLandsInAFrameAfterItWasFreed(Granule g) throws Exception {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            int pages = 8;
            long fixed = 0x40_0000_0000L;
            mm.mmap(fixed, pages * p, RW, ANON | MapFlags.FIXED);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong stores = new AtomicLong();
            CountDownLatch started = new CountDownLatch(2);
            Future<?>[] writers = new Future<?>[2];
            for (int w = 0; w < writers.length; w++) {
                int id = w;
                writers[w] = threads.submit(() -> {
                    started.countDown();
                    long n = 0;
                    while (!stop.get()) {
                        for (int i = 0; i < pages; i++) {
                            try {
                                mm.store64(fixed + i * p + 8L * id, WRITER_MARK | n);
                            } catch (SegmentationFault expected) {
                                // unmapped for the moment
                            }
                            n++;
                        }
                    }
                    stores.addAndGet(n);
                    return null;
                });
            }
            started.await();
            byte[] buf = new byte[(int) (pages * p)];
            for (int round = 0; round < 150; round++) {
                mm.munmap(fixed, pages * p);
                long fresh = mm.mmap(0, pages * p, RW, ANON);
                // the fresh mapping takes the frames the writers were just storing into
                for (int i = 0; i < pages; i++) {
                    mm.store64(fresh + i * p + 64, round);
                }
                mm.peek(fresh, buf, 0, buf.length);
                java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(buf).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (int off = 0; off < buf.length; off += 8) {
                    long v = bb.getLong(off);
                    long expect = (off % p) == 64 ? round : 0;
                    assertThat(v).as("round %d word at +0x%x of the fresh mapping", round, off).isEqualTo(expect);
                }
                mm.munmap(fresh, pages * p);
                mm.mmap(fixed, pages * p, RW, ANON | MapFlags.FIXED);
                mm.madvise(fixed, pages * p, Madvise.DONTNEED);
            }
            stop.set(true);
            for (Future<?> f : writers) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertThat(stores.get()).isPositive();
        }
    }
}
