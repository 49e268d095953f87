package dev.pagehop.bench.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The capped profiles' plumbing: two namespaces, the tbf-limited veth pair and the control links
 * exist while the profile is open and are gone after close. Needs root (CI runs as root); without
 * it the profile reports itself unavailable, which {@link NetworkProfileTest} covers.
 */
@Tag("slow")
class NetworkNamespaceTest {

    @Test
    void oneGbitProfileBuildsAndRemovesTheNamespacesAndTheRateLimit() throws Exception {
        assumeTrue(NetworkProfile.unavailableReason("1gbit") == null, "needs root and iproute2");
        try (NetworkProfile p = NetworkProfile.open("1gbit")) {
            assertThat(run("ip", "netns", "list")).contains(NetworkProfile.SRC_NS).contains(NetworkProfile.TGT_NS);
            assertThat(run("ip", "netns", "exec", NetworkProfile.SRC_NS, "tc", "qdisc", "show", "dev", "phb-s"))
                    .contains("tbf").contains("1Gbit");
            assertThat(run("ip", "netns", "exec", NetworkProfile.TGT_NS, "tc", "qdisc", "show", "dev", "phb-t"))
                    .contains("tbf");
            // The page stream's path: source namespace to the target's address over the capped pair.
            assertThat(run("ip", "netns", "exec", NetworkProfile.SRC_NS, "ip", "route", "get", p.migrationHost()))
                    .contains("dev phb-s");
            assertThat(p.sourcePrefix()).containsExactly("ip", "netns", "exec", NetworkProfile.SRC_NS);
            assertThat(List.of(p.migrationHost(), p.sourceControlHost(), p.targetControlHost()))
                    .allMatch(a -> a.startsWith("10.231."));
        }
        assertThat(run("ip", "netns", "list")).doesNotContain(NetworkProfile.SRC_NS).doesNotContain(NetworkProfile.TGT_NS);
        assertThat(run("ip", "link", "show")).doesNotContain("phb-cs0").doesNotContain("phb-ct0");
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("%s finished", String.join(" ", cmd)).isTrue();
        return out;
    }
}
