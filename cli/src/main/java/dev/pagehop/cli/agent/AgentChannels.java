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

    /** Plaintext TCP; TLS arrives with the agents' certificate flags. */
    static AgentChannels tcp() {
        return address -> NettyChannelBuilder.forAddress(address.host(), address.port())
                .usePlaintext()
                // Large enough for a MigrationInfo with a few hundred rounds of statistics.
                .maxInboundMessageSize(64 << 20)
                .build();
    }
}
