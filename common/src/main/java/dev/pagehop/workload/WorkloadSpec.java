package dev.pagehop.workload;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What a process runs: a workload kind (as registered in {@link Workloads}), its parameters and
 * the seed of its random streams. Together with each thread's registers and step count this is
 * everything needed to continue the same computation elsewhere, so it travels in the process
 * image.
 *
 * <p>The text form, used on command lines and in logs, is {@code kind[:key=value,...][@seed]},
 * for example {@code zipf:hotPages=256,skew=0.99@42}. Parameters are kept sorted so the text
 * form and the encoded image of equal specs are byte-identical.
 */
public record WorkloadSpec(String kind, SortedMap<String, String> params, long seed) {

    public WorkloadSpec {
        if (kind == null || kind.isBlank() || !kind.matches("[a-z0-9][a-z0-9_-]*")) {
            throw new IllegalArgumentException("workload kind '" + kind
                    + "' is not a name: use lower-case letters, digits, '-' and '_'");
        }
        TreeMap<String, String> copy = new TreeMap<>();
        if (params != null) {
            for (Map.Entry<String, String> e : params.entrySet()) {
                String k = e.getKey();
                String v = e.getValue();
                if (k == null || !k.matches("[A-Za-z][A-Za-z0-9_]*")) {
                    throw new IllegalArgumentException("workload '" + kind + "': parameter name '" + k
                            + "' is not an identifier");
                }
                if (v == null || v.isEmpty() || v.contains(",") || v.contains("@") || v.contains("=")) {
                    throw new IllegalArgumentException("workload '" + kind + "': parameter " + k + "='" + v
                            + "' is empty or contains one of , @ =");
                }
                copy.put(k, v);
            }
        }
        params = Collections.unmodifiableSortedMap(copy);
    }

    public static WorkloadSpec of(String kind, long seed) {
        return new WorkloadSpec(kind, new TreeMap<>(), seed);
    }

    /** A copy with one parameter set (replacing an earlier value). */
    public WorkloadSpec with(String key, Object value) {
        TreeMap<String, String> p = new TreeMap<>(params);
        p.put(key, String.valueOf(value));
        return new WorkloadSpec(kind, p, seed);
    }

    public WorkloadSpec withSeed(long newSeed) {
        return new WorkloadSpec(kind, params, newSeed);
    }

    /** Parses the text form {@code kind[:key=value,...][@seed]}; the seed defaults to 1. */
    public static WorkloadSpec parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty workload spec; expected kind[:key=value,...][@seed]");
        }
        String body = text.trim();
        long seed = 1;
        int at = body.lastIndexOf('@');
        if (at >= 0) {
            String s = body.substring(at + 1);
            try {
                seed = Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("workload spec '" + text + "': seed '" + s + "' is not a 64-bit integer");
            }
            body = body.substring(0, at);
        }
        int colon = body.indexOf(':');
        String kind = colon < 0 ? body : body.substring(0, colon);
        TreeMap<String, String> params = new TreeMap<>();
        if (colon >= 0 && colon < body.length() - 1) {
            for (String kv : body.substring(colon + 1).split(",")) {
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("workload spec '" + text + "': '" + kv + "' is not key=value");
                }
                String key = kv.substring(0, eq).trim();
                if (params.put(key, kv.substring(eq + 1).trim()) != null) {
                    throw new IllegalArgumentException("workload spec '" + text + "': parameter " + key + " given twice");
                }
            }
        }
        return new WorkloadSpec(kind, params, seed);
    }

    /** Fails naming the first parameter not in {@code known}, so a typo is not silently ignored. */
    public void requireOnly(Set<String> known) {
        for (String k : params.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException("workload '" + kind + "' has no parameter '" + k
                        + "' (known: " + String.join(", ", new TreeMap<>(asMap(known)).keySet()) + ")");
            }
        }
    }

    private static Map<String, Boolean> asMap(Set<String> keys) {
        TreeMap<String, Boolean> m = new TreeMap<>();
        keys.forEach(k -> m.put(k, Boolean.TRUE));
        return m;
    }

    public long longParam(String name, long defaultValue, long min, long max) {
        String v = params.get(name);
        if (v == null) {
            return defaultValue;
        }
        long value;
        try {
            value = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("workload '" + kind + "': " + name + "='" + v + "' is not an integer");
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException("workload '" + kind + "': " + name + "=" + value
                    + " is outside " + min + ".." + max);
        }
        return value;
    }

    public double doubleParam(String name, double defaultValue, double min, double max) {
        String v = params.get(name);
        if (v == null) {
            return defaultValue;
        }
        double value;
        try {
            value = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("workload '" + kind + "': " + name + "='" + v + "' is not a number");
        }
        if (!(value >= min && value <= max)) {
            throw new IllegalArgumentException("workload '" + kind + "': " + name + "=" + value
                    + " is outside " + min + ".." + max);
        }
        return value;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(kind);
        String sep = ":";
        for (Map.Entry<String, String> e : params.entrySet()) {
            b.append(sep).append(e.getKey()).append('=').append(e.getValue());
            sep = ",";
        }
        return b.append('@').append(seed).toString();
    }
}
