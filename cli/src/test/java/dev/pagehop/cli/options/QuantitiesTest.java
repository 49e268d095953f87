package dev.pagehop.cli.options;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class QuantitiesTest {

    @Test
    void sizesWithBinaryAndDecimalUnits() {
        assertThat(Quantities.bytes("4096")).isEqualTo(4096);
        assertThat(Quantities.bytes("64MiB")).isEqualTo(64L << 20);
        assertThat(Quantities.bytes("64M")).isEqualTo(64L << 20);
        assertThat(Quantities.bytes("1.5 GiB")).isEqualTo(3L << 29);
        assertThat(Quantities.bytes("2kB")).isEqualTo(2000);
        assertThat(Quantities.bytes("1GB")).isEqualTo(1_000_000_000L);
        assertThat(Quantities.bytesPerSecond("100MiB/s")).isEqualTo(100L << 20);
        assertThat(Quantities.bytesPerSecond("100MiB")).isEqualTo(100L << 20);
    }

    @Test
    void badSizesNameTheText() {
        assertThatThrownBy(() -> Quantities.bytes("12 parsecs")).hasMessageContaining("'12 parsecs'").hasMessageContaining("parsecs");
        assertThatThrownBy(() -> Quantities.bytes("-1")).hasMessageContaining("'-1'");
        assertThatThrownBy(() -> Quantities.bytes("0.5")).hasMessageContaining("not a whole number of bytes");
        assertThatThrownBy(() -> Quantities.bytesPerSecond("fast")).hasMessageContaining("rate 'fast'");
    }

    @Test
    void durationsNeedAUnit() {
        assertThat(Quantities.millis("300ms")).isEqualTo(300);
        assertThat(Quantities.millis("2s")).isEqualTo(2000);
        assertThat(Quantities.millis("1.5s")).isEqualTo(1500);
        assertThat(Quantities.millis("2m")).isEqualTo(120_000);
        assertThat(Quantities.millis("1h")).isEqualTo(3_600_000);
        assertThat(Quantities.millis("5000us")).isEqualTo(5);
        assertThatThrownBy(() -> Quantities.millis("300")).hasMessageContaining("needs a unit");
        assertThatThrownBy(() -> Quantities.millis("10us")).hasMessageContaining("below the 1 ms resolution");
    }

    @Property
    void kibibytesRoundTrip(@ForAll @LongRange(min = 0, max = 1L << 40) long kib) {
        assertThat(Quantities.bytes(kib + "KiB")).isEqualTo(kib * 1024);
    }
}
