package dev.pagehop.deploy;

import dev.pagehop.deploy.Manifests.Workload;
import dev.pagehop.proto.control.v1.AgentControlGrpc;
import io.fabric8.kubernetes.api.model.Quantity;
import dev.pagehop.security.TlsOptions;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.ContainerNetwork;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * One agent in a container of the image the build produced, started exactly as a manifest's
 * DaemonSet starts it: the same arguments, the ConfigMap's environment, the memory limit, a
 * read-only root with a tmpfs /tmp, the image's unprivileged user, and its TLS Secrets mounted
 * where the manifest mounts them (certificates from deploy/tls/dev-ca.sh, {@link DevCa}). {@code $(NODE_NAME)} becomes
 * the container's network alias, which is also the host name other agents reach it by.
 *
 * <p>Two Docker networks: the container starts on {@code control}, which carries the ports the
 * test reaches from the host, and then joins {@code agents} under its alias, which carries the
 * agent-to-agent traffic. Tests cut {@code agents} only: Docker drops a container's published
 * ports when the network they were published on is disconnected, even after a reconnect.
 */
final class AgentContainer implements AutoCloseable {
    /** Not an environment variable: a key of {@code extraEnv} that replaces the manifest's memory limit. */
    static final String MEMORY_LIMIT_OVERRIDE = "container.memory.limit.bytes";
    final String program;
    final String alias;
    final Workload manifest;
    final GenericContainer<?> container;
    private final Network agents;
    private final Map<String, Path> secrets;
    private ManagedChannel channel;
    private ManagedChannel health;

    @SuppressWarnings("resource")
    AgentContainer(String kustomization, String program, String alias, Network control, Network agents,
                   Map<String, String> extraEnv, Map<String, Path> secrets) {
        this.secrets = secrets;
        this.program = program;
        this.alias = alias;
        this.agents = agents;
        this.manifest = Manifests.workloads(kustomization, Manifests.render(kustomization), List.of()).stream()
                .filter(w -> w.program().equals(program)).findFirst()
                .orElseThrow(() -> new AssertionError(kustomization + " has no " + program));
        List<String> args = new ArrayList<>();
        for (String a : manifest.container().getArgs()) {
            args.add(a.replace("$(NODE_NAME)", alias));
        }
        Map<String, String> env = new LinkedHashMap<>(manifest.env());
        env.remove("NODE_NAME");
        env.putAll(extraEnv);
        long memoryLimit = extraEnv.containsKey(MEMORY_LIMIT_OVERRIDE) ? Long.parseLong(extraEnv.get(MEMORY_LIMIT_OVERRIDE))
                : Quantity.getAmountInBytes(manifest.container().getResources().getLimits().get("memory")).longValueExact();
        env.remove(MEMORY_LIMIT_OVERRIDE);
        container = new GenericContainer<>(DockerImageName.parse(manifest.container().getImage()))
                .withNetwork(control)
                .withCommand(args.toArray(String[]::new))
                .withEnv(env)
                .withTmpFs(Map.of("/tmp", "rw,size=64m"))
                .withExposedPorts(grpcPort(), metricsPort(), healthPort())
                // Binds through docker-java: Testcontainers' own file binds first probe mounting with
                // an alpine container, which cannot be pulled here.
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withReadonlyRootfs(true)
                        .withMemory(memoryLimit).withMemorySwap(memoryLimit).withBinds(secretBinds()))
                // No shell in the image, so no in-container port check: wait for the agent's own line.
                .waitingFor(Wait.forLogMessage(".*" + program + " .* listening grpc=.*\\n", 1)
                        .withStartupTimeout(Duration.ofSeconds(60)));
    }

    /**
     * The manifest's Secret volumes, as the kubelet would project them: each item's file of the
     * Secret's directory ({@link DevCa#secrets}) bind-mounted read-only at its path.
     */
    private List<Bind> secretBinds() {
        List<Bind> binds = new ArrayList<>();
        var pod = manifest.template().getSpec();
        for (VolumeMount m : manifest.container().getVolumeMounts()) {
            Volume v = pod.getVolumes().stream().filter(x -> x.getName().equals(m.getName())).findFirst().orElseThrow();
            if (v.getSecret() == null) {
                continue;
            }
            Path dir = secrets.get(v.getSecret().getSecretName());
            if (dir == null) {
                throw new AssertionError(manifest.where() + ": " + program + " mounts Secret " + v.getSecret().getSecretName()
                        + ", which the test did not create (it has " + secrets.keySet() + ")");
            }
            if (v.getSecret().getItems() == null || v.getSecret().getItems().isEmpty()) {
                throw new AssertionError(manifest.where() + ": " + program + " mounts Secret " + v.getSecret().getSecretName()
                        + " without items; list the keys it needs so a missing one is caught by the kubelet");
            }
            for (KeyToPath item : v.getSecret().getItems()) {
                binds.add(new Bind(dir.resolve(item.getKey()).toString(),
                        new com.github.dockerjava.api.model.Volume(m.getMountPath() + "/" + item.getPath()), AccessMode.ro));
            }
        }
        return binds;
    }

    AgentContainer start() {
        container.start();
        joinAgents();
        channel = clientChannel(secrets.get("pagehop-client-tls"));
        health = ManagedChannelBuilder.forAddress(container.getHost(), container.getMappedPort(healthPort())).usePlaintext()
                .build();
        return this;
    }

    /**
     * A channel to the agent's gRPC port as the migrate Job's client reaches it: mutual TLS with
     * the client Secret's certificate, verifying the name the agents' certificate carries.
     */
    ManagedChannel clientChannel(Path clientSecret) {
        ChannelCredentials credentials = TlsOptions.of(clientSecret.resolve("tls.crt"), clientSecret.resolve("tls.key"),
                clientSecret.resolve("ca.crt"), DevCa.AGENT, false, false).channelCredentials();
        return Grpc.newChannelBuilderForAddress(container.getHost(), container.getMappedPort(grpcPort()), credentials)
                .overrideAuthority(DevCa.AGENT).maxInboundMessageSize(64 << 20).build();
    }

    /** Puts the container on the agents' network under its alias (again, after {@link #leaveAgents}). */
    void joinAgents() {
        DockerClientFactory.instance().client().connectToNetworkCmd().withNetworkId(agents.getId())
                .withContainerId(container.getContainerId())
                .withContainerNetwork(new ContainerNetwork().withAliases(alias)).exec();
    }

    /** Cuts the container off the agents' network, as a pulled cable would; the test still reaches it. */
    void leaveAgents() {
        DockerClientFactory.instance().client().disconnectFromNetworkCmd().withNetworkId(agents.getId())
                .withContainerId(container.getContainerId()).withForce(true).exec();
    }

    int grpcPort() {
        return ManifestTest.port(manifest, "grpc");
    }

    int metricsPort() {
        return ManifestTest.port(manifest, "metrics");
    }

    int healthPort() {
        return ManifestTest.port(manifest, "health");
    }

    /** Plaintext to the health-only port, as kubelet probes it. */
    ManagedChannel health() {
        return health;
    }

    /** The address other containers use: alias:port, as in a migration's target field. */
    String address() {
        return alias + ":" + grpcPort();
    }

    ManagedChannel channel() {
        return channel;
    }

    AgentControlGrpc.AgentControlBlockingStub control() {
        return AgentControlGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    String metricsUrl() {
        return "http://" + container.getHost() + ":" + container.getMappedPort(metricsPort()) + "/metrics";
    }

    /** The agent's own log, kept for diagnosis: deploy/target/container-logs/ALIAS-CONTAINER.log. */
    private void saveLogs() {
        if (container.getContainerId() == null) {
            return;
        }
        try {
            Path dir = Manifests.DEPLOY.resolve("target/container-logs");
            java.nio.file.Files.createDirectories(dir);
            java.nio.file.Files.writeString(dir.resolve(alias + "-" + container.getContainerId().substring(0, 12) + ".log"),
                    container.getLogs());
        } catch (java.io.IOException | RuntimeException e) {
            // A container that is already gone has no logs to keep; the test's own failure says more.
        }
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (health != null) {
            health.shutdownNow();
        }
        saveLogs();
        container.stop();
    }
}
