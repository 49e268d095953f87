package dev.pagehop.xfer;

import dev.pagehop.track.PageRange;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A range table: a set of page-aligned addresses kept as disjoint, coalesced half-open ranges in
 * address order. The source keeps its pending pages here: a dirty set is added, ranges leave
 * only when the target acknowledged them, and ranges whose send failed are added back.
 * Not thread safe; one migration thread owns it.
 */
public final class PageRangeSet {
    private final long pageSize;
    /** start → end, disjoint and never adjacent (adjacent ranges are merged on insert). */
    private final TreeMap<Long, Long> ranges = new TreeMap<>();
    private long bytes;

    public PageRangeSet(long pageSize) {
        if (pageSize <= 0 || Long.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("page size " + pageSize + " is not a power of two");
        }
        this.pageSize = pageSize;
    }

    public static PageRangeSet of(long pageSize, List<PageRange> list) {
        PageRangeSet s = new PageRangeSet(pageSize);
        for (PageRange r : list) {
            s.add(r.start(), r.end());
        }
        return s;
    }

    public long pageSize() {
        return pageSize;
    }

    public boolean isEmpty() {
        return ranges.isEmpty();
    }

    public long bytes() {
        return bytes;
    }

    public long pageCount() {
        return bytes / pageSize;
    }

    public int rangeCount() {
        return ranges.size();
    }

    public void clear() {
        ranges.clear();
        bytes = 0;
    }

    public void add(PageRange r) {
        add(r.start(), r.end());
    }

    public void addAll(PageRangeSet other) {
        for (Map.Entry<Long, Long> e : other.ranges.entrySet()) {
            add(e.getKey(), e.getValue());
        }
    }

    public void addAll(List<PageRange> list) {
        for (PageRange r : list) {
            add(r.start(), r.end());
        }
    }

    /** Adds [start, end); both must be page aligned. */
    public void add(long start, long end) {
        checkRange(start, end);
        if (start == end) {
            return;
        }
        long s = start;
        long e = end;
        Map.Entry<Long, Long> before = ranges.floorEntry(s);
        if (before != null && before.getValue() >= s) {
            s = before.getKey();
            e = Math.max(e, before.getValue());
            bytes -= before.getValue() - before.getKey();
            ranges.remove(before.getKey());
        }
        Map.Entry<Long, Long> next = ranges.ceilingEntry(s);
        while (next != null && next.getKey() <= e) {
            e = Math.max(e, next.getValue());
            bytes -= next.getValue() - next.getKey();
            ranges.remove(next.getKey());
            next = ranges.ceilingEntry(s);
        }
        ranges.put(s, e);
        bytes += e - s;
    }

    /** Removes [start, end); both must be page aligned. */
    public void remove(long start, long end) {
        checkRange(start, end);
        if (start == end) {
            return;
        }
        Map.Entry<Long, Long> before = ranges.lowerEntry(start);
        if (before != null && before.getValue() > start) {
            long bs = before.getKey();
            long be = before.getValue();
            ranges.put(bs, start);
            bytes -= be - start;
            if (be > end) {
                ranges.put(end, be);
                bytes += be - end;
                return;
            }
        }
        Map.Entry<Long, Long> e = ranges.ceilingEntry(start);
        while (e != null && e.getKey() < end) {
            long rs = e.getKey();
            long re = e.getValue();
            ranges.remove(rs);
            bytes -= re - rs;
            if (re > end) {
                ranges.put(end, re);
                bytes += re - end;
                break;
            }
            e = ranges.ceilingEntry(start);
        }
    }

    public void removeAll(List<PageRange> list) {
        for (PageRange r : list) {
            remove(r.start(), r.end());
        }
    }

    public boolean contains(long addr) {
        Map.Entry<Long, Long> e = ranges.floorEntry(addr);
        return e != null && addr < e.getValue();
    }

    /** True if every page of [start, end) is in the set. */
    public boolean containsAll(long start, long end) {
        if (start == end) {
            return true;
        }
        Map.Entry<Long, Long> e = ranges.floorEntry(start);
        return e != null && end <= e.getValue();
    }

    /** The parts of this set inside {@code bounds} (sorted, disjoint ranges), as a new set. */
    public PageRangeSet intersect(List<PageRange> bounds) {
        PageRangeSet out = new PageRangeSet(pageSize);
        for (PageRange b : bounds) {
            for (PageRange r : slice(b.start(), b.end())) {
                out.add(r.start(), r.end());
            }
        }
        return out;
    }

    /** The ranges of this set clipped to [start, end), in address order. */
    public List<PageRange> slice(long start, long end) {
        List<PageRange> out = new ArrayList<>();
        Map.Entry<Long, Long> first = ranges.floorEntry(start);
        Long from = first != null && first.getValue() > start ? first.getKey() : ranges.ceilingKey(start);
        if (from == null) {
            return out;
        }
        for (Map.Entry<Long, Long> e : ranges.tailMap(from, true).entrySet()) {
            if (e.getKey() >= end) {
                break;
            }
            out.add(new PageRange(Math.max(start, e.getKey()), Math.min(end, e.getValue())));
        }
        return out;
    }

    public List<PageRange> toList() {
        List<PageRange> out = new ArrayList<>(ranges.size());
        for (Map.Entry<Long, Long> e : ranges.entrySet()) {
            out.add(new PageRange(e.getKey(), e.getValue()));
        }
        return out;
    }

    public PageRangeSet copy() {
        PageRangeSet c = new PageRangeSet(pageSize);
        c.ranges.putAll(ranges);
        c.bytes = bytes;
        return c;
    }

    private void checkRange(long start, long end) {
        if (end < start || (start & (pageSize - 1)) != 0 || (end & (pageSize - 1)) != 0) {
            throw new IllegalArgumentException(String.format(
                    "range [0x%x, 0x%x) is not a page-aligned range for page size %d", start, end, pageSize));
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PageRangeSet s && s.pageSize == pageSize && s.ranges.equals(ranges);
    }

    @Override
    public int hashCode() {
        return ranges.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("PageRangeSet{").append(pageCount()).append(" pages");
        int n = 0;
        for (Map.Entry<Long, Long> e : ranges.entrySet()) {
            if (n++ == 8) {
                b.append(", ...");
                break;
            }
            b.append(String.format(", [0x%x,0x%x)", e.getKey(), e.getValue()));
        }
        return b.append('}').toString();
    }
}
