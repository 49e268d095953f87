package dev.pagehop.bench.scenario;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Where the two agents run and what links them.
 *
 * <p>{@code loopback}: both agents on 127.0.0.1, uncapped. {@code 1gbit} and {@code 10gbit}: each
 * agent in its own network namespace, the page stream over a veth pair with a {@code tbf} rate
 * limit on both ends (netem is not available on the kernels we run on, so there is no delay
 * emulation). The runner reaches each agent's control port over a second, uncapped veth pair
 * from the initial namespace. Every address is a private /30 inside those links; nothing outside
 * the namespaces or loopback is ever a target.
 *
 * <pre>
 *   initial ns                 pagehop-bsrc              pagehop-btgt
 *   phb-cs0 10.231.1.1 ─── phb-cs1 10.231.1.2
 *                              phb-s 10.231.0.1 ══tbf══ phb-t 10.231.0.2
 *   phb-ct0 10.231.2.1 ───────────────────────────── phb-ct1 10.231.2.2
 * </pre>
 */
public final class NetworkProfile implements AutoCloseable {

    public static final String LOOPBACK = "loopback";
    public static final List<String> NAMES = List.of(LOOPBACK, "1gbit", "10gbit");

    static final String SRC_NS = "pagehop-bsrc";
    static final String TGT_NS = "pagehop-btgt";

    private final String name;
    private final boolean namespaces;

    private NetworkProfile(String name, boolean namespaces) {
        this.name = name;
        this.namespaces = namespaces;
    }

    public String name() {
        return name;
    }

    /** Command prefix to start the source agent (empty on loopback). */
    public List<String> sourcePrefix() {
        return namespaces ? List.of("ip", "netns", "exec", SRC_NS) : List.of();
    }

    public List<String> targetPrefix() {
        return namespaces ? List.of("ip", "netns", "exec", TGT_NS) : List.of();
    }

    /** Address each agent binds. */
    public String sourceBind() {
        return namespaces ? "0.0.0.0" : "127.0.0.1";
    }

    public String targetBind() {
        return namespaces ? "0.0.0.0" : "127.0.0.1";
    }

    /** Where the runner reaches each agent's control port. */
    public String sourceControlHost() {
        return namespaces ? "10.231.1.2" : "127.0.0.1";
    }

    public String targetControlHost() {
        return namespaces ? "10.231.2.2" : "127.0.0.1";
    }

    /** The address the source streams pages to: over the capped link when there is one. */
    public String migrationHost() {
        return namespaces ? "10.231.0.2" : "127.0.0.1";
    }

    /** Why {@code profile} cannot run on this machine, or null if it can. */
    public static String unavailableReason(String profile) {
        if (!NAMES.contains(profile)) {
            return "unknown bandwidth profile '" + profile + "' (known: " + NAMES + ")";
        }
        if (profile.equals(LOOPBACK)) {
            return null;
        }
        if (!isRoot()) {
            return "bandwidth profile '" + profile + "' needs root to create network namespaces and tc qdiscs; skipped";
        }
        for (String tool : List.of("ip", "tc")) {
            if (!onPath(tool)) {
                return "bandwidth profile '" + profile + "' needs '" + tool + "' (iproute2) on PATH; skipped";
            }
        }
        return null;
    }

    /** Creates the namespaces and links for {@code profile} (nothing for loopback). */
    public static NetworkProfile open(String profile) throws IOException, InterruptedException {
        String why = unavailableReason(profile);
        if (why != null) {
            throw new IllegalStateException(why);
        }
        if (profile.equals(LOOPBACK)) {
            return new NetworkProfile(profile, false);
        }
        String rate = profile.equals("1gbit") ? "1gbit" : "10gbit";
        // burst must cover at least rate / HZ bytes or tbf cannot reach the rate; these leave room
        // for HZ=100 (10 ms of traffic).
        String burst = profile.equals("1gbit") ? "2mb" : "16mb";
        removeQuietly();
        NetworkProfile p = new NetworkProfile(profile, true);
        try {
            sh("ip", "netns", "add", SRC_NS);
            sh("ip", "netns", "add", TGT_NS);
            sh("ip", "link", "add", "phb-s", "netns", SRC_NS, "type", "veth", "peer", "name", "phb-t", "netns", TGT_NS);
            sh("ip", "link", "add", "phb-cs0", "type", "veth", "peer", "name", "phb-cs1", "netns", SRC_NS);
            sh("ip", "link", "add", "phb-ct0", "type", "veth", "peer", "name", "phb-ct1", "netns", TGT_NS);
            sh("ip", "addr", "add", "10.231.1.1/30", "dev", "phb-cs0");
            sh("ip", "addr", "add", "10.231.2.1/30", "dev", "phb-ct0");
            sh("ip", "link", "set", "phb-cs0", "up");
            sh("ip", "link", "set", "phb-ct0", "up");
            for (String[] nsDevAddr : new String[][] {{SRC_NS, "phb-s", "10.231.0.1/30"}, {TGT_NS, "phb-t", "10.231.0.2/30"},
                    {SRC_NS, "phb-cs1", "10.231.1.2/30"}, {TGT_NS, "phb-ct1", "10.231.2.2/30"}}) {
                sh("ip", "-n", nsDevAddr[0], "addr", "add", nsDevAddr[2], "dev", nsDevAddr[1]);
                sh("ip", "-n", nsDevAddr[0], "link", "set", nsDevAddr[1], "up");
            }
            sh("ip", "-n", SRC_NS, "link", "set", "lo", "up");
            sh("ip", "-n", TGT_NS, "link", "set", "lo", "up");
            sh("ip", "netns", "exec", SRC_NS, "tc", "qdisc", "add", "dev", "phb-s", "root", "tbf", "rate", rate, "burst",
                    burst, "latency", "100ms");
            sh("ip", "netns", "exec", TGT_NS, "tc", "qdisc", "add", "dev", "phb-t", "root", "tbf", "rate", rate, "burst",
                    burst, "latency", "100ms");
        } catch (IOException | RuntimeException e) {
            p.close();
            throw e;
        }
        return p;
    }

    @Override
    public void close() {
        if (namespaces) {
            removeQuietly();
        }
    }

    /**
     * Removes the control links from the initial namespace first (deleting one end of a veth
     * deletes its peer), then the namespaces. A namespace is torn down asynchronously after
     * {@code ip netns del}, so relying on that alone would leave the initial-namespace ends
     * visible for a while and make the next set-up fail with "File exists".
     */
    private static void removeQuietly() {
        List<List<String>> steps = List.of(List.of("ip", "link", "del", "phb-cs0"), List.of("ip", "link", "del", "phb-ct0"),
                List.of("ip", "-n", SRC_NS, "link", "del", "phb-s"), List.of("ip", "netns", "del", SRC_NS),
                List.of("ip", "netns", "del", TGT_NS));
        for (List<String> step : steps) {
            try {
                run(step);
            } catch (IOException | InterruptedException e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private static void sh(String... cmd) throws IOException, InterruptedException {
        Result r = run(List.of(cmd));
        if (r.exit != 0) {
            throw new IOException("network set-up failed: '" + String.join(" ", cmd) + "' exited " + r.exit + ": " + r.output.trim());
        }
    }

    private record Result(int exit, String output) {
    }

    private static Result run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(cmd)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("'" + String.join(" ", cmd) + "' did not finish in 30 s");
        }
        return new Result(p.exitValue(), out);
    }

    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0");
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "/usr/sbin:/usr/bin:/sbin:/bin" : path + ":/usr/sbin:/sbin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
