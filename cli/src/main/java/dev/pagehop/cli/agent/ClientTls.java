package dev.pagehop.cli.agent;

import dev.pagehop.cli.CliFailure;
import dev.pagehop.cli.ExitCode;
import dev.pagehop.security.TlsOptions;
import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * TLS towards an agent: the CA bundle that signs agents' certificates, optionally this client's
 * certificate and key (mutual TLS), and the name to expect in the agent's certificate when it is
 * reached by an address its certificate does not name (a pod IP, a port-forward).
 *
 * @param certChain  PEM certificate chain of this client, or null for server-authenticated TLS
 * @param privateKey PEM private key matching {@code certChain}, or null
 * @param trust      PEM CA bundle to verify the agent with, or null for the JDK's default trust store
 * @param serverName name to verify in the agent's certificate, or null for the address's host
 */
public record ClientTls(Path certChain, Path privateKey, Path trust, String serverName) {

    public ClientTls {
        if ((certChain == null) != (privateKey == null)) {
            throw new CliFailure(ExitCode.USAGE, "--tls-cert and --tls-key go together (got only "
                    + (certChain != null ? "--tls-cert " + certChain : "--tls-key " + privateKey) + ")");
        }
        for (Path p : new Path[] {certChain, privateKey, trust}) {
            if (p != null && !Files.isReadable(p)) {
                throw new CliFailure(ExitCode.USAGE, "TLS file " + p + " does not exist or cannot be read");
            }
        }
    }

    public ChannelCredentials credentials() {
        if (certChain != null && trust != null) {
            // Mutual TLS: the very builder the agents use for their own outbound channels.
            try {
                return TlsOptions.of(certChain, privateKey, trust, serverName, false, false).channelCredentials();
            } catch (UncheckedIOException | IllegalArgumentException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                throw new CliFailure(ExitCode.USAGE, "cannot load TLS files (cert " + certChain + ", key " + privateKey
                        + ", trust " + trust + "): " + cause.getMessage(), e);
            }
        }
        // Server-authenticated TLS only (no client certificate), or the JDK's trust store.
        try {
            TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
            if (certChain != null) {
                b.keyManager(certChain.toFile(), privateKey.toFile());
            }
            if (trust != null) {
                b.trustManager(trust.toFile());
            }
            return b.build();
        } catch (IOException | IllegalArgumentException e) {
            throw new CliFailure(ExitCode.USAGE, "cannot load TLS files (cert " + certChain + ", key " + privateKey
                    + ", trust " + trust + "): " + e.getMessage(), e);
        }
    }
}
