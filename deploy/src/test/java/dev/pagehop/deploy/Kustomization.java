package dev.pagehop.deploy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Renders a kustomization the way {@code kubectl kustomize} does, for the subset the project's
 * manifests use: {@code resources} (files and kustomization directories), {@code namespace},
 * {@code images} and {@code patches} with JSON 6902 operations and a kind/name target. Anything
 * else in a kustomization.yaml fails loudly, so a manifest cannot use a feature this renderer
 * would silently ignore. {@code ManifestTest} checks the result against kubectl where kubectl is
 * installed.
 */
final class Kustomization {
    static final YAMLMapper YAML = YAMLMapper.builder().build();
    static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private static final Set<String> SUPPORTED = Set.of("apiVersion", "kind", "namespace", "resources", "images",
            "patches");
    /** Kinds that have no namespace; kustomize leaves them alone, except that it renames Namespaces. */
    private static final Set<String> CLUSTER_SCOPED = Set.of("Namespace", "PriorityClass", "ClusterRole",
            "ClusterRoleBinding", "CustomResourceDefinition");

    private Kustomization() {
    }

    /** The resources of the kustomization in {@code dir}, as typed fabric8 objects. */
    static List<HasMetadata> render(Path dir) {
        List<HasMetadata> out = new ArrayList<>();
        for (ObjectNode node : renderNodes(dir)) {
            out.add(toModel(node, dir));
        }
        return out;
    }

    static HasMetadata toModel(JsonNode node, Path where) {
        Object model = SERIALIZATION.unmarshal(node.toString());
        if (!(model instanceof HasMetadata resource)) {
            throw new IllegalStateException(where + ": not a Kubernetes resource: " + node);
        }
        return resource;
    }

    /** Every YAML document in a file (documents separated by ---), empty ones skipped. */
    static List<ObjectNode> readDocuments(Path file) {
        List<ObjectNode> docs = new ArrayList<>();
        try (var it = YAML.readerFor(JsonNode.class).<JsonNode>readValues(Files.readString(file))) {
            while (it.hasNextValue()) {
                JsonNode doc = it.nextValue();
                if (doc == null || doc.isNull() || doc.isMissingNode() || doc.isEmpty()) {
                    continue;
                }
                if (!(doc instanceof ObjectNode object)) {
                    throw new IllegalStateException(file + ": a document is not a mapping: " + doc);
                }
                docs.add(object);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return docs;
    }

    static List<ObjectNode> renderNodes(Path dir) {
        Path file = dir.resolve("kustomization.yaml");
        List<ObjectNode> docs = readDocuments(file);
        if (docs.size() != 1) {
            throw new IllegalStateException(file + ": expected one document, found " + docs.size());
        }
        ObjectNode k = docs.getFirst();
        for (String key : k.propertyNames()) {
            if (!SUPPORTED.contains(key)) {
                throw new IllegalStateException(file + ": '" + key + "' is not supported by the test renderer "
                        + "(supported: " + SUPPORTED + ")");
            }
        }
        List<ObjectNode> resources = new ArrayList<>();
        for (JsonNode r : k.path("resources")) {
            Path p = dir.resolve(r.asString()).normalize();
            if (Files.isDirectory(p)) {
                resources.addAll(renderNodes(p));
            } else {
                resources.addAll(readDocuments(p));
            }
        }
        for (JsonNode patch : k.path("patches")) {
            applyPatch(dir, file, patch, resources);
        }
        for (JsonNode image : k.path("images")) {
            setImage(image, resources);
        }
        if (k.has("namespace")) {
            String ns = k.get("namespace").asString();
            for (ObjectNode r : resources) {
                ObjectNode meta = (ObjectNode) r.get("metadata");
                String kind = r.path("kind").asString();
                if (kind.equals("Namespace")) {
                    meta.put("name", ns);
                } else if (!CLUSTER_SCOPED.contains(kind)) {
                    meta.put("namespace", ns);
                }
            }
        }
        return resources;
    }

    private static void applyPatch(Path dir, Path file, JsonNode patch, List<ObjectNode> resources) {
        if (!patch.has("path") || !patch.has("target") || patch.size() != 2) {
            throw new IllegalStateException(file + ": only patches with 'path' and 'target' are supported: " + patch);
        }
        String kind = patch.path("target").path("kind").asString(null);
        String name = patch.path("target").path("name").asString(null);
        JsonNode operations;
        try {
            operations = YAML.readTree(Files.readString(dir.resolve(patch.get("path").asString())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!operations.isArray()) {
            throw new IllegalStateException(file + ": patch " + patch.get("path") + " must be a JSON 6902 list of operations");
        }
        int matched = 0;
        for (int i = 0; i < resources.size(); i++) {
            ObjectNode r = resources.get(i);
            if ((kind == null || kind.equals(r.path("kind").asString()))
                    && (name == null || name.equals(r.path("metadata").path("name").asString()))) {
                resources.set(i, (ObjectNode) JsonPatch.apply(operations, r));
                matched++;
            }
        }
        if (matched == 0) {
            throw new IllegalStateException(file + ": patch " + patch.get("path") + " matches no resource (kind "
                    + kind + ", name " + name + ")");
        }
    }

    /** kustomize's image transformer: containers whose image name (without tag) matches get the new name/tag. */
    private static void setImage(JsonNode image, List<ObjectNode> resources) {
        String name = image.get("name").asString();
        for (ObjectNode r : resources) {
            JsonNode podSpec = r.path("spec").path("template").path("spec");
            if (r.path("kind").asString().equals("CronJob")) {
                podSpec = r.path("spec").path("jobTemplate").path("spec").path("template").path("spec");
            }
            for (String list : List.of("containers", "initContainers")) {
                for (JsonNode c : podSpec.path(list)) {
                    String current = c.path("image").asString();
                    String bare = current.contains("@") ? current.substring(0, current.indexOf('@'))
                            : current.lastIndexOf(':') > current.lastIndexOf('/') ? current.substring(0, current.lastIndexOf(':'))
                            : current;
                    if (!bare.equals(name)) {
                        continue;
                    }
                    String newName = image.path("newName").asString(bare);
                    String tag = current.substring(bare.length());
                    if (image.has("newTag")) {
                        tag = ":" + image.get("newTag").asString();
                    }
                    if (image.has("digest")) {
                        tag = "@" + image.get("digest").asString();
                    }
                    ((ObjectNode) c).put("image", newName + tag);
                }
            }
        }
    }
}
