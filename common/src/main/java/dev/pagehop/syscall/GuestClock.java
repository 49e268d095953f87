package dev.pagehop.syscall;

/** The clocks a guest reads (clock_gettime, CNTVCT_EL0); injected so tests control time. */
public interface GuestClock {
    long realtimeNs();

    long monotonicNs();

    GuestClock SYSTEM = new GuestClock() {
        @Override
        public long realtimeNs() {
            java.time.Instant now = java.time.Instant.now();
            return now.getEpochSecond() * 1_000_000_000L + now.getNano();
        }

        @Override
        public long monotonicNs() {
            return System.nanoTime();
        }
    };
}
