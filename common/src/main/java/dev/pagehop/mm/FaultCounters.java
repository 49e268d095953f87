package dev.pagehop.mm;

/**
 * Monotonic counters of one address space. {@code faults}: slow-path user accesses (page
 * faults and TLB refills). {@code wpAsyncFaults}/{@code wpAsyncNanos}: write faults that cleared
 * uffd-wp in place (WP_ASYNC) and the time spent in them, fault entry to return.
 * {@code softDirtyFaults}/{@code softDirtyNanos}: write faults on ptes write-protected by
 * clear_refs 4. {@code markersInstalled}: uffd-wp PTE markers written into none ptes.
 * {@code uffdCopies}: pages installed by UFFDIO_COPY. {@code thpAllocated}/{@code thpSplits}:
 * PMD blocks mapped and split. {@code tlbShootdowns}: TLB invalidations broadcast.
 * {@code swapOuts}/{@code swapIns}: pages written to / read back from the swap device (MADV_PAGEOUT).
 */
public record FaultCounters(long faults, long wpAsyncFaults, long wpAsyncNanos, long softDirtyFaults,
        long softDirtyNanos, long markersInstalled, long uffdCopies, long thpAllocated, long thpSplits,
        long tlbShootdowns, long swapOuts, long swapIns) {
}
