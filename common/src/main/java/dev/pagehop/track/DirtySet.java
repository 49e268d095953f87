package dev.pagehop.track;

import java.util.List;

/**
 * What one {@link DirtyTracker#collect()} found, in address order, ranges coalesced:
 * <ul>
 *   <li>{@code written}: pages whose contents may differ from what the last collect saw (CPU
 *       stores, kernel writes, and pages zapped to zero, which read as written under uffd-wp
 *       async); a migration re-reads and re-sends them (zero pages as markers);</li>
 *   <li>{@code unmapped}: ranges that were mapped at the last collect and are mapped no more;
 *       a migration sends them as "gone".</li>
 * </ul>
 * A range can be in both lists when it was unmapped and mapped anew between two collects: apply
 * {@code unmapped} first, then {@code written}.
 */
public record DirtySet(List<PageRange> written, List<PageRange> unmapped) {

    public DirtySet {
        written = List.copyOf(written);
        unmapped = List.copyOf(unmapped);
    }

    public long writtenBytes() {
        long n = 0;
        for (PageRange r : written) {
            n += r.lengthBytes();
        }
        return n;
    }
}
