package dev.pagehop.uffd;

/** struct page_region: [start, end) with the categories of every page in it. */
public record PageRegion(long start, long end, long categories) {
}
