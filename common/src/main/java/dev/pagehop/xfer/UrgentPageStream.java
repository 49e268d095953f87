package dev.pagehop.xfer;

import io.grpc.Metadata;

/**
 * How a source marks post-copy's urgent page stream when it opens it, so that the target can
 * choose where its messages are handled before the first one arrives: a faulting thread waits
 * on every hand-off between threads, and the urgent stream's supplies are a few KiB each, cheap
 * enough to handle on the transport's own thread (the bulk stream's megabytes are not).
 */
public final class UrgentPageStream {
    /** Request header of a PageRequests call; {@link #URGENT} on the urgent stream, absent otherwise. */
    public static final Metadata.Key<String> HEADER = Metadata.Key.of("pagehop-page-stream",
            Metadata.ASCII_STRING_MARSHALLER);
    public static final String URGENT = "urgent";

    private UrgentPageStream() {
    }

    /** The headers that mark a call as the urgent page stream. */
    public static Metadata headers() {
        Metadata m = new Metadata();
        m.put(HEADER, URGENT);
        return m;
    }

    /** Whether {@code headers} mark the urgent page stream. */
    public static boolean isUrgent(Metadata headers) {
        return URGENT.equals(headers.get(HEADER));
    }
}
