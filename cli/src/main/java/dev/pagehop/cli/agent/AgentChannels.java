package dev.pagehop.cli.agent;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;

/**
 * Opens the channel to an agent. The command line uses plain TCP (Netty); tests substitute the
 * in-process transport so every command runs against agents inside the test JVM.
 */
@FunctionalInterface
public interface AgentChannels {

    ManagedChannel open(AgentAddress address);

    /** Large enough for a MigrationInfo with a few hundred rounds of statistics. */
    int MAX_MESSAGE_BYTES = 64 << 20;

    /** Plaintext TCP. */
    static AgentChannels tcp() {
        return address -> NettyChannelBuilder.forAddress(address.host(), address.port())
                .usePlaintext()
                .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                .build();
    }

    /** TCP with TLS (mutual when the client has a certificate). */
    static AgentChannels tls(ClientTls tls) {
        return address -> {
            NettyChannelBuilder b = NettyChannelBuilder.forAddress(address.host(), address.port(), tls.credentials())
                    .maxInboundMessageSize(MAX_MESSAGE_BYTES);
            if (tls.serverName() != null && !tls.serverName().isBlank()) {
                b.overrideAuthority(tls.serverName());
            }
            return b.build();
        };
    }
}
