package dev.pagehop.security;

import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * Names a failed TLS handshake inside a gRPC status. gRPC reports one as {@code UNAVAILABLE: io
 * exception} with the {@link SSLException} only in the cause chain, which says nothing to a
 * user who reads the line; this turns it into which side refused which certificate, for the
 * peer that was dialled.
 */
public final class TlsFailures {
    private static final Pattern ALERT = Pattern.compile("Received fatal alert: ([a-z_]+)");
    /**
     * Alerts a peer sends when it refuses the certificate this side presented (or presented none):
     * RFC 8446 section 6.2.
     */
    private static final Set<String> PEER_REFUSED_OUR_CERTIFICATE = Set.of("bad_certificate", "certificate_required",
            "certificate_unknown", "unknown_ca", "certificate_expired", "certificate_revoked", "unsupported_certificate",
            "access_denied");

    private TlsFailures() {
    }

    /**
     * The handshake failure in {@code status}'s cause chain, as one line naming {@code peer}
     * ("target 10.0.0.7:7071") and the certificate it refused ({@code self}, e.g. "this source
     * agent's certificate"), or empty when the failure was not TLS.
     */
    public static Optional<String> describe(Status status, String peer, String self) {
        return status == null ? Optional.empty() : describe(status.getCause(), peer, self);
    }

    /** As {@link #describe(Status, String, String)}, for any cause chain. */
    public static Optional<String> describe(Throwable failure, String peer, String self) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = failure; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        SSLException ssl = null;
        for (Throwable t : chain) {
            if (t instanceof SSLException s) {
                ssl = s;
                break;
            }
        }
        if (ssl == null) {
            return Optional.empty();
        }
        // The innermost message is the specific one (the alert, the path that did not chain, the name not found).
        String detail = null;
        for (Throwable t : chain.subList(chain.indexOf(ssl), chain.size())) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                detail = t.getMessage();
            }
        }
        detail = detail == null ? ssl.getClass().getSimpleName() : detail;
        String why;
        Matcher alert = ALERT.matcher(detail);
        if (alert.find()) {
            String name = alert.group(1);
            why = PEER_REFUSED_OUR_CERTIFICATE.contains(name)
                    ? "it refused " + self + " (alert " + name + "; is it signed by the CA " + peer
                            + " trusts?)"
                    : "it ended the handshake with alert " + name;
        } else {
            why = "its certificate is not trusted here: " + detail;
        }
        return Optional.of("TLS handshake with " + peer + " failed: " + why);
    }
}
