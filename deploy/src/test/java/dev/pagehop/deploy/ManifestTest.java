package dev.pagehop.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pagehop.deploy.Manifests.Workload;
import dev.pagehop.proto.control.v1.AgentControlGrpc;
import dev.pagehop.proto.migration.v1.MigrationGrpc;
import dev.pagehop.security.TlsOptions;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;

/**
 * Every manifest parsed with the fabric8 Kubernetes model and checked against the code: the
 * flags, ports and environment variables the programs really declare (their picocli specs), the
 * gRPC services they serve, the image the build tags and the user it runs as.
 */
class ManifestTest {
    static final List<String> KUSTOMIZATIONS = Manifests.KUSTOMIZATIONS;
    /** Custom resources the model has no class for; everything else must parse into a typed class. */
    static final Set<String> CUSTOM_KINDS = Set.of("ServiceMonitor", "Certificate", "Issuer");
    /** Programs that serve the agents' gRPC port, and the services each registers with gRPC health. */
    static final Map<String, Set<String>> SERVED = Map.of(
            "source-agent", Set.of(AgentControlGrpc.SERVICE_NAME),
            "target-agent", Set.of(AgentControlGrpc.SERVICE_NAME, MigrationGrpc.SERVICE_NAME));

    static List<HasMetadata> resources(String kustomization) {
        return Manifests.render(kustomization);
    }

    static List<Workload> workloads(String kustomization) {
        List<HasMetadata> rendered = resources(kustomization);
        List<Workload> all = new ArrayList<>(Manifests.workloads(kustomization, rendered, List.of()));
        all.addAll(Manifests.workloads("examples on " + kustomization, Manifests.examples(), rendered));
        return all;
    }

    static List<Workload> agents(String kustomization) {
        return workloads(kustomization).stream().filter(w -> SERVED.containsKey(w.program())).toList();
    }

    @Test
    void everyManifestFileParsesIntoTheKubernetesModel() {
        Set<Path> patches = new HashSet<>();
        for (Path k : Manifests.yamlFiles(Manifests.K8S)) {
            if (k.getFileName().toString().equals("kustomization.yaml")) {
                for (var doc : Kustomization.readDocuments(k)) {
                    doc.path("patches").forEach(p -> patches.add(k.getParent().resolve(p.path("path").asString()).normalize()));
                }
            }
        }
        int parsed = 0;
        for (Path file : Manifests.yamlFiles(Manifests.K8S)) {
            if (file.getFileName().toString().equals("kustomization.yaml") || patches.contains(file.normalize())) {
                continue;
            }
            for (var doc : Kustomization.readDocuments(file)) {
                HasMetadata r = Kustomization.toModel(doc, file);
                if (r instanceof GenericKubernetesResource g) {
                    assertThat(CUSTOM_KINDS).as("%s: kind %s has no model class: misspelt kind or apiVersion?", file, g.getKind())
                            .contains(g.getKind());
                }
                assertThat(r.getMetadata().getName()).as("%s: metadata.name", file).isNotBlank();
                parsed++;
            }
        }
        assertThat(patches).as("patch files referenced by kustomizations").isNotEmpty();
        assertThat(parsed).isGreaterThanOrEqualTo(12);
    }

    @ParameterizedTest
    @FieldSource("KUSTOMIZATIONS")
    void rendersTheSameAsKubectlKustomize(String kustomization) throws Exception {
        assumeTrue(onPath("kubectl"), "kubectl is not installed; the renderer's own checks still ran");
        Process p = new ProcessBuilder("kubectl", "kustomize", Manifests.K8S.resolve(kustomization).toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("kubectl kustomize %s: %s", kustomization, out).isZero();
        Path rendered = Files.createTempFile("kustomize", ".yaml");
        try {
            Files.writeString(rendered, out);
            // Compared as trees: kubectl sorts keys, the renderer keeps the files' order.
            Map<String, JsonNode> theirs = new TreeMap<>();
            for (var doc : Kustomization.readDocuments(rendered)) {
                HasMetadata r = Kustomization.toModel(doc, rendered);
                theirs.put(key(r), Kustomization.YAML.readTree(Kustomization.SERIALIZATION.asJson(r)));
            }
            Map<String, JsonNode> ours = new TreeMap<>();
            for (HasMetadata r : resources(kustomization)) {
                ours.put(key(r), Kustomization.YAML.readTree(Kustomization.SERIALIZATION.asJson(r)));
            }
            assertThat(ours).isEqualTo(theirs);
        } finally {
            Files.delete(rendered);
        }
    }

    @ParameterizedTest
    @FieldSource("KUSTOMIZATIONS")
    void everyContainerRunsTheImageTheBuildProduces(String kustomization) {
        List<Workload> all = workloads(kustomization);
        assertThat(all).hasSizeGreaterThanOrEqualTo(3);
        for (Workload w : all) {
            assertThat(w.container().getImage()).as("%s: image of %s", w.where(), w.owner().getMetadata().getName())
                    .isEqualTo(Manifests.IMAGE);
        }
    }

    @ParameterizedTest
    @FieldSource("KUSTOMIZATIONS")
    void containerArgumentsAndEnvironmentAreWhatTheProgramsAccept(String kustomization) {
        List<String> notYetBuilt = new ArrayList<>();
        for (Workload w : workloads(kustomization)) {
            String name = w.where() + ": " + w.owner().getMetadata().getName();
            assertThat(Entrypoint.Program.byCommand(w.program())).as("%s: first argument names an image program", name)
                    .isPresent();
            if (w.program().equals("pagehop") && !Programs.commandLine("pagehop").getSubcommands()
                    .containsKey(w.programArgs().getFirst())) {
                // The CLI's commands live on their own branch until it is merged; the check runs then.
                notYetBuilt.add(name + " runs 'pagehop " + w.programArgs().getFirst() + "', which this build's CLI lacks");
                continue;
            }
            Programs.Parsed parsed;
            try {
                parsed = Programs.parse(w.program(), w.programArgs(), w.env());
            } catch (CommandLine.ParameterException e) {
                throw new AssertionError(name + ": " + w.args() + " with environment " + w.env() + " is refused by "
                        + w.program() + ": " + e.getMessage(), e);
            }
            Set<String> declared = parsed.environment().keySet();
            List<String> referenced = Manifests.referencedVariables(w.container());
            w.envSources().forEach((var, source) -> assertThat(declared.contains(var) || referenced.contains(var))
                    .as("%s: %s sets %s, which %s neither reads (it reads %s) nor passes in an argument", name, source, var,
                            parsed.spec().qualifiedName(), declared)
                    .isTrue());
        }
        assumeTrue(notYetBuilt.isEmpty(), () -> "agents checked; not checked: " + notYetBuilt);
    }

    @ParameterizedTest
    @FieldSource("KUSTOMIZATIONS")
    void agentsListenBeyondLoopbackOnTheirDeclaredPorts(String kustomization) throws Exception {
        List<Workload> agents = agents(kustomization);
        assertThat(agents).extracting(Workload::program).containsExactlyInAnyOrder("source-agent", "target-agent");
        for (Workload w : agents) {
            Programs.Parsed p = Programs.parse(w.program(), w.programArgs(), w.env());
            String name = w.where() + ": " + w.program();
            assertThat(InetAddress.getByName(p.value("--listen")).isLoopbackAddress())
                    .as("%s: --listen %s is loopback: nothing outside the pod could connect", name, p.value("--listen")).isFalse();
            assertThat(InetAddress.getByName(p.value("--metrics-host")).isLoopbackAddress())
                    .as("%s: --metrics-host %s is loopback: Prometheus could not scrape", name, p.value("--metrics-host")).isFalse();
            assertThat(port(w, "grpc")).as("%s: container port 'grpc' vs --port", name).isEqualTo(p.intValue("--port"));
            assertThat(port(w, "metrics")).as("%s: container port 'metrics' vs --metrics-port", name)
                    .isEqualTo(p.intValue("--metrics-port"));
            Map<String, String> annotations = w.template().getMetadata().getAnnotations();
            assertThat(annotations).as("%s: Prometheus scrape annotations", name)
                    .containsEntry("prometheus.io/scrape", "true")
                    .containsEntry("prometheus.io/path", "/metrics")
                    .containsEntry("prometheus.io/port", String.valueOf(p.intValue("--metrics-port")));
        }
    }

    @ParameterizedTest
    @FieldSource("KUSTOMIZATIONS")
    void probesAskTheAgentsGrpcHealthServiceForServicesTheyServe(String kustomization) {
        for (Workload w : agents(kustomization)) {
            Programs.Parsed p = Programs.parse(w.program(), w.programArgs(), w.env());
            Container c = w.container();
            String name = w.where() + ": " + w.program();
            for (Probe probe : Stream.of(c.getStartupProbe(), c.getReadinessProbe(), c.getLivenessProbe()).toList()) {
                assertThat(probe).as("%s: startup, readiness and liveness probes", name).isNotNull();
                assertThat(probe.getGrpc()).as("%s: probes use grpc.health.v1.Health", name).isNotNull();
                // The gRPC port requires a client certificate kubelet does not have: probes go to
                // the plaintext health-only port, which reports the gRPC port's statuses.
                assertThat(probe.getGrpc().getPort()).as("%s: probe port vs --health-port", name)
                        .isEqualTo(p.intValue("--health-port")).isEqualTo(port(w, "health")).isNotEqualTo(p.intValue("--port"));
                String service = Objects.requireNonNullElse(probe.getGrpc().getService(), "");
                if (!service.isEmpty()) {
                    assertThat(SERVED.get(w.program())).as("%s: probe asks about a service the agent does not serve", name)
                            .contains(service);
                }
            }
            // Readiness names a service, so the agent is ready only once that service is up.
            assertThat(c.getReadinessProbe().getGrpc().getService()).isNotBlank();
        }
    }

    @ParameterizedTest
    @FieldSource("KUSTOMIZATIONS")
    @SuppressWarnings("unchecked")
    void agentsServeAndDialMutualTlsWithTheMountedSecretsFiles(String kustomization) {
        String peerName = null;
        for (Workload w : agents(kustomization)) {
            Programs.Parsed p = Programs.parse(w.program(), w.programArgs(), w.env());
            String name = w.where() + ": " + w.program();
            assertThat(p.value("--plaintext")).as("%s: --plaintext", name).isEqualTo("false");
            assertThat(p.value("--allow-plaintext-non-loopback")).as("%s: --allow-plaintext-non-loopback", name).isEqualTo("false");
            for (String flag : List.of("--tls-cert", "--tls-key", "--tls-ca")) {
                assertThat(p.value(flag)).as("%s: %s", name, flag).isNotBlank();
                assertThat(secretFile(w, p.value(flag)).secret()).as("%s: %s", name, flag).isEqualTo("pagehop-agent-tls");
            }
            // The agents' own reading: with the three files given, TLS is required, never plaintext.
            assertThat(TlsOptions.of(Path.of(p.value("--tls-cert")), Path.of(p.value("--tls-key")), Path.of(p.value("--tls-ca")),
                    p.value("--tls-peer-name"), false, false).plaintextWhenNoFiles().plaintext()).as(name).isFalse();
            if (w.program().equals("source-agent")) {
                // Targets are dialled by pod IP, which no certificate names.
                peerName = p.value("--tls-peer-name");
                assertThat(peerName).as("%s: --tls-peer-name", name).isNotBlank();
            }
        }
        for (Workload w : workloads(kustomization)) {
            if (!w.program().equals("pagehop")) {
                continue;
            }
            Programs.Parsed p = Programs.parse(w.program(), w.programArgs(), w.env());
            String name = w.where() + ": " + w.owner().getMetadata().getName();
            assertThat(p.value("--plaintext")).as("%s: --plaintext", name).isEqualTo("false");
            for (String flag : List.of("--tls-cert", "--tls-key", "--tls-ca")) {
                assertThat(p.value(flag)).as("%s: %s", name, flag).isNotBlank();
                assertThat(secretFile(w, p.value(flag)).secret()).as("%s: %s", name, flag).isEqualTo("pagehop-client-tls");
            }
            assertThat(p.value("--tls-peer-name")).as("%s: the CLI's --tls-peer-name vs the agents'", name)
                    .isEqualTo(peerName);
        }
        // Each way of creating the Secrets (deploy/README.md) issues the agents' certificate for that name.
        Path dir = Manifests.temporaryDirectory("dev-ca");
        DevCa.create(dir, DevCa.AGENT, DevCa.CLIENT);
        assertThat(DevCa.dnsNames(dir.resolve(DevCa.AGENT + ".crt"))).as("dev-ca.sh's agent certificate").contains(peerName);
        GenericKubernetesResource agentCertificate = Manifests.ofType(Manifests.examples(), GenericKubernetesResource.class).stream()
                .filter(r -> r.getKind().equals("Certificate") && "pagehop-agent-tls".equals(spec(r).get("secretName")))
                .findFirst().orElseThrow(() -> new AssertionError("examples: no cert-manager Certificate for pagehop-agent-tls"));
        assertThat((List<Object>) spec(agentCertificate).get("dnsNames")).as("cert-manager Certificate %s dnsNames",
                agentCertificate.getMetadata().getName()).contains(peerName);
        for (GenericKubernetesResource c : Manifests.ofType(Manifests.examples(), GenericKubernetesResource.class)) {
            if (c.getKind().equals("Certificate")) {
                // Netty loads PKCS#8 keys; cert-manager's default for ECDSA is SEC1.
                assertThat(((Map<?, ?>) spec(c).get("privateKey")).get("encoding")).as("Certificate %s key encoding",
                        c.getMetadata().getName()).isEqualTo("PKCS8");
            }
        }
    }

    private static Map<?, ?> spec(GenericKubernetesResource r) {
        return (Map<?, ?>) r.getAdditionalProperties().get("spec");
    }

    /** Which Secret key a file path of a container is, via its read-only Secret volume mounts. */
    record SecretFile(String secret, String key) {
    }

    static SecretFile secretFile(Workload w, String file) {
        String name = w.where() + ": " + w.owner().getMetadata().getName();
        var pod = w.template().getSpec();
        for (VolumeMount m : w.container().getVolumeMounts()) {
            String prefix = m.getMountPath().endsWith("/") ? m.getMountPath() : m.getMountPath() + "/";
            if (!file.startsWith(prefix)) {
                continue;
            }
            String relative = file.substring(prefix.length());
            Volume v = pod.getVolumes().stream().filter(x -> x.getName().equals(m.getName())).findFirst()
                    .orElseThrow(() -> new AssertionError(name + ": mount " + m.getName() + " has no volume"));
            assertThat(v.getSecret()).as("%s: %s is on volume %s, which is not a Secret", name, file, v.getName()).isNotNull();
            assertThat(m.getReadOnly()).as("%s: Secret mount %s read-only", name, m.getMountPath()).isTrue();
            var secret = v.getSecret();
            String key = relative;
            Integer mode = secret.getDefaultMode();
            if (secret.getItems() != null && !secret.getItems().isEmpty()) {
                var item = secret.getItems().stream().filter(i -> i.getPath().equals(relative)).findFirst()
                        .orElseThrow(() -> new AssertionError(name + ": " + file + " is not among the items of Secret volume "
                                + v.getName() + " (" + secret.getItems() + ")"));
                key = item.getKey();
                mode = item.getMode() != null ? item.getMode() : mode;
            }
            int effective = mode == null ? 0644 : mode;
            Long fsGroup = pod.getSecurityContext().getFsGroup();
            // The kubelet makes fsGroup the files' group; otherwise only "other" bits reach the agent's user.
            boolean readable = (effective & 0004) != 0 || (fsGroup != null && (effective & 0040) != 0);
            assertThat(readable).as("%s: %s (mode %o, fsGroup %s) readable by the pod's user", name, file, effective, fsGroup)
                    .isTrue();
            return new SecretFile(secret.getSecretName(), key);
        }
        throw new AssertionError(name + ": " + file + " is under no volume mount (mounts: "
                + w.container().getVolumeMounts().stream().map(VolumeMount::getMountPath).toList() + ")");
    }

    @ParameterizedTest
    @FieldSource("KUSTOMIZATIONS")
    void podsRunAsTheImagesUnprivilegedUserWithAReadOnlyRoot(String kustomization) throws IOException {
        long imageUser = imageUser();
        for (Workload w : workloads(kustomization)) {
            String name = w.where() + ": " + w.owner().getMetadata().getName();
            var pod = w.template().getSpec();
            assertThat(pod.getSecurityContext().getRunAsNonRoot()).as("%s: runAsNonRoot", name).isTrue();
            assertThat(pod.getSecurityContext().getRunAsUser()).as("%s: runAsUser vs the image's USER", name).isEqualTo(imageUser);
            assertThat(pod.getAutomountServiceAccountToken()).as("%s: no API token", name).isFalse();
            var sc = w.container().getSecurityContext();
            assertThat(sc.getReadOnlyRootFilesystem()).as("%s: read-only root", name).isTrue();
            assertThat(sc.getAllowPrivilegeEscalation()).as("%s: no privilege escalation", name).isFalse();
            assertThat(sc.getCapabilities().getDrop()).as("%s: capabilities", name).containsExactly("ALL");
            VolumeMount tmp = w.container().getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/tmp"))
                    .findFirst().orElseThrow(() -> new AssertionError(name + ": no writable /tmp (the JVM needs one)"));
            Volume volume = pod.getVolumes().stream().filter(v -> v.getName().equals(tmp.getName())).findFirst().orElseThrow();
            assertThat(volume.getEmptyDir()).as("%s: /tmp is an emptyDir", name).isNotNull();
        }
    }

    @ParameterizedTest
    @FieldSource("KUSTOMIZATIONS")
    void everyContainerRequestsResourcesAndHasAMemoryLimitAboveItsRequest(String kustomization) {
        for (Workload w : workloads(kustomization)) {
            String name = w.where() + ": " + w.owner().getMetadata().getName();
            var res = w.container().getResources();
            assertThat(res.getRequests()).as("%s: requests", name).containsKeys("cpu", "memory");
            assertThat(res.getLimits()).as("%s: limits", name).containsKey("memory");
            assertThat(Quantity.getAmountInBytes(res.getLimits().get("memory")))
                    .as("%s: memory limit >= request", name)
                    .isGreaterThanOrEqualTo(Quantity.getAmountInBytes(res.getRequests().get("memory")));
        }
    }

    /*
     * The footprint model (BENCHMARKS.md, "Deployment"): an idle agent's container, plus the Java
     * heap at its cap (generational ZGC grows the heap towards -XX:MaxRAMPercentage of the
     * container's limit before it collects hard, so the cap is what to plan for), plus native
     * memory beside it (metaspace, code, Netty's buffers, ZGC's own tables), plus the frames of the
     * emulated processes, which are off-heap: a source's largest process, a target's memory
     * budget (--max-total-memory: what it runs plus what is arriving). Every point FootprintRunner
     * and ResourceRunner measured lies below it.
     */
    static final long MIB = 1 << 20;
    /** 146-148 MiB of cgroup usage idle (FootprintRunner, 2026-11-26 10:4x, ZGC, mutual TLS). */
    static final long IDLE_BYTES = 150 * MIB;
    static final long NATIVE_BYTES = 128 * MIB;

    /** The heap cap the image's entrypoint sets, as a share of the container's memory limit. */
    static long heapCapBytes(long limit) {
        try {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("MaxRAMPercentage=(\\d+)")
                    .matcher(java.nio.file.Files.readString(Manifests.DEPLOY.resolve("image/Dockerfile")));
            assertThat(m.find()).as("the Dockerfile sets -XX:MaxRAMPercentage").isTrue();
            return limit * Integer.parseInt(m.group(1)) / 100;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static long footprintBytes(long limit, long frames) {
        return IDLE_BYTES + heapCapBytes(limit) + NATIVE_BYTES + frames;
    }

    @ParameterizedTest
    @FieldSource("KUSTOMIZATIONS")
    void memoryLimitsHoldTheLargestWorkTheAgentsLimitsAdmit(String kustomization) {
        for (Workload w : agents(kustomization)) {
            Programs.Parsed p = Programs.parse(w.program(), w.programArgs(), w.env());
            long limit = Quantity.getAmountInBytes(w.container().getResources().getLimits().get("memory")).longValueExact();
            long request = Quantity.getAmountInBytes(w.container().getResources().getRequests().get("memory")).longValueExact();
            long needed;
            long typical;
            if (w.program().equals("source-agent")) {
                long maxProcess = Long.parseLong(p.value("--max-process-memory"));
                needed = footprintBytes(limit, maxProcess);
                typical = IDLE_BYTES + maxProcess;
            } else {
                long maxProcess = Long.parseLong(p.value("--max-memory"));
                long total = Long.parseLong(p.value("--max-total-memory"));
                assertThat(total).as("%s: the target's memory budget is set explicitly", kustomization).isPositive();
                needed = footprintBytes(limit, total);
                typical = IDLE_BYTES + maxProcess;
            }
            assertThat(limit).as("%s: %s memory limit vs the measured footprint of what its limits admit (%d MiB)",
                    kustomization, w.program(), needed / MIB).isGreaterThanOrEqualTo(needed);
            assertThat(request).as("%s: %s memory request holds one process at the limit", kustomization, w.program())
                    .isGreaterThanOrEqualTo(typical);
        }
    }

    @ParameterizedTest
    @FieldSource("KUSTOMIZATIONS")
    void servicesSelectTheAgentsAndExposeTheirNamedPorts(String kustomization) {
        List<HasMetadata> rendered = resources(kustomization);
        List<Workload> agents = agents(kustomization);
        List<Service> services = Manifests.ofType(rendered, Service.class);
        assertThat(services).hasSize(2);
        for (Service s : services) {
            List<Workload> selected = agents.stream()
                    .filter(w -> w.template().getMetadata().getLabels().entrySet().containsAll(s.getSpec().getSelector().entrySet()))
                    .toList();
            assertThat(selected).as("%s: Service %s selects exactly one agent", kustomization, s.getMetadata().getName()).hasSize(1);
            for (ServicePort sp : s.getSpec().getPorts()) {
                IntOrString target = sp.getTargetPort();
                int containerPort = port(selected.getFirst(), target.getStrVal());
                assertThat(sp.getPort()).as("%s: Service %s port %s", kustomization, s.getMetadata().getName(), sp.getName())
                        .isEqualTo(containerPort);
            }
        }
        for (GenericKubernetesResource monitor : Manifests.ofType(rendered, GenericKubernetesResource.class)) {
            if (!monitor.getKind().equals("ServiceMonitor")) {
                continue;
            }
            Map<?, ?> spec = (Map<?, ?>) monitor.getAdditionalProperties().get("spec");
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> endpoints = (List<Map<String, Object>>) spec.get("endpoints");
            assertThat(endpoints).isNotEmpty();
            for (Map<String, Object> e : endpoints) {
                for (Service s : services) {
                    assertThat(s.getSpec().getPorts()).extracting(ServicePort::getName).contains((String) e.get("port"));
                }
                assertThat(e.get("path")).isEqualTo("/metrics");
            }
            assertThat(monitor.getMetadata().getNamespace()).isNotBlank();
        }
    }

    @ParameterizedTest
    @FieldSource("KUSTOMIZATIONS")
    void networkPoliciesLetOnlySourcesAndClientsReachAgents(String kustomization) {
        List<HasMetadata> rendered = resources(kustomization);
        List<Workload> all = workloads(kustomization);
        Workload source = all.stream().filter(w -> w.program().equals("source-agent")).findFirst().orElseThrow();
        Workload target = all.stream().filter(w -> w.program().equals("target-agent")).findFirst().orElseThrow();
        Workload client = all.stream().filter(w -> w.program().equals("pagehop")).findFirst().orElseThrow();
        List<NetworkPolicy> policies = Manifests.ofType(rendered, NetworkPolicy.class);
        NetworkPolicy toTarget = policyFor(policies, target);
        NetworkPolicy toSource = policyFor(policies, source);
        int targetGrpc = port(target, "grpc");
        int sourceGrpc = port(source, "grpc");
        // Who may open the target's gRPC port: the source agents and clients, nobody else.
        assertThat(admitted(toTarget, targetGrpc, source)).as("source agent → target gRPC").isTrue();
        assertThat(admitted(toTarget, targetGrpc, client)).as("client → target gRPC").isTrue();
        assertThat(admitted(toTarget, targetGrpc, target)).as("target → target gRPC").isFalse();
        assertThat(admitted(toSource, sourceGrpc, client)).as("client → source gRPC").isTrue();
        assertThat(admitted(toSource, sourceGrpc, target)).as("target → source gRPC").isFalse();
        assertThat(admitted(toSource, sourceGrpc, source)).as("source → source gRPC").isFalse();
        // Every port a policy opens is one the selected agent listens on.
        for (var pair : List.of(Map.entry(toTarget, target), Map.entry(toSource, source))) {
            Set<Integer> ports = new HashSet<>();
            pair.getValue().container().getPorts().forEach(p -> ports.add(p.getContainerPort()));
            for (NetworkPolicyIngressRule rule : pair.getKey().getSpec().getIngress()) {
                for (NetworkPolicyPort p : rule.getPorts()) {
                    assertThat(ports).as("%s opens port %s", pair.getKey().getMetadata().getName(), p.getPort().getIntVal())
                            .contains(p.getPort().getIntVal());
                }
            }
        }
    }

    private static NetworkPolicy policyFor(List<NetworkPolicy> policies, Workload w) {
        Map<String, String> labels = w.template().getMetadata().getLabels();
        List<NetworkPolicy> matching = policies.stream()
                .filter(p -> labels.entrySet().containsAll(p.getSpec().getPodSelector().getMatchLabels().entrySet())).toList();
        assertThat(matching).as("NetworkPolicies selecting %s", w.program()).hasSize(1);
        assertThat(matching.getFirst().getSpec().getPolicyTypes()).contains("Ingress");
        return matching.getFirst();
    }

    /** Whether a pod of {@code from} (same namespace) may connect to {@code port} under {@code policy}. */
    private static boolean admitted(NetworkPolicy policy, int port, Workload from) {
        Map<String, String> labels = from.template().getMetadata().getLabels();
        for (NetworkPolicyIngressRule rule : policy.getSpec().getIngress()) {
            boolean portOk = rule.getPorts().stream().anyMatch(p -> p.getPort().getIntVal() == port);
            for (NetworkPolicyPeer peer : rule.getFrom()) {
                if (portOk && peer.getNamespaceSelector() == null && peer.getPodSelector() != null
                        && labels.entrySet().containsAll(peer.getPodSelector().getMatchLabels().entrySet())) {
                    return true;
                }
            }
        }
        return false;
    }

    static int port(Workload w, String name) {
        return w.container().getPorts().stream().filter(p -> name.equals(p.getName())).map(ContainerPort::getContainerPort)
                .findFirst().orElseThrow(() -> new AssertionError(w.where() + ": " + w.program() + " has no container port named "
                        + name));
    }

    /** The numeric USER of deploy/image/Dockerfile. */
    static long imageUser() throws IOException {
        return Files.readAllLines(Manifests.DEPLOY.resolve("image/Dockerfile")).stream()
                .filter(l -> l.startsWith("USER ")).map(l -> l.substring(5).trim().split(":")[0]).map(Long::parseLong)
                .findFirst().orElseThrow(() -> new AssertionError("deploy/image/Dockerfile has no USER line"));
    }

    private static String key(HasMetadata r) {
        return r.getKind() + "/" + Objects.requireNonNullElse(r.getMetadata().getNamespace(), "") + "/" + r.getMetadata().getName();
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
