package dev.pagehop.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which instructions end a restartable step: those that write memory or enter the kernel. */
class SideEffectTest {

    @ParameterizedTest(name = "{2}")
    @CsvSource({
        "0x8b020021, false, add x1 x1 x2",
        "0xf9400044, false, ldr x4 [x2]",
        "0xf8040444, true, str x4 [x2] #64",
        "0xa9be7bfd, true, stp x29 x30 [sp #-32]!",
        "0xa8c27bfd, false, ldp x29 x30 [sp] #32",
        "0x58000082, false, ldr x2 literal",
        "0xc85f7c02, false, ldxr x2 [x0]",
        "0xc8037c02, true, stxr w3 x2 [x0]",
        "0xc8a27c01, true, cas x2 x1 [x0]",
        "0xf8240005, true, ldadd x4 x5 [x0]",
        "0xf8bfc00a, false, ldapr x10 [x0]",
        "0xc8dffc0a, false, ldar x10 [x0]",
        "0xc89ffc01, true, stlr x1 [x0]",
        "0xd4000001, true, svc #0",
        "0xd50b7420, true, dc zva x0",
        "0xad000400, true, stp q0 q1 [x0]",
        "0x3dc00000, false, ldr q0 [x0]",
        "0x3d800000, true, str q0 [x0]",
        "0x14000001, false, b",
        "0xd53bd042, false, mrs x2 tpidr_el0",
        "0x00000000, true, udf (unknown counts as an effect)",
    })
    void classification(String encoding, boolean effect, String what) {
        assertThat(Decoder.hasSideEffect((int) Long.parseLong(encoding.substring(2), 16))).as(what).isEqualTo(effect);
    }

    @Test
    void stepEndsAfterTheFirstStore() {
        Machine m = new Machine(Snippets.CALL_LOOP_FOR_STEP).x(1, 5);
        assertThat(m.cpu.step(m.s, 1000)).as("bl, then stp ends the step").isEqualTo(2);
        assertThat(m.s.pc()).isEqualTo(Machine.CODE + 16);
        assertThat(m.cpu.step(m.s, 1000)).as("mov, then str").isEqualTo(2);
        assertThat(m.cpu.step(m.s, 1)).as("the budget caps a step").isEqualTo(1);
    }
}
