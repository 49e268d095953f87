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
 *   initial ns                 pagehop-bsrc-K            pagehop-btgt-K
 *   phbKcs0 10.231.3K+1.1 ─── phbKcs1 10.231.3K+1.2
 *                              phbKs 10.231.3K.1 ══tbf══ phbKt 10.231.3K.2
 *   phbKct0 10.231.3K+2.1 ──────────────────────────── phbKct1 10.231.3K+2.2
 * </pre>
 *
 * <p>K is a slot (0..49) this profile holds while open: the first slot, starting from the
 * runner's pid, whose namespaces do not exist. Two runners on one machine (a benchmark run and a
 * test suite) therefore never tear down each other's links.
 */
public final class NetworkProfile implements AutoCloseable {

    public static final String LOOPBACK = "loopback";
    public static final List<String> NAMES = List.of(LOOPBACK, "1gbit", "10gbit");

    static final String SRC_NS = "pagehop-bsrc-";
    static final String TGT_NS = "pagehop-btgt-";
    static final int SLOTS = 50;

    private final String name;
    private final boolean namespaces;
    private final int slot;

    private NetworkProfile(String name, boolean namespaces, int slot) {
        this.name = name;
        this.namespaces = namespaces;
        this.slot = slot;
    }

    String sourceNamespace() {
        return SRC_NS + slot;
    }

    String targetNamespace() {
        return TGT_NS + slot;
    }

    /** The source's end of the capped pair (the page stream leaves through it). */
    String sourceLinkDevice() {
        return "phb" + slot + "s";
    }

    String targetLinkDevice() {
        return "phb" + slot + "t";
    }

    private String net(int link, int host) {
        return "10.231." + (3 * slot + link) + "." + host;
    }

    public String name() {
        return name;
    }

    /** Command prefix to start the source agent (empty on loopback). */
    public List<String> sourcePrefix() {
        return namespaces ? List.of("ip", "netns", "exec", sourceNamespace()) : List.of();
    }

    public List<String> targetPrefix() {
        return namespaces ? List.of("ip", "netns", "exec", targetNamespace()) : List.of();
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
        return namespaces ? net(1, 2) : "127.0.0.1";
    }

    public String targetControlHost() {
        return namespaces ? net(2, 2) : "127.0.0.1";
    }

    /** The address the source streams pages to: over the capped link when there is one. */
    public String migrationHost() {
        return namespaces ? net(0, 2) : "127.0.0.1";
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
            return new NetworkProfile(profile, false, -1);
        }
        String rate = profile.equals("1gbit") ? "1gbit" : "10gbit";
        // burst must cover at least rate / HZ bytes or tbf cannot reach the rate; these leave room
        // for HZ=100 (10 ms of traffic).
        String burst = profile.equals("1gbit") ? "2mb" : "16mb";
        NetworkProfile p = new NetworkProfile(profile, true, freeSlot());
        String src = p.sourceNamespace();
        String tgt = p.targetNamespace();
        String cs0 = "phb" + p.slot + "cs0";
        String ct0 = "phb" + p.slot + "ct0";
        try {
            sh("ip", "netns", "add", src);
            sh("ip", "netns", "add", tgt);
            sh("ip", "link", "add", p.sourceLinkDevice(), "netns", src, "type", "veth", "peer", "name",
                    p.targetLinkDevice(), "netns", tgt);
            sh("ip", "link", "add", cs0, "type", "veth", "peer", "name", "phb" + p.slot + "cs1", "netns", src);
            sh("ip", "link", "add", ct0, "type", "veth", "peer", "name", "phb" + p.slot + "ct1", "netns", tgt);
            sh("ip", "addr", "add", p.net(1, 1) + "/30", "dev", cs0);
            sh("ip", "addr", "add", p.net(2, 1) + "/30", "dev", ct0);
            sh("ip", "link", "set", cs0, "up");
            sh("ip", "link", "set", ct0, "up");
            for (String[] nsDevAddr : new String[][] {{src, p.sourceLinkDevice(), p.net(0, 1) + "/30"},
                    {tgt, p.targetLinkDevice(), p.net(0, 2) + "/30"}, {src, "phb" + p.slot + "cs1", p.net(1, 2) + "/30"},
                    {tgt, "phb" + p.slot + "ct1", p.net(2, 2) + "/30"}}) {
                sh("ip", "-n", nsDevAddr[0], "addr", "add", nsDevAddr[2], "dev", nsDevAddr[1]);
                sh("ip", "-n", nsDevAddr[0], "link", "set", nsDevAddr[1], "up");
            }
            sh("ip", "-n", src, "link", "set", "lo", "up");
            sh("ip", "-n", tgt, "link", "set", "lo", "up");
            sh("ip", "netns", "exec", src, "tc", "qdisc", "add", "dev", p.sourceLinkDevice(), "root", "tbf", "rate", rate,
                    "burst", burst, "latency", "100ms");
            sh("ip", "netns", "exec", tgt, "tc", "qdisc", "add", "dev", p.targetLinkDevice(), "root", "tbf", "rate", rate,
                    "burst", burst, "latency", "100ms");
        } catch (IOException | RuntimeException e) {
            p.close();
            throw e;
        }
        return p;
    }

    /**
     * The first slot from this runner's pid on whose namespaces nobody holds. Slots of a runner
     * that died without closing stay taken until someone deletes their namespaces; there are 50.
     */
    private static int freeSlot() throws IOException, InterruptedException {
        String list = run(List.of("ip", "netns", "list")).output;
        java.util.Set<String> taken = new java.util.HashSet<>();
        for (String line : list.split("\n")) {
            if (!line.isBlank()) {
                taken.add(line.trim().split("\\s+")[0]);
            }
        }
        int start = (int) (ProcessHandle.current().pid() % SLOTS);
        for (int i = 0; i < SLOTS; i++) {
            int k = (start + i) % SLOTS;
            if (!taken.contains(SRC_NS + k) && !taken.contains(TGT_NS + k)) {
                return k;
            }
        }
        throw new IOException("all " + SLOTS + " benchmark network slots are taken (ip netns list: "
                + String.join(", ", taken) + "); delete stale pagehop-bsrc-N / pagehop-btgt-N namespaces");
    }

    /**
     * Bytes the source's end of the capped link has sent so far (the page stream and the
     * post-copy answers, with TCP/IP overhead), or -1 on loopback, where the link is shared with
     * everything else on the machine.
     */
    public long sourceLinkTxBytes() {
        if (!namespaces) {
            return -1;
        }
        try {
            Result r = run(List.of("ip", "netns", "exec", sourceNamespace(), "cat",
                    "/sys/class/net/" + sourceLinkDevice() + "/statistics/tx_bytes"));
            return r.exit == 0 ? Long.parseLong(r.output.trim()) : -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private boolean removed;

    /** Removes the namespaces and links once; a second call (a stopping suite racing a run) waits for the first. */
    @Override
    public synchronized void close() {
        if (namespaces && !removed) {
            removeQuietly();
            removed = true;
        }
    }

    /**
     * Removes the control links from the initial namespace first (deleting one end of a veth
     * deletes its peer), then the namespaces. A namespace is torn down asynchronously after
     * {@code ip netns del}, so relying on that alone would leave the initial-namespace ends
     * visible for a while and make the next set-up fail with "File exists".
     */
    private void removeQuietly() {
        List<List<String>> steps = List.of(List.of("ip", "link", "del", "phb" + slot + "cs0"),
                List.of("ip", "link", "del", "phb" + slot + "ct0"),
                List.of("ip", "-n", sourceNamespace(), "link", "del", sourceLinkDevice()),
                List.of("ip", "netns", "del", sourceNamespace()), List.of("ip", "netns", "del", targetNamespace()));
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
