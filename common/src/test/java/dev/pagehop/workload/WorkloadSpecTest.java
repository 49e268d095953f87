package dev.pagehop.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class WorkloadSpecTest {

    @Test
    void textFormRoundTripsWithSortedParameters() {
        WorkloadSpec s = WorkloadSpec.parse("zipf:skew=0.9,hotPages=64@42");
        assertThat(s.kind()).isEqualTo("zipf");
        assertThat(s.seed()).isEqualTo(42);
        assertThat(s.params()).containsExactly(java.util.Map.entry("hotPages", "64"), java.util.Map.entry("skew", "0.9"));
        assertThat(s.toString()).isEqualTo("zipf:hotPages=64,skew=0.9@42");
        assertThat(WorkloadSpec.parse(s.toString())).isEqualTo(s);
        assertThat(WorkloadSpec.parse("idle")).isEqualTo(WorkloadSpec.of("idle", 1));
    }

    @Property
    void anySpecBuiltInCodeRoundTripsThroughText(@ForAll @IntRange(min = 1, max = 100000) int pages, @ForAll long seed) {
        WorkloadSpec s = WorkloadSpec.of("uniform", seed).with("pagesPerThread", pages).with("writeBytes", 8);
        assertThat(WorkloadSpec.parse(s.toString())).isEqualTo(s);
    }

    @Test
    void badTextIsRefusedNamingThePart() {
        assertThatThrownBy(() -> WorkloadSpec.parse("")).hasMessageContaining("empty workload spec");
        assertThatThrownBy(() -> WorkloadSpec.parse("Zipf")).hasMessageContaining("kind 'Zipf' is not a name");
        assertThatThrownBy(() -> WorkloadSpec.parse("zipf@x1")).hasMessageContaining("seed 'x1' is not a 64-bit integer");
        assertThatThrownBy(() -> WorkloadSpec.parse("zipf:skew")).hasMessageContaining("'skew' is not key=value");
        assertThatThrownBy(() -> WorkloadSpec.parse("zipf:skew=1,skew=2")).hasMessageContaining("skew given twice");
    }

    @Test
    void workloadsRefuseUnknownParametersAndValuesOutOfRange() {
        assertThatThrownBy(() -> Workloads.create("zipf:hotpages=4"))
                .hasMessageContaining("workload 'zipf' has no parameter 'hotpages' (known: hotPages, pagesPerThread, prefill, skew, writeBytes)");
        assertThatThrownBy(() -> Workloads.create("uniform:writeBytes=12"))
                .hasMessageContaining("writeBytes=12 is not a multiple of 8");
        assertThatThrownBy(() -> Workloads.create("zipf:pagesPerThread=8,hotPages=9"))
                .hasMessageContaining("hotPages=9 is outside 1..8");
        assertThatThrownBy(() -> Workloads.create("zipf:skew=abc")).hasMessageContaining("skew='abc' is not a number");
        // Other tests may register more kinds (a64, test kinds), so check only the built-in ones.
        assertThatThrownBy(() -> Workloads.create("nosuch")).hasMessageContaining("no workload kind 'nosuch' (known: ")
                .hasMessageContaining("churn, idle, kv,").hasMessageContaining("uniform, zipf");
        assertThatThrownBy(() -> Workloads.register("kv", s -> null)).hasMessageContaining("'kv' is already registered");
    }
}
