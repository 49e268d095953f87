package dev.pagehop.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The dashboard's shape; ContainerMigrationIT checks its metric names against a real scrape. */
class DashboardTest {

    @Test
    void everyPanelQueriesPrometheusThroughTheDatasourceVariable() {
        JsonNode d = Dashboard.read();
        assertThat(d.path("uid").asString()).isEqualTo("pagehop-migrations");
        assertThat(d.path("panels").size()).isGreaterThanOrEqualTo(10);
        Set<Integer> ids = new HashSet<>();
        for (JsonNode p : d.path("panels")) {
            String title = p.path("title").asString();
            assertThat(ids.add(p.path("id").asInt())).as("panel id of %s is unique", title).isTrue();
            assertThat(p.path("datasource").path("uid").asString()).as("%s datasource", title).isEqualTo("${datasource}");
            assertThat(p.path("targets").size()).as("%s has queries", title).isPositive();
            p.path("targets").forEach(t -> assertThat(t.path("expr").asString()).as("%s query", title).isNotBlank());
        }
    }

    @Test
    void panelsTileTheGridWithoutOverlapping() {
        JsonNode d = Dashboard.read();
        Set<String> cells = new HashSet<>();
        for (JsonNode p : d.path("panels")) {
            JsonNode g = p.path("gridPos");
            int x = g.path("x").asInt();
            int w = g.path("w").asInt();
            assertThat(x + w).as("%s fits Grafana's 24 columns", p.path("title").asString()).isLessThanOrEqualTo(24);
            for (int cx = x; cx < x + w; cx++) {
                for (int cy = g.path("y").asInt(); cy < g.path("y").asInt() + g.path("h").asInt(); cy++) {
                    assertThat(cells.add(cx + "," + cy)).as("%s overlaps another panel at %d,%d", p.path("title").asString(), cx, cy)
                            .isTrue();
                }
            }
        }
    }

    @Test
    void queriesNameMetricsInMicrometersPrometheusForm() {
        Set<String> names = Dashboard.pagehopMetrics(Dashboard.read());
        assertThat(names).isNotEmpty();
        // Counters end in _total and timers in _seconds_*: a query naming the Micrometer meter
        // itself (pagehop_migration_rounds) would match no series.
        assertThat(names).allSatisfy(n -> assertThat(n).matches(
                "pagehop_.*(_total|_seconds_(bucket|count|sum|max)|_count|_sum|_max|_bytes|_milliseconds|_percent|_active)"));
    }
}
