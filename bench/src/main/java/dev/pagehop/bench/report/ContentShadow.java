package dev.pagehop.bench.report;

import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.Pagemap;
import dev.pagehop.mm.VmaInfo;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A hash of each page's contents as of the last collect, to decide whether a page the write log
 * names really changed. The log over-approximates (a store of the value already there, an
 * mmap(MAP_FIXED) of zeros over a slot that was still zero), so a page the log names but no tracker
 * reports is a lost write only if its contents differ from what the previous collect saw.
 * Pages not present read as zeros, as they would on the target.
 */
final class ContentShadow {
    private final MemoryManager mm;
    private final byte[] buffer;
    private final long zeroHash;
    private final Map<Long, Long> hashes = new HashMap<>();

    ContentShadow(MemoryManager mm) {
        this.mm = mm;
        this.buffer = new byte[(int) mm.pageSize()];
        this.zeroHash = Arrays.hashCode(new byte[buffer.length]);
    }

    /** Hashes every present page, the state tracking starts from. */
    void baseline() {
        long ps = mm.pageSize();
        for (VmaInfo v : mm.vmas()) {
            for (long p = v.start(); p < v.end(); p += ps) {
                if ((mm.pagemapEntry(p) & Pagemap.PM_PRESENT) != 0) {
                    hashes.put(p, hash(p, List.of(v)));
                }
            }
        }
    }

    /** Whether {@code page} reads differently from the last time it was recorded. */
    boolean changed(long page, List<VmaInfo> vmas) {
        return hash(page, vmas) != hashes.getOrDefault(page, zeroHash);
    }

    /** Whether {@code page} reads other than zeros, what a target holds for a range it dropped. */
    boolean nonZero(long page, List<VmaInfo> vmas) {
        return hash(page, vmas) != zeroHash;
    }

    /** The target dropped the page with its range: it holds zeros there until the page is sent. */
    void forget(long page) {
        hashes.remove(page);
    }

    void record(long page, List<VmaInfo> vmas) {
        hashes.put(page, hash(page, vmas));
    }

    private long hash(long page, List<VmaInfo> vmas) {
        for (VmaInfo v : vmas) {
            if (page >= v.start() && page < v.end()) {
                if ((mm.pagemapEntry(page) & Pagemap.PM_PRESENT) == 0) {
                    return zeroHash;
                }
                mm.peek(page, buffer, 0, buffer.length);
                return Arrays.hashCode(buffer);
            }
        }
        return zeroHash;
    }
}
