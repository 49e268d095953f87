package dev.pagehop.workload;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The workload factory by kind. Built in: {@code uniform}, {@code zipf} (hot set), {@code sequential},
 * {@code idle}, {@code phase}, {@code churn} (maps007-like VMA churn) and {@code kv} (self-checking
 * hash table). Other kinds (the A64 interpreter) register themselves with {@link #register}.
 */
public final class Workloads {
    private static final Map<String, Function<WorkloadSpec, Workload>> FACTORIES = new ConcurrentHashMap<>();

    static {
        FACTORIES.put(UniformWorkload.KIND, UniformWorkload::new);
        FACTORIES.put(HotSetWorkload.KIND, HotSetWorkload::new);
        FACTORIES.put(SequentialWorkload.KIND, SequentialWorkload::new);
        FACTORIES.put(IdleWorkload.KIND, IdleWorkload::new);
        FACTORIES.put(PhaseChangeWorkload.KIND, PhaseChangeWorkload::new);
        FACTORIES.put(VmaChurnWorkload.KIND, VmaChurnWorkload::new);
        FACTORIES.put(KvStoreWorkload.KIND, KvStoreWorkload::new);
    }

    private Workloads() {
    }

    /** Builds the workload {@code spec} names; fails naming the known kinds if there is none. */
    public static Workload create(WorkloadSpec spec) {
        Function<WorkloadSpec, Workload> f = FACTORIES.get(spec.kind());
        if (f == null) {
            throw new IllegalArgumentException("no workload kind '" + spec.kind() + "' (known: "
                    + String.join(", ", kinds()) + ")");
        }
        return f.apply(spec);
    }

    public static Workload create(String text) {
        return create(WorkloadSpec.parse(text));
    }

    /** Adds a kind; fails if the name is taken. */
    public static void register(String kind, Function<WorkloadSpec, Workload> factory) {
        if (FACTORIES.putIfAbsent(kind, factory) != null) {
            throw new IllegalArgumentException("workload kind '" + kind + "' is already registered");
        }
    }

    public static java.util.Set<String> kinds() {
        return new TreeMap<>(FACTORIES).keySet();
    }
}
