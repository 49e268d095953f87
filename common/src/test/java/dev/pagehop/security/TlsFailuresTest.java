package dev.pagehop.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import java.io.IOException;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class TlsFailuresTest {
    static final String PEER = "target 10.0.0.7:7071";
    static final String SELF = "this source agent's certificate";

    @Test
    void anAlertRefusingOurCertificateSaysThePeerRefusedIt() {
        Status s = Status.UNAVAILABLE.withDescription("io exception")
                .withCause(new SSLHandshakeException("Received fatal alert: certificate_unknown"));
        assertThat(TlsFailures.describe(s, PEER, SELF)).hasValue("TLS handshake with target 10.0.0.7:7071 failed: it refused "
                + "this source agent's certificate (alert certificate_unknown; is it signed by the CA target 10.0.0.7:7071 "
                + "trusts?)");
    }

    @Test
    void anotherAlertIsNamedAsIs() {
        Status s = Status.UNAVAILABLE.withCause(new IOException("wrapped",
                new SSLHandshakeException("(handshake_failure) Received fatal alert: handshake_failure")));
        assertThat(TlsFailures.describe(s, PEER, SELF))
                .hasValue("TLS handshake with target 10.0.0.7:7071 failed: it ended the handshake with alert handshake_failure");
    }

    @Test
    void aPeerCertificateRefusedHereCarriesTheInnermostReason() {
        SSLHandshakeException e = new SSLHandshakeException("General SSLEngine problem");
        e.initCause(new CertificateException("No subject alternative DNS name matching wrong-name found."));
        assertThat(TlsFailures.describe(Status.UNAVAILABLE.withCause(e), PEER, SELF)).hasValue("TLS handshake with target "
                + "10.0.0.7:7071 failed: its certificate is not trusted here: No subject alternative DNS name matching "
                + "wrong-name found.");
    }

    @Test
    void failuresThatAreNotTlsAreLeftAlone() {
        assertThat(TlsFailures.describe(Status.UNAVAILABLE.withCause(new IOException("Connection refused")), PEER, SELF))
                .isEmpty();
        assertThat(TlsFailures.describe(Status.UNAVAILABLE.withDescription("Network closed for unknown reason"), PEER, SELF))
                .isEmpty();
        assertThat(TlsFailures.describe((Status) null, PEER, SELF)).isEmpty();
    }
}
