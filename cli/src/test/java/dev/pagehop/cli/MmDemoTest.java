package dev.pagehop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code pagehop mm-demo}: the emulated mm's maps, table walks and pagemap, for each granule. */
class MmDemoTest {

    @ParameterizedTest
    @CsvSource({"K4, 4, 2", "K16, 4, 32", "K64, 3, 512"})
    void showsMapsTableWalksAndPagemap(String granule, int levels, int pmdMiB) throws Exception {
        try (CliHarness cli = new CliHarness()) {
            CliHarness.Result r = cli.run("mm-demo", "--granule", granule);
            assertThat(r.exitCode()).as(r.err()).isZero();
            String out = r.out();
            assertThat(out).contains(granule + " granule").contains(levels + " levels").contains("PMD block " + pmdMiB + " MiB");
            assertThat(out).contains("/proc/self/maps:").contains("r--").contains("rw-");
            // one line per level for the written page, ending at L3 with a hw-dirty page descriptor
            long walkLines = Arrays.stream(out.split("\n")).filter(l -> l.matches("\\s+L[0-3] table@0x.*")).count();
            assertThat(walkLines).isEqualTo(2L * levels);
            assertThat(out).contains("=> writable, hw-dirty").contains("SPECIAL => read-only");
            assertThat(out).containsPattern("PRESENT pfn=0x[0-9a-f]+ EXCLUSIVE\\n").contains("not present")
                    .contains("EXCLUSIVE UFFD_WP").contains("PAGEMAP_SCAN");
        }
    }
}
