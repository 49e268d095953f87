package dev.pagehop.security;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The mTLS options of an agent or client, as a picocli mixin ({@code @Mixin TlsOptions tls;}).
 * Certificates and keys are PEM files (keys PKCS#8, as {@code deploy/tls/dev-ca.sh} writes them).
 * A server built with {@link #serverCredentials()} requires a client certificate signed by
 * {@code --tls-ca}; a channel built with {@link #channelCredentials()} presents
 * {@code --tls-cert} and trusts only {@code --tls-ca}. Call {@link #check(String, int)} before
 * binding: it refuses half-configured TLS and plaintext on a non-loopback address.
 */
public final class TlsOptions {

    @Option(names = "--tls-cert", paramLabel = "PEM", defaultValue = "${env:PAGEHOP_TLS_CERT}",
            description = "Certificate chain presented to peers, as server and as client (env PAGEHOP_TLS_CERT).")
    Path cert;

    @Option(names = "--tls-key", paramLabel = "PEM", defaultValue = "${env:PAGEHOP_TLS_KEY}",
            description = "Private key of --tls-cert, PKCS#8 PEM (env PAGEHOP_TLS_KEY).")
    Path key;

    @Option(names = "--tls-ca", paramLabel = "PEM", defaultValue = "${env:PAGEHOP_TLS_CA}",
            description = "CA certificates trusted for peers; clients must present a certificate they sign "
                    + "(env PAGEHOP_TLS_CA).")
    Path ca;

    @Option(names = "--tls-peer-name", paramLabel = "NAME", defaultValue = "${env:PAGEHOP_TLS_PEER_NAME}",
            description = "Name to verify in the peer's certificate instead of the host dialled, e.g. pagehop-agent "
                    + "when agents are reached by IP (env PAGEHOP_TLS_PEER_NAME).")
    String peerName;

    @Option(names = "--plaintext", defaultValue = "${env:PAGEHOP_PLAINTEXT:-false}", fallbackValue = "true",
            arity = "0..1", description = "No TLS at all: for loopback development only (env PAGEHOP_PLAINTEXT).")
    boolean plaintext;

    @Option(names = "--allow-plaintext-non-loopback", defaultValue = "${env:PAGEHOP_ALLOW_PLAINTEXT_NON_LOOPBACK:-false}",
            fallbackValue = "true", arity = "0..1",
            description = "Let --plaintext listen on or dial an address that is not loopback "
                    + "(env PAGEHOP_ALLOW_PLAINTEXT_NON_LOOPBACK).")
    boolean allowPlaintextNonLoopback;

    /** For picocli. */
    public TlsOptions() {
    }

    /** Programmatic construction (tests, embedding). Null paths mean "not given". */
    public static TlsOptions of(Path cert, Path key, Path ca, String peerName, boolean plaintext,
                                boolean allowPlaintextNonLoopback) {
        TlsOptions o = new TlsOptions();
        o.cert = cert;
        o.key = key;
        o.ca = ca;
        o.peerName = peerName;
        o.plaintext = plaintext;
        o.allowPlaintextNonLoopback = allowPlaintextNonLoopback;
        return o;
    }

    public boolean plaintext() {
        return plaintext;
    }

    /**
     * The agents' reading of these options: with none of the three TLS files given, plaintext is
     * implied (as if --plaintext were passed), so a development agent on loopback needs no flag,
     * while {@link #check(String, int)} still refuses it on any other address without
     * --allow-plaintext-non-loopback. With any file given, TLS stays required.
     */
    public TlsOptions plaintextWhenNoFiles() {
        if (plaintext || cert != null || key != null || ca != null) {
            return this;
        }
        return of(null, null, null, peerName, true, allowPlaintextNonLoopback);
    }

    /** The name to verify in the peer's certificate, when it differs from the host dialled. */
    public Optional<String> peerName() {
        return Optional.ofNullable(peerName).filter(n -> !n.isBlank());
    }

    /**
     * Refuses a configuration that would run unprotected by accident: plaintext together with
     * TLS files, TLS with one of the three files missing or unreadable, and plaintext on (or to)
     * an address that is not loopback without --allow-plaintext-non-loopback.
     *
     * @param host the address the server binds or the client dials
     * @throws IllegalArgumentException naming the options and the address
     */
    public void check(String host, int port) {
        List<String> given = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (var e : List.of(new Object[] {"--tls-cert", cert}, new Object[] {"--tls-key", key}, new Object[] {"--tls-ca", ca})) {
            (e[1] == null ? missing : given).add((String) e[0]);
        }
        if (plaintext) {
            if (!given.isEmpty()) {
                throw new IllegalArgumentException("--plaintext conflicts with " + String.join(", ", given)
                        + ": choose TLS or plaintext");
            }
            if (!isLoopback(host) && !allowPlaintextNonLoopback) {
                throw new IllegalArgumentException("refusing plaintext on non-loopback address " + host + ":" + port
                        + "; pass --allow-plaintext-non-loopback to override");
            }
            return;
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("mutual TLS needs --tls-cert, --tls-key and --tls-ca; missing "
                    + String.join(", ", missing) + " (or pass --plaintext on loopback)");
        }
        for (var e : List.of(new Object[] {"--tls-cert", cert}, new Object[] {"--tls-key", key}, new Object[] {"--tls-ca", ca})) {
            Path p = (Path) e[1];
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException(e[0] + " " + p + " is not a readable file");
            }
        }
    }

    /** Server side: mutual TLS requiring a client certificate signed by --tls-ca, or plaintext. */
    public ServerCredentials serverCredentials() {
        if (plaintext) {
            return InsecureServerCredentials.create();
        }
        try {
            return TlsServerCredentials.newBuilder().keyManager(file(cert), file(key)).trustManager(file(ca))
                    .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE).build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load --tls-cert " + cert + " / --tls-key " + key + " / --tls-ca " + ca, e);
        }
    }

    /** Client side: presents --tls-cert and trusts only --tls-ca, or plaintext. */
    public ChannelCredentials channelCredentials() {
        if (plaintext) {
            return InsecureChannelCredentials.create();
        }
        try {
            return TlsChannelCredentials.newBuilder().keyManager(file(cert), file(key)).trustManager(file(ca)).build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load --tls-cert " + cert + " / --tls-key " + key + " / --tls-ca " + ca, e);
        }
    }

    private static File file(Path p) {
        return p.toFile();
    }

    /** Loopback by name or literal; an unresolvable name is not loopback (and fails later anyway). */
    static boolean isLoopback(String host) {
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
