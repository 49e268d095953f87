package dev.pagehop.cpu;

/** Encodings assembled with aarch64-linux-gnu-as -march=armv8.1-a; the assembly is beside each word. */
final class Snippets {
    private Snippets() {
    }

    /** ADDS_X */
    static final int[] ADDS_X = {
        0xab010002, // adds x2, x0, x1
    };

    /** ADDS_W */
    static final int[] ADDS_W = {
        0x2b010002, // adds w2, w0, w1
    };

    /** SUBS_X */
    static final int[] SUBS_X = {
        0xeb010002, // subs x2, x0, x1
    };

    /** SUBS_W */
    static final int[] SUBS_W = {
        0x6b010002, // subs w2, w0, w1
    };

    /** CMP_IMM_BRANCH */
    static final int[] CMP_IMM_BRANCH = {
        0xf100281f, // cmp x0, #10
        0x5400004b, // b.lt 1f
        0xd2800021, // mov x1, #1
        0x9a9f27e2, // 1: cset x2, lo
        0x9a9fb7e3, // cset x3, ge
    };

    /** ADC_SBC */
    static final int[] ADC_SBC = {
        0xba010002, // adcs x2, x0, x1
        0xfa010003, // sbcs x3, x0, x1
        0x1a010004, // adc w4, w0, w1
    };

    /** LOGICAL_IMM */
    static final int[] LOGICAL_IMM = {
        0x9200f002, // and x2, x0, #0x5555555555555555
        0x32181c03, // orr w3, w0, #0xff00
        0xd2103c04, // eor x4, x0, #0xffff0000ffff0000
        0xf2410005, // ands x5, x0, #0x8000000000000000
    };

    /** LOGICAL_REG */
    static final int[] LOGICAL_REG = {
        0x8a210002, // bic x2, x0, x1
        0xaa211003, // orn x3, x0, x1, lsl #4
        0x4a210004, // eon w4, w0, w1
        0xea200005, // bics x5, x0, x0
        0x8ac12006, // and x6, x0, x1, ror #8
    };

    /** SHIFTS */
    static final int[] SHIFTS = {
        0xd37cec02, // lsl x2, x0, #4
        0xd37cfc03, // lsr x3, x0, #60
        0x937cfc04, // asr x4, x0, #60
        0x93c02005, // ror x5, x0, #8
        0x9ac12406, // lsr x6, x0, x1
        0x1ac12807, // asr w7, w0, w1
        0x53010009, // lsl w9, w0, #31
    };

    /** BITFIELD */
    static final int[] BITFIELD = {
        0xd3484c02, // ubfx x2, x0, #8, #12
        0x93442c03, // sbfx x3, x0, #4, #8
        0xb3701c04, // bfi x4, x0, #16, #8
        0xb378fc05, // bfxil x5, x0, #56, #8
        0x93401c06, // sxtb x6, w0
        0x13003c07, // sxth w7, w0
        0x93407c09, // sxtw x9, w0
        0x53001c0a, // uxtb w10, w0
        0x93c1400b, // extr x11, x0, x1, #16
        0x53040c0c, // ubfiz w12, w0, #28, #4
    };

    /** MOVE_WIDE */
    static final int[] MOVE_WIDE = {
        0xd2e24682, // movz x2, #0x1234, lsl #48
        0x92800003, // movn x3, #0
        0x12800004, // movn w4, #0
        0xd29fffe5, // mov x5, #0xffff
        0xf2b7dde5, // movk x5, #0xbeef, lsl #16
        0x12800026, // mov w6, #-2
    };

    /** MULDIV */
    static final int[] MULDIV = {
        0x9b017c02, // mul x2, x0, x1
        0x9b010003, // madd x3, x0, x1, x0
        0x9b018004, // msub x4, x0, x1, x0
        0x9b217c05, // smull x5, w0, w1
        0x9ba17c06, // umull x6, w0, w1
        0x9b417c07, // smulh x7, x0, x1
        0x9bc17c09, // umulh x9, x0, x1
        0x9ac1080a, // udiv x10, x0, x1
        0x9ac10c0b, // sdiv x11, x0, x1
        0x1ac10c0c, // sdiv w12, w0, w1
    };

    /** DIV_EDGE */
    static final int[] DIV_EDGE = {
        0x9adf0802, // udiv x2, x0, xzr
        0x9adf0c03, // sdiv x3, x0, xzr
        0x9ac50c24, // sdiv x4, x1, x5
        0x1ac50c26, // sdiv w6, w1, w5
    };

    /** CONDSEL */
    static final int[] CONDSEL = {
        0xeb01001f, // cmp x0, x1
        0x9a81c002, // csel x2, x0, x1, gt
        0x9a810403, // csinc x3, x0, x1, eq
        0xda810004, // csinv x4, x0, x1, eq
        0xda810405, // csneg x5, x0, x1, eq
        0x1a9f07e6, // cset w6, ne
        0xda9f93e7, // csetm x7, hi
        0xfa451804, // ccmp x0, #5, #4, ne
        0x9a9f17e9, // cset x9, eq
    };

    /** ONESRC */
    static final int[] ONESRC = {
        0xdac01002, // clz x2, x0
        0xdac01403, // cls x3, x0
        0xdac00004, // rbit x4, x0
        0xdac00c05, // rev x5, x0
        0xdac00406, // rev16 x6, x0
        0xdac00807, // rev32 x7, x0
        0x5ac01009, // clz w9, w0
        0x5ac0080a, // rev w10, w0
        0x5ac0142b, // cls w11, w1
    };

    /** LDST_MODES */
    static final int[] LDST_MODES = {
        0xf9400402, // ldr x2, [x0, #8]
        0xf85f8003, // ldur x3, [x0, #-8]
        0xf8410c04, // ldr x4, [x0, #16]!
        0xf85f8405, // ldr x5, [x0], #-8
        0x39800026, // ldrsb x6, [x1]
        0x79c00027, // ldrsh w7, [x1]
        0xb9800029, // ldrsw x9, [x1]
        0x3940042a, // ldrb w10, [x1, #1]
        0xf86cd82b, // ldr x11, [x1, w12, sxtw #3]
        0x786e782d, // ldrh w13, [x1, x14, lsl #1]
    };

    /** STORE_MODES */
    static final int[] STORE_MODES = {
        0xf81f0c20, // str x0, [x1, #-16]!
        0x39000c20, // strb w0, [x1, #3]
        0x79000820, // strh w0, [x1, #4]
        0xb9000820, // str w0, [x1, #8]
        0xf8011020, // stur x0, [x1, #17]
    };

    /** PAIRS */
    static final int[] PAIRS = {
        0xa9be07e0, // stp x0, x1, [sp, #-32]!
        0xa9400fe2, // ldp x2, x3, [sp]
        0x694017e4, // ldpsw x4, x5, [sp]
        0x290203e1, // stp w1, w0, [sp, #16]
        0x29421fe6, // ldp w6, w7, [sp, #16]
        0xa8c22be9, // ldp x9, x10, [sp], #32
    };

    /** LITERAL */
    static final int[] LITERAL = {
        0x58000082, // ldr x2, 1f
        0x18000063, // ldr w3, 1f
        0x98000044, // ldrsw x4, 1f
        0x14000003, // b 2f
        0xfffffffe, // 1: .word 0xfffffffe
        0x80000000, // .word 0x80000000
        0xd503201f, // 2: nop
    };

    /** EXCLUSIVE */
    static final int[] EXCLUSIVE = {
        0xc85f7c02, // ldxr x2, [x0]
        0x91000442, // add x2, x2, #1
        0xc8037c02, // stxr w3, x2, [x0]
        0xc8047c02, // stxr w4, x2, [x0]
        0x885ffc05, // ldaxr w5, [x0]
        0x8806fc05, // stlxr w6, w5, [x0]
    };

    /** CAS_OPS */
    static final int[] CAS_OPS = {
        0xd28000e2, // mov x2, #7
        0xc8a27c01, // cas x2, x1, [x0]
        0xd2800c63, // mov x3, #99
        0xc8e3fc01, // casal x3, x1, [x0]
        0xf8240005, // ldadd x4, x5, [x0]
        0xf8268007, // swp x6, x7, [x0]
        0xf829400a, // ldsmax x9, x10, [x0]
        0xf82b700c, // ldumin x11, x12, [x0]
    };

    /** LSE_BITS */
    static final int[] LSE_BITS = {
        0xf8211002, // ldclr x1, x2, [x0]
        0xf8233004, // ldset x3, x4, [x0]
        0xf8252006, // ldeor x5, x6, [x0]
        0x38270009, // ldaddb w7, w9, [x0]
        0xc8dffc0a, // ldar x10, [x0]
        0xc89ffc01, // stlr x1, [x0]
    };

    /** BRANCHES */
    static final int[] BRANCHES = {
        0x94000003, // bl 1f
        0xd2800022, // mov x2, #1
        0x14000003, // b 2f
        0xaa1e03e3, // 1: mov x3, x30
        0xd65f03c0, // ret
        0xb7f80040, // 2: tbnz x0, #63, 3f
        0xd2800024, // mov x4, #1
        0x34000041, // 3: cbz w1, 4f
        0xd2800025, // mov x5, #1
        0x36000040, // 4: tbz x0, #0, 5f
        0xd2800026, // mov x6, #1
        0xd503201f, // 5: nop
    };

    /** BR_MISALIGNED */
    static final int[] BR_MISALIGNED = {
        0xd61f0000, // br x0
    };

    /** SYSREGS */
    static final int[] SYSREGS = {
        0xd51bd040, // msr tpidr_el0, x0
        0xd53bd042, // mrs x2, tpidr_el0
        0xd51b4201, // msr nzcv, x1
        0xd53b4203, // mrs x3, nzcv
        0x54000046, // b.vs 1f
        0xd2800024, // mov x4, #1
        0xd51b4400, // 1: msr fpcr, x0
        0xd53b4405, // mrs x5, fpcr
        0xd53b00e6, // mrs x6, dczid_el0
        0xd5033bbf, // dmb ish
        0xd5033fdf, // isb
    };

    /** SVC */
    static final int[] SVC = {
        0xd2800808, // mov x8, #64
        0xd4000001, // svc #0
        0xd2800029, // mov x9, #1
    };

    /** UNDEF */
    static final int[] UNDEF = {
        0xd2800022, // mov x2, #1
        0x00000000, // .inst 0x00000000
    };

    /** SIMD_STRLEN */
    static final int[] SIMD_STRLEN = {
        0x3dc00000, // ldr q0, [x0]
        0x4e209801, // cmeq v1.16b, v0.16b, #0
        0x0f0c8422, // shrn v2.8b, v1.8h, #4
        0x9e660042, // fmov x2, d2
        0x6e21a423, // umaxp v3.16b, v1.16b, v1.16b
        0x9e660063, // fmov x3, d3
    };

    /** SIMD_MOVES */
    static final int[] SIMD_MOVES = {
        0x4f02e420, // movi v0.16b, #0x41
        0x4e040c01, // dup v1.4s, w0
        0x4e181c02, // mov v2.d[1], x0
        0x0e1c3c22, // umov w2, v1.s[3]
        0x4ee1bc23, // addp v3.2d, v1.2d, v1.2d
        0x6e014004, // ext v4.16b, v0.16b, v1.16b, #8
        0x9e670005, // fmov d5, x0
        0x0e2058a6, // cnt v6.8b, v5.8b
        0x0e31b8c7, // addv b7, v6.8b
        0x0e013ce3, // umov w3, v7.b[0]
        0x4e183c44, // mov x4, v2.d[1]
    };

    /** SIMD_PAIRS */
    static final int[] SIMD_PAIRS = {
        0xad000400, // stp q0, q1, [x0]
        0xad400c02, // ldp q2, q3, [x0]
        0xfd400804, // ldr d4, [x0, #16]
        0xbd002804, // str s4, [x0, #40]
        0xf9401402, // ldr x2, [x0, #40]
    };

    /** FP */
    static final int[] FP = {
        0x9e620000, // scvtf d0, x0
        0x1e6f1001, // fmov d1, #1.5
        0x1e612802, // fadd d2, d0, d1
        0x1e610843, // fmul d3, d2, d1
        0x9e780062, // fcvtzs x2, d3
        0x1e602060, // fcmp d3, d0
        0x9a9fd7e3, // cset x3, gt
        0x1e211824, // fdiv s4, s1, s1
        0x1e260084, // fmov w4, s4
    };

    /** FAULT_LDP */
    static final int[] FAULT_LDP = {
        0xa9400c02, // ldp x2, x3, [x0]
    };

    /** FAULT_PRE */
    static final int[] FAULT_PRE = {
        0xf8410c04, // ldr x4, [x0, #16]!
    };

    /** FAULT_STORE */
    static final int[] FAULT_STORE = {
        0xf9000001, // str x1, [x0]
    };

    /** MOV_ONE */
    static final int[] MOV_ONE = {
        0xd2800022, // mov x2, #1
    };

    /** MOV_TWO */
    static final int[] MOV_TWO = {
        0xd2800042, // mov x2, #2
    };

    /** IC_IVAU */
    static final int[] IC_IVAU = {
        0xb9000001, // str w1, [x0]
        0xd50b7b20, // dc cvau, x0
        0xd50b7520, // ic ivau, x0
        0xd5033b9f, // dsb ish
        0xd5033fdf, // isb
    };

    /** BLR_X30 */
    static final int[] BLR_X30 = {
        0xd63f03c0, // blr x30
    };


    /** CALL_LOOP_FOR_STEP */
    static final int[] CALL_LOOP_FOR_STEP = {
        0x94000003, // 1: bl 2f
        0x91000421, // add x1, x1, #1
        0x17fffffe, // b 1b
        0xa9be7bfd, // 2: stp x29, x30, [sp, #-32]!
        0x910003fd, // mov x29, sp
        0xf9000be1, // str x1, [sp, #16]
        0xf9400be2, // ldr x2, [sp, #16]
        0xa8c27bfd, // ldp x29, x30, [sp], #32
        0xd65f03c0, // ret
    };
}
