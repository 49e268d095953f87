package dev.pagehop.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The Grafana dashboard in deploy/grafana, and the metric names its queries use. */
final class Dashboard {
    static final Path FILE = Manifests.DEPLOY.resolve("grafana/pagehop-dashboard.json");
    private static final Pattern PAGEHOP_METRIC = Pattern.compile("\\bpagehop_[a-z0-9_]+");

    private Dashboard() {
    }

    static JsonNode read() {
        try {
            return JsonMapper.builder().build().readTree(Files.readString(FILE));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> expressions(JsonNode dashboard) {
        List<String> out = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                out.add(target.path("expr").asString());
            }
        }
        return out;
    }

    /** Every pagehop_* series name the dashboard queries (panels and template variables). */
    static Set<String> pagehopMetrics(JsonNode dashboard) {
        Set<String> out = new TreeSet<>();
        List<String> texts = new ArrayList<>(expressions(dashboard));
        dashboard.path("templating").path("list").forEach(v -> texts.add(v.path("query").asString("")));
        for (String e : texts) {
            Matcher m = PAGEHOP_METRIC.matcher(e);
            while (m.find()) {
                out.add(m.group());
            }
        }
        return out;
    }

    /** Series names in a Prometheus text exposition. */
    static Set<String> exposed(String scrape) {
        Set<String> out = new TreeSet<>();
        for (String line : scrape.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                out.add(line.split("[{ ]", 2)[0]);
            }
        }
        return out;
    }
}
