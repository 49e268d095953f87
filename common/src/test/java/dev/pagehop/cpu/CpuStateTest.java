package dev.pagehop.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
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

    /** Every register set to its own value: X0-X30, SP, PC, NZCV, TPIDR_EL0, both halves of V0-V31, FPCR, FPSR. */
    private static CpuState everyRegisterDistinct() {
        CpuState s = new CpuState();
        for (int i = 0; i < CpuState.GENERAL_REGISTERS; i++) {
            s.setX(i, 0x1000_0000_0000_0000L | i);
        }
        s.setSp(0xffff_ffff_f000L);
        s.setPc(0x40_0000L);
        s.setNzcv(true, true, true, true);
        s.setTpidrEl0(0x7f00_dead_0000L);
        for (int i = 0; i < CpuState.VECTOR_REGISTERS; i++) {
            s.setV(i, 0x2000_0000_0000_0000L | i, 0x3000_0000_0000_0000L | i);
        }
        s.setFpcr(0x0380_0000);
        s.setFpsr(0x0800_009f);
        return s;
    }

    @Test
    void everyArchitecturalRegisterIsSavedRestoredAndCompared() {
        CpuState s = everyRegisterDistinct();
        assertThat(CpuState.fromBytes(s.toBytes())).isEqualTo(s);
        List<Consumer<CpuState>> changes = new ArrayList<>();
        for (int i = 0; i < CpuState.GENERAL_REGISTERS; i++) {
            int n = i;
            changes.add(c -> c.setX(n, ~c.x(n)));
        }
        changes.add(c -> c.setSp(c.sp() + 16));
        changes.add(c -> c.setPc(c.pc() + 4));
        changes.add(c -> c.setNzcv(false, true, true, true));
        changes.add(c -> c.setNzcv(true, false, true, true));
        changes.add(c -> c.setNzcv(true, true, false, true));
        changes.add(c -> c.setNzcv(true, true, true, false));
        changes.add(c -> c.setTpidrEl0(c.tpidrEl0() + 8));
        for (int i = 0; i < CpuState.VECTOR_REGISTERS; i++) {
            int n = i;
            changes.add(c -> c.setV(n, ~c.vLow(n), c.vHigh(n)));
            changes.add(c -> c.setV(n, c.vLow(n), ~c.vHigh(n)));
        }
        changes.add(c -> c.setFpcr(c.fpcr() ^ 0x0040_0000));
        changes.add(c -> c.setFpsr(c.fpsr() ^ 1));
        assertThat(changes).hasSize(31 + 2 + 4 + 1 + 64 + 2);
        for (int k = 0; k < changes.size(); k++) {
            CpuState changed = s.copy();
            changes.get(k).accept(changed);
            assertThat(changed).as("change %d", k).isNotEqualTo(s);
            assertThat(changed.toBytes()).as("change %d", k).isNotEqualTo(s.toBytes());
            assertThat(CpuState.fromBytes(changed.toBytes())).as("change %d", k).isEqualTo(changed);
        }
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
