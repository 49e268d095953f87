package dev.pagehop.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The project's manifests, rendered, and the containers in them as the kubelet would start them. */
final class Manifests {
    static final Path DEPLOY = Path.of(System.getProperty("pagehop.deploy.dir", "."));
    static final Path K8S = DEPLOY.resolve("k8s");
    /** The image name the Maven build tags (deploy/pom.xml pagehop.image.name). */
    static final String IMAGE = System.getProperty("pagehop.image.name", "pagehop:unknown");
    /** Each kustomization that users apply. */
    static final List<String> KUSTOMIZATIONS = List.of("base", "overlays/dev", "overlays/production");

    private static final Pattern VAR_REF = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

    private Manifests() {
    }

    static List<HasMetadata> render(String kustomization) {
        return Kustomization.render(K8S.resolve(kustomization));
    }

    /** Resources of the standalone examples, which are applied on top of the base. */
    static List<HasMetadata> examples() {
        List<HasMetadata> out = new ArrayList<>();
        for (Path file : yamlFiles(K8S.resolve("examples"))) {
            for (var doc : Kustomization.readDocuments(file)) {
                out.add(Kustomization.toModel(doc, file));
            }
        }
        return out;
    }

    static List<Path> yamlFiles(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh directory under the build's target directory (the container tests bind-mount from it). */
    static Path temporaryDirectory(String prefix) {
        try {
            Path base = DEPLOY.resolve("target/tmp");
            Files.createDirectories(base);
            return Files.createTempDirectory(base, prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static <T extends HasMetadata> List<T> ofType(List<HasMetadata> resources, Class<T> type) {
        return resources.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** A container of a workload with everything needed to check it against the program it runs. */
    record Workload(String where, HasMetadata owner, PodTemplateSpec template, Container container,
                    Map<String, String> env, Map<String, String> envSources, List<String> args) {
        String program() {
            return args.getFirst();
        }

        List<String> programArgs() {
            return args.subList(1, args.size());
        }
    }

    /** Every container of every DaemonSet and Job, with its environment resolved. */
    static List<Workload> workloads(String where, List<HasMetadata> resources, List<HasMetadata> configSources) {
        List<Workload> out = new ArrayList<>();
        List<ConfigMap> configMaps = new ArrayList<>(ofType(resources, ConfigMap.class));
        configMaps.addAll(ofType(configSources, ConfigMap.class));
        for (HasMetadata r : resources) {
            PodTemplateSpec template = switch (r) {
                case DaemonSet ds -> ds.getSpec().getTemplate();
                case Job job -> job.getSpec().getTemplate();
                default -> null;
            };
            if (template == null) {
                continue;
            }
            for (Container c : template.getSpec().getContainers()) {
                Map<String, String> env = new LinkedHashMap<>();
                Map<String, String> sources = new LinkedHashMap<>();
                for (EnvFromSource from : c.getEnvFrom() == null ? List.<EnvFromSource>of() : c.getEnvFrom()) {
                    String name = from.getConfigMapRef().getName();
                    ConfigMap cm = configMaps.stream().filter(m -> m.getMetadata().getName().equals(name)).findFirst()
                            .orElseThrow(() -> new AssertionError(where + ": " + r.getMetadata().getName()
                                    + " reads ConfigMap " + name + ", which is not in the manifests"));
                    cm.getData().forEach((k, v) -> {
                        env.put(k, v);
                        sources.put(k, "ConfigMap " + name + " key " + k);
                    });
                }
                for (EnvVar v : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
                    String value = v.getValue();
                    if (v.getValueFrom() != null && v.getValueFrom().getFieldRef() != null) {
                        value = "field-" + v.getValueFrom().getFieldRef().getFieldPath().replace('.', '-');
                    }
                    env.put(v.getName(), value);
                    sources.put(v.getName(), "env " + v.getName());
                }
                List<String> args = new ArrayList<>();
                for (String a : c.getArgs()) {
                    Matcher m = VAR_REF.matcher(a);
                    StringBuilder sb = new StringBuilder();
                    while (m.find()) {
                        String value = env.get(m.group(1));
                        if (value == null) {
                            throw new AssertionError(where + ": " + r.getMetadata().getName() + " argument " + a
                                    + " refers to $(" + m.group(1) + "), which the container's environment lacks");
                        }
                        m.appendReplacement(sb, Matcher.quoteReplacement(value));
                    }
                    m.appendTail(sb);
                    args.add(sb.toString());
                }
                out.add(new Workload(where, r, template, c, env, sources, List.copyOf(args)));
            }
        }
        return out;
    }

    /** Names a container's arguments refer to as $(NAME). */
    static List<String> referencedVariables(Container c) {
        List<String> out = new ArrayList<>();
        for (String a : c.getArgs()) {
            Matcher m = VAR_REF.matcher(a);
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }
}
