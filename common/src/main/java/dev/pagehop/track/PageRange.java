package dev.pagehop.track;

/** A half-open range [start, end) of whole pages. */
public record PageRange(long start, long end) {
    public PageRange {
        if (end < start) {
            throw new IllegalArgumentException(String.format("page range end 0x%x below start 0x%x", end, start));
        }
    }

    public long lengthBytes() {
        return end - start;
    }
}
