package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentChannels;
import dev.pagehop.cli.agent.ClientTls;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * How the command reaches agents that require TLS. Each flag defaults to its environment
 * variable, so a Kubernetes Job can pass certificates by env. Without any TLS file the connection
 * is plaintext (agents serve plaintext only on loopback).
 */
final class TlsOptions {

    @Option(names = "--tls-cert", paramLabel = "PEM", defaultValue = "${env:PAGEHOP_TLS_CERT}",
            description = "Client certificate chain for mutual TLS (env PAGEHOP_TLS_CERT).")
    Path cert;

    @Option(names = "--tls-key", paramLabel = "PEM", defaultValue = "${env:PAGEHOP_TLS_KEY}",
            description = "Private key of --tls-cert (env PAGEHOP_TLS_KEY).")
    Path key;

    @Option(names = "--tls-trust", paramLabel = "PEM", defaultValue = "${env:PAGEHOP_TLS_TRUST}",
            description = "CA bundle that signs the agents' certificates (env PAGEHOP_TLS_TRUST).")
    Path trust;

    @Option(names = "--tls-server-name", paramLabel = "NAME", defaultValue = "${env:PAGEHOP_TLS_SERVER_NAME}",
            description = "Name to verify in the agent's certificate, when the address is not in it (env PAGEHOP_TLS_SERVER_NAME).")
    String serverName;

    @Option(names = "--plaintext", defaultValue = "${env:PAGEHOP_PLAINTEXT:-false}",
            description = "No TLS, even if TLS variables are set (env PAGEHOP_PLAINTEXT).")
    boolean plaintext;

    boolean enabled() {
        return !plaintext && (cert != null || key != null || trust != null || serverName != null);
    }

    /** TLS channels when asked for; otherwise whatever the context provides (plaintext TCP, or in-process in tests). */
    AgentChannels channels(AgentChannels otherwise) {
        return enabled() ? AgentChannels.tls(new ClientTls(cert, key, trust, serverName)) : otherwise;
    }
}
