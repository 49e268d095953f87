package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentChannels;
import dev.pagehop.cli.agent.ClientTls;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Option;

/**
 * How the command reaches agents that require TLS. The flags and their environment variables are
 * the agents' own ({@code --tls-cert}, {@code --tls-key}, {@code --tls-ca}, {@code --tls-peer-name};
 * {@code PAGEHOP_TLS_*}), so one set of settings serves an agent and the command line beside it.
 * The command line's first names, {@code --tls-trust} and {@code --tls-server-name} (and
 * {@code PAGEHOP_TLS_TRUST}, {@code PAGEHOP_TLS_SERVER_NAME}), still work. Without any TLS setting
 * the connection is plaintext (agents serve plaintext only on loopback).
 */
final class TlsOptions {
    static final String LEGACY_CA_ENV = "PAGEHOP_TLS_TRUST";
    static final String LEGACY_PEER_NAME_ENV = "PAGEHOP_TLS_SERVER_NAME";

    @Option(names = "--tls-cert", paramLabel = "PEM", defaultValue = "${env:PAGEHOP_TLS_CERT}",
            description = "Client certificate chain for mutual TLS (env PAGEHOP_TLS_CERT).")
    Path cert;

    @Option(names = "--tls-key", paramLabel = "PEM", defaultValue = "${env:PAGEHOP_TLS_KEY}",
            description = "Private key of --tls-cert (env PAGEHOP_TLS_KEY).")
    Path key;

    @Option(names = {"--tls-ca", "--tls-trust"}, paramLabel = "PEM", defaultValue = "${env:PAGEHOP_TLS_CA}",
            description = "CA certificates that sign the agents' certificates, as the agents' --tls-ca "
                    + "(env PAGEHOP_TLS_CA; --tls-trust and PAGEHOP_TLS_TRUST are older names).")
    Path ca;

    @Option(names = {"--tls-peer-name", "--tls-server-name"}, paramLabel = "NAME",
            defaultValue = "${env:PAGEHOP_TLS_PEER_NAME}",
            description = "Name to verify in the agent's certificate when the address is not in it, e.g. pagehop-agent "
                    + "for a pod IP, as the agents' --tls-peer-name (env PAGEHOP_TLS_PEER_NAME; --tls-server-name and "
                    + "PAGEHOP_TLS_SERVER_NAME are older names).")
    String peerName;

    @Option(names = "--plaintext", defaultValue = "${env:PAGEHOP_PLAINTEXT:-false}",
            description = "No TLS, even if TLS variables are set (env PAGEHOP_PLAINTEXT).")
    boolean plaintext;

    /** TLS channels when asked for; otherwise whatever the context provides (plaintext TCP, or in-process in tests). */
    AgentChannels channels(AgentChannels otherwise) {
        ClientTls tls = settings(System::getenv);
        return tls != null ? AgentChannels.tls(tls) : otherwise;
    }

    /**
     * The TLS settings, or null for none. {@code env} looks up the older variables, which count
     * only where neither a flag nor the current variable gave a value.
     */
    ClientTls settings(UnaryOperator<String> env) {
        Path trust = ca;
        String legacyCa = blankToNull(env.apply(LEGACY_CA_ENV));
        if (trust == null && legacyCa != null) {
            trust = Path.of(legacyCa);
        }
        String name = peerName != null ? peerName : blankToNull(env.apply(LEGACY_PEER_NAME_ENV));
        if (plaintext || (cert == null && key == null && trust == null && name == null)) {
            return null;
        }
        return new ClientTls(cert, key, trust, name);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
