package dev.pagehop.track;

import java.util.ArrayList;
import java.util.List;

/**
 * An address-ordered list of disjoint, coalesced page ranges, built by appending in address
 * order (as PAGEMAP_SCAN and /proc/PID/maps deliver them), plus the set operations a tracker
 * needs to diff two layouts. Not thread-safe: each collect builds its own.
 */
final class RangeList {
    private final List<PageRange> ranges = new ArrayList<>();

    /** Appends [start, end); merges with the last range when they touch or overlap. */
    void add(long start, long end) {
        if (end <= start) {
            return;
        }
        int last = ranges.size() - 1;
        if (last >= 0) {
            PageRange prev = ranges.get(last);
            if (start < prev.start()) {
                // Out-of-order input (e.g. an adopted VMA reported before a scanned one): keep sorted.
                insertSorted(start, end);
                return;
            }
            if (start <= prev.end()) {
                if (end > prev.end()) {
                    ranges.set(last, new PageRange(prev.start(), end));
                }
                return;
            }
        }
        ranges.add(new PageRange(start, end));
    }

    void addAll(List<PageRange> other) {
        for (PageRange r : other) {
            add(r.start(), r.end());
        }
    }

    private void insertSorted(long start, long end) {
        List<PageRange> copy = new ArrayList<>(ranges);
        ranges.clear();
        boolean placed = false;
        for (PageRange r : copy) {
            if (!placed && start < r.start()) {
                appendMerging(start, end);
                placed = true;
            }
            appendMerging(r.start(), r.end());
        }
        if (!placed) {
            appendMerging(start, end);
        }
    }

    private void appendMerging(long start, long end) {
        int last = ranges.size() - 1;
        if (last >= 0 && start <= ranges.get(last).end()) {
            PageRange prev = ranges.get(last);
            ranges.set(last, new PageRange(prev.start(), Math.max(prev.end(), end)));
        } else {
            ranges.add(new PageRange(start, end));
        }
    }

    List<PageRange> toList() {
        return List.copyOf(ranges);
    }

    boolean isEmpty() {
        return ranges.isEmpty();
    }

    long bytes() {
        long n = 0;
        for (PageRange r : ranges) {
            n += r.lengthBytes();
        }
        return n;
    }

    /** a minus b, both address-ordered and coalesced. */
    static List<PageRange> subtract(List<PageRange> a, List<PageRange> b) {
        RangeList out = new RangeList();
        int j = 0;
        for (PageRange r : a) {
            long cur = r.start();
            while (j < b.size() && b.get(j).end() <= cur) {
                j++;
            }
            int k = j;
            while (cur < r.end() && k < b.size() && b.get(k).start() < r.end()) {
                PageRange cut = b.get(k);
                if (cut.start() > cur) {
                    out.add(cur, cut.start());
                }
                cur = Math.max(cur, cut.end());
                k++;
            }
            if (cur < r.end()) {
                out.add(cur, r.end());
            }
        }
        return out.toList();
    }

    /** a intersected with b, both address-ordered and coalesced. */
    static List<PageRange> intersect(List<PageRange> a, List<PageRange> b) {
        RangeList out = new RangeList();
        int i = 0;
        int j = 0;
        while (i < a.size() && j < b.size()) {
            PageRange x = a.get(i);
            PageRange y = b.get(j);
            long lo = Math.max(x.start(), y.start());
            long hi = Math.min(x.end(), y.end());
            if (lo < hi) {
                out.add(lo, hi);
            }
            if (x.end() < y.end()) {
                i++;
            } else {
                j++;
            }
        }
        return out.toList();
    }

    /** Whether [start, end) lies entirely inside the ranges. */
    static boolean covers(List<PageRange> ranges, long start, long end) {
        return subtract(List.of(new PageRange(start, end)), ranges).isEmpty();
    }
}
