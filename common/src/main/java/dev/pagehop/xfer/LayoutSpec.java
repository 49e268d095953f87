package dev.pagehop.xfer;

import dev.pagehop.track.PageRange;
import java.util.ArrayList;
import java.util.List;

/** The address-space layout of a process: VMAs in address order, memfds, and the heap break. */
public record LayoutSpec(List<VmaSpec> vmas, List<MemfdSpec> memfds, long startBrk, long brk) {

    public static final LayoutSpec EMPTY = new LayoutSpec(List.of(), List.of(), 0, 0);

    public LayoutSpec {
        vmas = List.copyOf(vmas);
        memfds = List.copyOf(memfds);
    }

    public long mappedBytes() {
        long n = 0;
        for (VmaSpec v : vmas) {
            n += v.length();
        }
        return n;
    }

    /** The mapped ranges, one per VMA (not merged: a chunk never crosses a VMA boundary). */
    public List<PageRange> ranges() {
        List<PageRange> out = new ArrayList<>(vmas.size());
        for (VmaSpec v : vmas) {
            out.add(new PageRange(v.start(), v.end()));
        }
        return out;
    }

    /** True if [start, end) lies inside mapped VMAs without a hole. */
    public boolean covers(long start, long end) {
        long at = start;
        for (VmaSpec v : vmas) {
            if (v.end() <= at) {
                continue;
            }
            if (v.start() > at) {
                return false;
            }
            at = v.end();
            if (at >= end) {
                return true;
            }
        }
        return at >= end;
    }

    public MemfdSpec memfd(int id) {
        for (MemfdSpec m : memfds) {
            if (m.id() == id) {
                return m;
            }
        }
        return null;
    }
}
