package dev.pagehop.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The decoder's dedicated fast operations must do exactly what the full decoder does: every
 * fast-path form, with random operand fields and random register and flag values, run once each
 * way from the same state, must end in the same registers, flags, memory and PC.
 */
class FastPathEquivalenceTest {

    /** Templates with the operand bits cleared; the property fills them in at random. */
    private static final int[][] TEMPLATES = {
        // {fixed bits, mask of random bits}
        {0x10000000, 0x60FFFFFF}, // ADR
        {0x90000000, 0x60FFFFFF}, // ADRP
        {0x11000000, 0xE07FFFFF}, // ADD/SUB imm (both widths, no flags)
        {0x71000000, 0x807FFFFF}, // SUBS imm
        {0x12800000, 0xE07FFFFF}, // MOVN/MOVZ/MOVK (all opc)
        {0x92000000, 0x607FFFFF}, // 64-bit AND/ORR/EOR imm
        {0xF2000000, 0x007FFFFF}, // ANDS imm
        {0xD3400000, 0x003FFFFF}, // UBFM 64
        {0x9340FC00, 0x003F03FF}, // ASR 64
        {0x0A000000, 0xE0FFFFFF}, // logical shifted (all opc, N, shifts; 32-bit forms with large shifts are UNDEF both ways)
        {0x0B000000, 0xE0DFFFFF}, // add/sub shifted
        {0x9B000000, 0x001F7FFF}, // MADD 64
        {0x9A800000, 0x001FF7FF}, // CSEL/CSINC 64
        {0x54000000, 0x00FFFFEF}, // B.cond
        {0x34000000, 0x81FFFFFF}, // CBZ/CBNZ
        {0x36000000, 0x81FFFFFF}, // TBZ/TBNZ
        {0x14000000, 0x83FFFFFF}, // B/BL
    };

    @Provide
    Arbitrary<Integer> encodings() {
        return Arbitraries.integers().between(0, TEMPLATES.length - 1).flatMap(t -> Arbitraries.integers()
                .map(bits -> TEMPLATES[t][0] | (bits & TEMPLATES[t][1])));
    }

    @Property(tries = 800)
    void fastAndFullDecodeAgree(@ForAll("encodings") int insn, @ForAll long a, @ForAll long b, @ForAll int flags,
            @ForAll boolean smallValues) {
        Machine fast = machine(insn, a, b, flags, smallValues);
        Machine full = machine(insn, a, b, flags, smallValues);
        full.cpu.fastPaths = false;
        Throwable fastError = runOne(fast);
        Throwable fullError = runOne(full);
        assertThat(fastError == null ? null : fastError.getClass())
                .as("outcome of 0x%08x", insn).isEqualTo(fullError == null ? null : fullError.getClass());
        assertThat(fast.s).as("state after 0x%08x", insn).isEqualTo(full.s);
    }

    @Property(tries = 200)
    void fastAndFullLoadsAndStoresAgree(@ForAll("memoryOps") int insn, @ForAll long value, @ForAll long index) {
        Machine fast = memoryMachine(insn, value, index);
        Machine full = memoryMachine(insn, value, index);
        full.cpu.fastPaths = false;
        runOne(fast);
        runOne(full);
        assertThat(fast.s).as("state after 0x%08x", insn).isEqualTo(full.s);
        for (long off = 0; off < 4096; off += 8) {
            assertThat(fast.mm.load64(Machine.DATA + off)).isEqualTo(full.mm.load64(Machine.DATA + off));
        }
    }

    @Provide
    Arbitrary<Integer> memoryOps() {
        // Base X0 (pointing at the middle of the data page), Rt/Rt2 from X1..X7, small offsets.
        Arbitrary<Integer> rt = Arbitraries.integers().between(1, 7);
        Arbitrary<Integer> uimm = Arbitraries.integers().between(0, 31);
        Arbitrary<Integer> imm7 = Arbitraries.integers().between(-16, 15);
        return Arbitraries.oneOf(
                Arbitraries.of(0xF9400000, 0xF9000000, 0xB9400000, 0xB9000000, 0x39400000, 0x39000000)
                        .flatMap(base -> rt.flatMap(t -> uimm.map(u -> base | (u << 10) | t))),
                Arbitraries.of(0xA9400000, 0xA9000000, 0xA9800000, 0xA8C00000)
                        .flatMap(base -> rt.flatMap(t -> rt.flatMap(t2 -> imm7.map(i ->
                                base | ((i & 0x7F) << 15) | (t2 << 10) | t)))),
                rt.flatMap(t -> Arbitraries.of(0xF8686800, 0xF8687800, 0x38686800).map(base -> base | t)));
    }

    private static Machine memoryMachine(int insn, long value, long index) {
        Machine m = new Machine(new int[] {insn});
        m.x(0, Machine.DATA + 2048);
        for (int i = 1; i < 8; i++) {
            m.x(i, value * i);
        }
        m.x(8, index & 0x3F);
        for (long off = 0; off < 4096; off += 8) {
            m.mm.store64(Machine.DATA + off, off * 0x0101010101L);
        }
        return m;
    }

    private static Machine machine(int insn, long a, long b, int flags, boolean small) {
        Machine m = new Machine(new int[] {insn});
        for (int i = 0; i < 31; i++) {
            long v = (i & 1) == 0 ? a * (i + 1) : b ^ i;
            m.x(i, small ? v & 0xFF : v);
        }
        m.s.setSp(Machine.STACK_TOP - 64);
        m.s.setPstate(((long) flags & 0xF) << 28);
        return m;
    }

    private static Throwable runOne(Machine m) {
        try {
            m.cpu.run(m.s, 1);
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }
}
