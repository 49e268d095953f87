package dev.pagehop.xfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.track.PageRange;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class PartitionerTest {

    @Provide
    Arbitrary<List<Long>> pageRuns() {
        return Arbitraries.longs().between(1, 300).list().ofMaxSize(20);
    }

    @Property
    void chunksCoverEveryRangeExactlyWithinTheSizeLimit(@ForAll("pageRuns") List<Long> runs,
            @ForAll @IntRange(min = 1, max = 70) int chunkPages, @ForAll @IntRange(min = 0, max = 2) int granule) {
        long pageSize = 4096L << (2 * granule);
        List<PageRange> ranges = new ArrayList<>();
        long at = 0x40_0000_0000L;
        for (long n : runs) {
            ranges.add(new PageRange(at, at + n * pageSize));
            at += (n + 3) * pageSize;
        }
        long max = chunkPages * pageSize + pageSize / 2;
        List<ChunkSpec> chunks = Partitioner.chunkList(ranges, pageSize, max);
        int ri = 0;
        long expect = ranges.isEmpty() ? 0 : ranges.get(0).start();
        for (ChunkSpec c : chunks) {
            assertThat(c.lengthBytes()).isLessThanOrEqualTo(chunkPages * pageSize);
            assertThat(c.address()).isEqualTo(expect);
            PageRange r = ranges.get(ri);
            assertThat(c.end()).as("chunk stays inside its range").isLessThanOrEqualTo(r.end());
            expect = c.end();
            if (expect == r.end() && ++ri < ranges.size()) {
                expect = ranges.get(ri).start();
            }
        }
        assertThat(ri).isEqualTo(ranges.size());
    }

    @Test
    void emptyRangesAreSkipped() {
        List<PageRange> ranges = List.of(new PageRange(0, 0), new PageRange(4096, 3 * 4096), new PageRange(8 * 4096, 8 * 4096));
        assertThat(Partitioner.chunkList(ranges, 4096, 4096)).containsExactly(new ChunkSpec(4096, 4096, 4096),
                new ChunkSpec(2 * 4096, 4096, 4096));
    }

    @Test
    void chunkSmallerThanAPageIsRefused() {
        assertThatThrownBy(() -> Partitioner.chunkBytes(1000, 4096)).hasMessageContaining("1000").hasMessageContaining("4096");
    }
}
