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
        String src;
        String tgt;
        String slot;
        try (NetworkProfile p = NetworkProfile.open("1gbit")) {
            src = p.sourceNamespace();
            tgt = p.targetNamespace();
            slot = src.substring(NetworkProfile.SRC_NS.length());
            assertThat(namespaces()).contains(src, tgt);
            assertThat(run("ip", "netns", "exec", src, "tc", "qdisc", "show", "dev", p.sourceLinkDevice()))
                    .contains("tbf").contains("1Gbit");
            assertThat(run("ip", "netns", "exec", tgt, "tc", "qdisc", "show", "dev", p.targetLinkDevice()))
                    .contains("tbf");
            // The page stream's path: source namespace to the target's address over the capped pair.
            assertThat(run("ip", "netns", "exec", src, "ip", "route", "get", p.migrationHost()))
                    .contains("dev " + p.sourceLinkDevice());
            assertThat(p.sourcePrefix()).containsExactly("ip", "netns", "exec", src);
            assertThat(List.of(p.migrationHost(), p.sourceControlHost(), p.targetControlHost()))
                    .allMatch(a -> a.startsWith("10.231."));
            long before = p.sourceLinkTxBytes();
            assertThat(before).isNotNegative();
            // A connection attempt to a closed port: the SYN leaves through the capped link either way.
            run("ip", "netns", "exec", src, "timeout", "5", "bash", "-c", "exec 3<>/dev/tcp/" + p.migrationHost() + "/9 || true");
            assertThat(p.sourceLinkTxBytes()).as("the connection attempt left through the capped link").isGreaterThan(before);
            // A second profile open at the same time (another runner) gets its own slot.
            try (NetworkProfile q = NetworkProfile.open("1gbit")) {
                assertThat(q.sourceNamespace()).isNotEqualTo(src);
                assertThat(q.migrationHost()).isNotEqualTo(p.migrationHost());
            }
            assertThat(namespaces()).as("closing the second left the first").contains(src, tgt);
        }
        assertThat(namespaces()).doesNotContain(src, tgt);
        assertThat(run("ip", "link", "show")).doesNotContain("phb" + slot + "cs0").doesNotContain("phb" + slot + "ct0");
    }

    private static List<String> namespaces() throws IOException, InterruptedException {
        return run("ip", "netns", "list").lines().filter(l -> !l.isBlank()).map(l -> l.trim().split("\\s+")[0]).toList();
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("%s finished", String.join(" ", cmd)).isTrue();
        return out;
    }
}
