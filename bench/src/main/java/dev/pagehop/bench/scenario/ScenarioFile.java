package dev.pagehop.bench.scenario;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A scenario matrix as written in {@code bench/scenarios/*.json}: named workload shapes and the
 * axes whose cartesian product is the list of runs, in the manner of QEMU's guestperf
 * comparisons. Example:
 *
 * <pre>{@code
 * {
 *   "name": "smoke",
 *   "warmupMs": 500, "timeoutMs": 60000, "agentHeap": "512m",
 *   "workloads": { "random-20": { "kind": "random", "workingSetFraction": 0.75, "rateMBps": 20 } },
 *   "matrix": {
 *     "memory": ["32MiB"], "workload": ["random-20"], "threads": [1], "granule": ["4K"],
 *     "tracker": ["uffd-wp-async"], "mode": ["precopy"], "bandwidth": ["loopback"], "downtimeLimitMs": [300]
 *   }
 * }
 * }</pre>
 *
 * <p>Instead of one {@code matrix}, {@code matrices} may list several: the runs are their union,
 * in order, so axes that make no difference for a mode (the tracker, for post-copy, which switches
 * over before any round) need not be multiplied out.
 *
 * <p>{@code timeoutMs} is the migration's own overall timeout (the policy aborts at it, a result);
 * {@code runTimeoutMs} is the runner's hard limit on one run, and {@code stallMs} how long a run
 * may show no progress at all: past either, the runner kills both agents, records the run as
 * failed with the reason, and goes on with fresh agents.
 *
 * <p>{@code warmUpAgents}: before a new agent pair's first measured run, migrate a small writer
 * once in pre-copy and once in post-copy mode, unrecorded, so that no measured run pays for the
 * agents' JIT compilation (the pair's first run would otherwise be several times slower than the
 * rest, and which cells come first is an accident of the order).
 */
public record ScenarioFile(String name, String description, Long warmupMs, Long timeoutMs, Long runTimeoutMs,
        Long stallMs, Boolean warmUpAgents, String agentHeap, Integer repeat, Map<String, WorkloadShape> workloads,
        Matrix matrix, List<Matrix> matrices) {

    /** The axes. Every list must be non-empty. */
    public record Matrix(List<String> memory, List<String> workload, List<Integer> threads, List<String> granule,
            List<String> tracker, List<String> mode, List<String> bandwidth, List<Long> downtimeLimitMs) {
    }

    public static final List<String> TRACKERS = List.of("uffd-wp-async", "soft-dirty", "uffd-wp-sync");
    public static final List<String> MODES = List.of("precopy", "postcopy", "hybrid");
    public static final List<String> GRANULES = List.of("4K", "16K", "64K");

    public static ScenarioFile load(Path file) throws IOException {
        ScenarioFile f;
        try {
            f = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(file.toFile(),
                    ScenarioFile.class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException("scenario file " + file + ": " + e.getOriginalMessage()
                    // Only a syntax error has a useful position: record fields are bound at the closing brace.
                    + (e instanceof com.fasterxml.jackson.core.JsonParseException && e.getLocation() != null
                            ? " at line " + e.getLocation().getLineNr() : ""), e);
        }
        f.validate(file.toString());
        return f;
    }

    public long warmup() {
        return warmupMs == null ? 2000 : warmupMs;
    }

    public long timeout() {
        return timeoutMs == null ? 300_000 : timeoutMs;
    }

    public String heap() {
        return agentHeap == null ? "1g" : agentHeap;
    }

    /** Default: warm-up, the migration's timeout, and 90 s for the cancel and the final reads. */
    public long runTimeout() {
        return runTimeoutMs == null ? warmup() + timeout() + 90_000 : runTimeoutMs;
    }

    public boolean warmUp() {
        return Boolean.TRUE.equals(warmUpAgents);
    }

    public long stall() {
        return stallMs == null ? 60_000 : stallMs;
    }

    /** {@code matrix}, or every entry of {@code matrices}. */
    public List<Matrix> allMatrices() {
        return matrix != null ? List.of(matrix) : matrices;
    }

    public int repeats() {
        return repeat == null ? 1 : repeat;
    }

    void validate(String where) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("scenario file " + where + ": 'name' is missing");
        }
        if (matrix == null && (matrices == null || matrices.isEmpty())) {
            throw new IllegalArgumentException("scenario file " + where + ": 'matrix' (or 'matrices') is missing");
        }
        if (matrix != null && matrices != null) {
            throw new IllegalArgumentException("scenario file " + where + ": give 'matrix' or 'matrices', not both");
        }
        if (repeats() < 1) {
            throw new IllegalArgumentException("scenario file " + where + ": repeat " + repeat + " is below 1");
        }
        if (runTimeoutMs != null && runTimeoutMs <= warmup()) {
            throw new IllegalArgumentException("scenario file " + where + ": runTimeoutMs " + runTimeoutMs
                    + " leaves no time after the warm-up of " + warmup() + " ms");
        }
        if (stallMs != null && stallMs < 1000) {
            throw new IllegalArgumentException("scenario file " + where + ": stallMs " + stallMs + " is below 1000");
        }
        List<Matrix> all = allMatrices();
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i) == null) {
                throw new IllegalArgumentException("scenario file " + where + ": matrices[" + i + "] is empty");
            }
            validate(all.size() == 1 ? where : where + " matrices[" + i + "]", all.get(i));
        }
    }

    private void validate(String where, Matrix matrix) {
        requireAxis(where, "memory", matrix.memory());
        requireAxis(where, "workload", matrix.workload());
        requireAxis(where, "threads", matrix.threads());
        requireAxis(where, "granule", matrix.granule());
        requireAxis(where, "tracker", matrix.tracker());
        requireAxis(where, "mode", matrix.mode());
        requireAxis(where, "bandwidth", matrix.bandwidth());
        requireAxis(where, "downtimeLimitMs", matrix.downtimeLimitMs());
        for (String m : matrix.memory()) {
            parseBytes(m);
        }
        for (String w : matrix.workload()) {
            if (workloads == null || !workloads.containsKey(w)) {
                throw new IllegalArgumentException("scenario file " + where + ": matrix workload '" + w
                        + "' is not defined under 'workloads' (defined: " + (workloads == null ? "none" : workloads.keySet()) + ")");
            }
        }
        for (Integer t : matrix.threads()) {
            if (t == null || t < 1) {
                throw new IllegalArgumentException("scenario file " + where + ": threads " + t + " is below 1");
            }
        }
        checkNames(where, "granule", matrix.granule(), GRANULES);
        checkNames(where, "tracker", matrix.tracker(), TRACKERS);
        checkNames(where, "mode", matrix.mode(), MODES);
        checkNames(where, "bandwidth", matrix.bandwidth(), NetworkProfile.NAMES);
        for (Long d : matrix.downtimeLimitMs()) {
            if (d == null || d < 1) {
                throw new IllegalArgumentException("scenario file " + where + ": downtimeLimitMs " + d + " is below 1");
            }
        }
    }

    private static void requireAxis(String where, String axis, List<?> values) {
        if (values == null || values.isEmpty()) {
            throw new IllegalArgumentException("scenario file " + where + ": matrix axis '" + axis + "' is missing or empty");
        }
    }

    private static void checkNames(String where, String axis, List<String> values, List<String> known) {
        for (String v : values) {
            if (!known.contains(v)) {
                throw new IllegalArgumentException("scenario file " + where + ": " + axis + " '" + v + "' is not one of " + known);
            }
        }
    }

    /**
     * Every run of the matrices, in a stable order: matrix by matrix, and within one the outermost
     * axis first as listed in {@link Matrix}. A cell listed by two matrices runs once.
     */
    public List<Scenario> expand() {
        List<Scenario> out = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        int index = 0;
        for (Matrix matrix : allMatrices()) {
            for (String mem : matrix.memory()) {
                for (String w : matrix.workload()) {
                    for (Integer t : matrix.threads()) {
                        for (String g : matrix.granule()) {
                            for (String tr : matrix.tracker()) {
                                for (String m : matrix.mode()) {
                                    for (String bw : matrix.bandwidth()) {
                                        for (Long d : matrix.downtimeLimitMs()) {
                                            for (int r = 0; r < repeats(); r++) {
                                                Scenario s = new Scenario(index + 1, parseBytes(mem), w, workloads.get(w), t,
                                                        g, tr, m, bw, d, r);
                                                if (seen.add(s.cell())) {
                                                    index++;
                                                    out.add(s);
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KiB|MiB|GiB)?");

    /** "512MiB", "1GiB", "65536" → bytes. */
    public static long parseBytes(String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("size '" + text + "' is not <number>[B|KiB|MiB|GiB]");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "B" : m.group(2);
        return switch (unit.toLowerCase(Locale.ROOT)) {
            case "kib" -> n << 10;
            case "mib" -> n << 20;
            case "gib" -> n << 30;
            default -> n;
        };
    }
}
