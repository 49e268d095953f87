package dev.pagehop.target;

import java.util.Optional;

/**
 * A target agent's post-copy figures, read in the agent's own JVM. The lazy pager keeps the
 * fault round-trip histogram (demand request sent to page installed and the faulting thread
 * woken) and the blocked time (fault message read to wake-up); the fault round-trip benchmark
 * runs the target agent in its JVM and reads them here, next to the pager, because that is where
 * they are exact (percentiles from the full histogram, not from a summary).
 */
public final class PostcopyProbe {

    private PostcopyProbe() {
    }

    /**
     * @param latencyP50Ns fault round trip, median (only faults that sent a demand request)
     * @param blockedTotalNs summed over threads: fault read to wake-up (QEMU postcopy-blocktime)
     */
    public record Figures(long faults, long faultsOnPagesInFlight, long latencyP50Ns, long latencyP99Ns,
            long latencyMaxNs, long blockedTotalNs, long pagesOnDemand, long pagesBackground, long pagesZeroMapped,
            long bytesReceived, long durationNs, long pagesMissing) {

        /** Mean time a faulting thread slept per fault that reached the pager. */
        public double meanBlockedNsPerFault() {
            return faults == 0 ? Double.NaN : (double) blockedTotalNs / faults;
        }
    }

    /** The figures of {@code migrationId} on {@code server}, if it went post-copy there. */
    public static Optional<Figures> of(TargetAgentServer server, String migrationId) {
        TargetMigration m = server.state().migration(migrationId);
        if (m == null || m.postcopy() == null) {
            return Optional.empty();
        }
        LazyPager pager = m.postcopy().pager();
        if (pager == null) {
            return Optional.empty();
        }
        PostcopyStats s = pager.stats();
        return Optional.of(new Figures(s.faults(), s.faultsOnPagesInFlight(), s.latencyP50Ns(), s.latencyP99Ns(),
                s.latencyMaxNs(), s.blockedTotalNs(), s.pagesOnDemand(), s.pagesBackground(), s.pagesZeroMapped(),
                s.bytesReceived(), s.durationNs(), s.pagesMissing()));
    }
}
