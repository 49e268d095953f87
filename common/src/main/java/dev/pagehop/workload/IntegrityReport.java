package dev.pagehop.workload;

import java.util.List;

/**
 * The result of checking a workload's invariants from memory alone: how many items (entries,
 * pages, slots) were checked and the problems found, each naming the address and the expected
 * and actual values. {@link #checked()} is false for workloads that have nothing to check.
 */
public record IntegrityReport(String kind, boolean checked, long itemsChecked, List<String> problems) {
    /** Reports keep at most this many problems; the count of the rest is still known. */
    public static final int MAX_PROBLEMS = 32;

    public IntegrityReport {
        problems = List.copyOf(problems);
    }

    public static IntegrityReport notChecked(String kind) {
        return new IntegrityReport(kind, false, 0, List.of());
    }

    public boolean ok() {
        return problems.isEmpty();
    }

    /** Throws {@link IllegalStateException} listing the problems when there are any. */
    public IntegrityReport orThrow() {
        if (!ok()) {
            throw new IllegalStateException("workload '" + kind + "' failed its integrity check ("
                    + itemsChecked + " items checked): " + String.join("; ", problems));
        }
        return this;
    }
}
