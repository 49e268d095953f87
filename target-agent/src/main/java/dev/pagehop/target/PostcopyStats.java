package dev.pagehop.target;

import java.util.Map;

/**
 * Post-copy statistics of one migration: faults and their round-trip latency (request sent to
 * page installed, the faulting thread woken), blocked time per thread and in total (QEMU's
 * postcopy-blocktime: from the fault's message to the wake-up, summed over threads), pages by
 * how they arrived, and the bytes and time of the whole post-copy phase.
 */
record PostcopyStats(
        long faults,
        long faultsOnPagesInFlight,
        long latencyP50Ns,
        long latencyP99Ns,
        long latencyMaxNs,
        long blockedTotalNs,
        Map<Long, Long> blockedNsByThread,
        long pagesOnDemand,
        long pagesBackground,
        long pagesZeroMapped,
        long pagesDropped,
        long bytesReceived,
        long durationNs,
        long pagesMissing,
        long pauses,
        long reconnects) {
}
