package dev.pagehop.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class CpuStateTest {

    @Property
    void serialisedStateRoundTrips(@ForAll long x0, @ForAll long x30, @ForAll long sp, @ForAll long pc,
            @ForAll boolean n, @ForAll boolean c, @ForAll long v5lo, @ForAll long v31hi, @ForAll int fpcr) {
        CpuState s = new CpuState();
        s.setX(0, x0);
        s.setX(30, x30);
        s.setSp(sp);
        s.setPc(pc);
        s.setNzcv(n, false, c, true);
        s.setV(5, v5lo, 1);
        s.setV(31, 2, v31hi);
        s.setFpcr(fpcr);
        s.setTpidrEl0(x0 ^ pc);

        byte[] bytes = s.toBytes();
        assertThat(bytes).hasSize(CpuState.SERIALIZED_BYTES);
        assertThat(CpuState.fromBytes(bytes)).isEqualTo(s);
    }

    @Test
    void layoutIsLittleEndianWithX0First() {
        CpuState s = new CpuState();
        s.setX(0, 0x0102030405060708L);
        byte[] bytes = s.toBytes();
        assertThat(bytes[0]).isEqualTo((byte) 0x08);
        assertThat(bytes[7]).isEqualTo((byte) 0x01);
    }

    @Test
    void rejectsRegisterIndicesOutsideTheArchitecture() {
        CpuState s = new CpuState();
        assertThatThrownBy(() -> s.setX(31, 1)).hasMessageContaining("31");
        assertThatThrownBy(() -> s.vLow(32)).hasMessageContaining("32");
        assertThatThrownBy(() -> s.setPstate(1L << 9)).hasMessageContaining("0x200");
    }

    @Test
    void rejectsTruncatedRecord() {
        assertThatThrownBy(() -> CpuState.fromBytes(new byte[10]))
                .hasMessageContaining("10 bytes").hasMessageContaining(String.valueOf(CpuState.SERIALIZED_BYTES));
    }
}
