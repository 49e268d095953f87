package dev.pagehop.source;

import dev.pagehop.track.PageRange;
import dev.pagehop.xfer.PageRangeSet;
import java.util.List;

/**
 * The pages the target does not have yet, shared by the migration thread (which adds dirty sets
 * and snapshots a round) and the gRPC thread (which removes what the target acknowledged). A page
 * leaves only on acknowledgment, so a failed send can never lose it (Firecracker's rule: clear
 * dirty bits only after a successful write).
 */
final class PendingPages {
    private final PageRangeSet set;

    PendingPages(long pageSize) {
        set = new PageRangeSet(pageSize);
    }

    synchronized void add(List<PageRange> ranges) {
        set.addAll(ranges);
    }

    synchronized void acknowledged(long start, long end) {
        set.remove(start, end);
    }

    synchronized void remove(List<PageRange> ranges) {
        set.removeAll(ranges);
    }

    /** Drops what lies outside {@code layout} (unmapped since it became dirty). */
    synchronized void retainWithin(List<PageRange> layout) {
        PageRangeSet kept = set.intersect(layout);
        set.clear();
        set.addAll(kept);
    }

    synchronized List<PageRange> snapshot() {
        return set.toList();
    }

    synchronized long bytes() {
        return set.bytes();
    }
}
