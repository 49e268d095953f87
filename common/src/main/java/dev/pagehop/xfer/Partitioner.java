package dev.pagehop.xfer;

import dev.pagehop.track.PageRange;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Cuts sorted, disjoint page ranges into chunks of at most {@code maxChunkBytes}, never across a
 * range boundary (a range is a dirty run inside one VMA). A pure function kept apart from sending,
 * as Ratis keeps {@code InstallSnapshotRequests} apart from the appender, so it can be tested
 * exhaustively and iterated lazily over a gigabyte of ranges.
 */
public final class Partitioner {
    private Partitioner() {
    }

    /** The largest page-aligned chunk size not above {@code maxChunkBytes} (at least one page). */
    public static long chunkBytes(long maxChunkBytes, long pageSize) {
        if (maxChunkBytes < pageSize) {
            throw new IllegalArgumentException("chunk size " + maxChunkBytes + " is below the page size " + pageSize);
        }
        return maxChunkBytes - maxChunkBytes % pageSize;
    }

    public static Iterator<ChunkSpec> chunks(List<PageRange> ranges, long pageSize, long maxChunkBytes) {
        long step = chunkBytes(maxChunkBytes, pageSize);
        return new Iterator<>() {
            private int index;
            private long next = ranges.isEmpty() ? 0 : ranges.get(0).start();

            @Override
            public boolean hasNext() {
                while (index < ranges.size() && next >= ranges.get(index).end()) {
                    index++;
                    if (index < ranges.size()) {
                        next = ranges.get(index).start();
                    }
                }
                return index < ranges.size();
            }

            @Override
            public ChunkSpec next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                PageRange r = ranges.get(index);
                long len = Math.min(step, r.end() - next);
                ChunkSpec c = new ChunkSpec(next, len, pageSize);
                next += len;
                return c;
            }
        };
    }

    public static List<ChunkSpec> chunkList(List<PageRange> ranges, long pageSize, long maxChunkBytes) {
        List<ChunkSpec> out = new ArrayList<>();
        chunks(ranges, pageSize, maxChunkBytes).forEachRemaining(out::add);
        return out;
    }
}
