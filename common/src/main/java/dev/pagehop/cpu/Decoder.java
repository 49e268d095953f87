package dev.pagehop.cpu;

/**
 * Turns an encoding into a {@link Decoded} once per address. The forms that dominate compiled
 * integer code (moves, add/sub, compares, logical, shifts, loads and stores of X/W/B registers and
 * X pairs, branches, conditional select, multiply-add) get a dedicated operation with operands
 * resolved; the rest stay {@link #RAW} and run through the full decoder in the execution units,
 * which is also where every encoding is validated (an unknown one raises SIGILL when executed).
 */
final class Decoder {
    static final int RAW = 0;
    static final int MOVI = 1;
    static final int MOV_REG = 2;
    static final int MOV_REG_W = 3;
    static final int ADD_IMM = 4;
    static final int ADD_IMM_W = 5;
    static final int SUBS_IMM = 6;
    static final int SUBS_IMM_W = 7;
    static final int SUBS_REG = 8;
    static final int SUBS_REG_W = 9;
    static final int ADD_REG = 10;
    static final int SUB_REG = 11;
    static final int AND_IMM = 12;
    static final int ORR_IMM = 13;
    static final int EOR_IMM = 14;
    static final int ANDS_IMM = 15;
    static final int AND_REG = 16;
    static final int ORR_REG = 17;
    static final int EOR_REG = 18;
    static final int LSL_IMM = 19;
    static final int LSR_IMM = 20;
    static final int ASR_IMM = 21;
    static final int UBFX = 22;
    static final int LDR_X = 23;
    static final int LDR_W = 24;
    static final int LDRB = 25;
    static final int STR_X = 26;
    static final int STR_W = 27;
    static final int STRB = 28;
    static final int LDR_X_REG = 29;
    static final int LDRB_REG = 30;
    static final int LDP_X = 31;
    static final int STP_X = 32;
    static final int STP_X_PRE = 33;
    static final int LDP_X_POST = 34;
    static final int B = 35;
    static final int BL = 36;
    static final int B_COND = 37;
    static final int CBZ = 38;
    static final int CBNZ = 39;
    static final int CBZ_W = 40;
    static final int CBNZ_W = 41;
    static final int TBZ = 42;
    static final int TBNZ = 43;
    static final int RET = 44;
    static final int CSEL = 45;
    static final int CSINC = 46;
    static final int MADD = 47;
    static final int NOP = 48;

    private Decoder() {
    }

    /** Register read where 31 is XZR: the always-zero slot. */
    private static int zr(int n) {
        return n;
    }

    /** Register write where 31 is XZR: the discard slot. */
    private static int wz(int n) {
        return n == 31 ? Interpreter.SINK : n;
    }

    /** Register read or write where 31 is SP. */
    private static int sp(int n) {
        return n == 31 ? Interpreter.SP : n;
    }

    /**
     * Whether the instruction can change memory or enter the kernel: stores, atomics, exclusive
     * stores, SVC, DC ZVA. Everything else changes only registers, so a run of such instructions
     * can be restarted from its first register state without anyone noticing. Unknown encodings
     * count as side effects (they stop a step; executing them raises SIGILL anyway).
     */
    static boolean hasSideEffect(int insn) {
        int group = (insn >>> 25) & 0xF;
        boolean loadStore = (group & 0b0101) == 0b0100;
        if (loadStore) {
            if ((insn & 0x3F000000) == 0x08000000) { // exclusive, ordered, CAS
                boolean load = (insn & (1 << 22)) != 0;
                boolean o2 = (insn & (1 << 23)) != 0;
                boolean o1 = (insn & (1 << 21)) != 0;
                boolean cas = o1 && (o2 || insn >= 0);
                return !load || cas;
            }
            if ((insn & 0x3B000000) == 0x18000000) { // literal loads
                return false;
            }
            if ((insn & 0x3A000000) == 0x28000000) { // pairs
                return (insn & (1 << 22)) == 0;
            }
            if ((insn & 0xBF000000) == 0x0C000000 || (insn & 0xBF000000) == 0x0D000000) { // SIMD structures
                return (insn & (1 << 22)) == 0;
            }
            if ((insn & 0x3F200C00) == 0x38200000) { // LSE atomics; LDAPR only loads
                return !((insn & 0x8000) != 0 && ((insn >>> 12) & 7) == 4);
            }
            if ((insn & 0x3A000000) == 0x38000000 || (insn & 0x3F200C00) == 0x19000000) { // single register
                return ((insn >>> 22) & 3) == 0 || ((insn & (1 << 26)) != 0 && ((insn >>> 22) & 3) == 2);
            }
            return true;
        }
        if ((insn & 0xFF00001F) == 0xD4000001) { // SVC
            return true;
        }
        if ((insn & 0xFFFFFFE0) == 0xD50B7420) { // DC ZVA
            return true;
        }
        return group == 0 || group == 1 || group == 2 || group == 3;
    }

    static void decode(int insn, long pc, Decoded d) {
        d.effect = hasSideEffect(insn);
        d.insn = insn;
        d.op = RAW;
        d.imm = 0;
        d.a = 0;
        d.b = 0;
        int rd = insn & 31;
        int rn = (insn >>> 5) & 31;
        int rm = (insn >>> 16) & 31;
        d.rd = rd;
        d.rn = rn;
        d.rm = rm;
        d.ra = (insn >>> 10) & 31;
        boolean sf = insn < 0;

        // Data processing, immediate.
        if ((insn & 0x1F000000) == 0x10000000) { // ADR, ADRP
            long imm = (((((insn >>> 5) & 0x7FFFF) << 2) | ((insn >>> 29) & 3)) << 11) >> 11;
            set(d, MOVI, wz(rd), sf ? (pc & ~0xFFFL) + (imm << 12) : pc + imm);
            return;
        }
        if ((insn & 0x1F800000) == 0x11000000) { // ADD/SUB (immediate)
            boolean sub = (insn & (1 << 30)) != 0;
            boolean s = (insn & (1 << 29)) != 0;
            long imm = (insn >>> 10) & 0xFFF;
            if ((insn & (1 << 22)) != 0) {
                imm <<= 12;
            }
            if (!s) {
                d.op = sf ? ADD_IMM : ADD_IMM_W;
                d.rd = sp(rd);
                d.rn = sp(rn);
                d.imm = sub ? -imm : imm;
            } else if (sub) {
                d.op = sf ? SUBS_IMM : SUBS_IMM_W;
                d.rd = wz(rd);
                d.rn = sp(rn);
                d.imm = imm;
            }
            return;
        }
        if ((insn & 0x1F800000) == 0x12800000) { // move wide
            int opc = (insn >>> 29) & 3;
            int hw = (insn >>> 21) & 3;
            if (opc != 1 && opc != 3 && (sf || hw < 2)) {
                long imm = ((insn >>> 5) & 0xFFFFL) << (hw * 16);
                long v = opc == 0 ? ~imm : imm;
                set(d, MOVI, wz(rd), sf ? v : v & 0xFFFFFFFFL);
            }
            return;
        }
        if ((insn & 0x9F800000) == 0x92000000 && (insn & 0x60000000) != 0x60000000) { // 64-bit AND/ORR/EOR imm
            long imm = IntegerUnit.decodeBitMask((insn >>> 22) & 1, (insn >>> 10) & 63, (insn >>> 16) & 63, 64);
            if (imm != 0) {
                int opc = (insn >>> 29) & 3;
                d.op = opc == 0 ? AND_IMM : opc == 1 ? ORR_IMM : EOR_IMM;
                d.rd = sp(rd);
                d.rn = zr(rn);
                d.imm = imm;
            }
            return;
        }
        if ((insn & 0xFF800000) == 0xF2000000) { // 64-bit ANDS imm
            long imm = IntegerUnit.decodeBitMask((insn >>> 22) & 1, (insn >>> 10) & 63, (insn >>> 16) & 63, 64);
            if (imm != 0) {
                set(d, ANDS_IMM, wz(rd), imm);
                d.rn = zr(rn);
            }
            return;
        }
        if ((insn & 0xFFC00000) == 0xD3400000) { // 64-bit UBFM
            int immr = (insn >>> 16) & 63;
            int imms = (insn >>> 10) & 63;
            d.rd = wz(rd);
            if (imms == 63) {
                d.op = LSR_IMM;
                d.a = immr;
            } else if (imms + 1 == immr) {
                d.op = LSL_IMM;
                d.a = 63 - imms;
            } else if (imms >= immr) {
                d.op = UBFX;
                d.a = immr;
                d.imm = IntegerUnit.ones(imms - immr + 1);
            } else {
                d.rd = rd;
            }
            return;
        }
        if ((insn & 0xFFC0FC00) == 0x9340FC00) { // 64-bit ASR (SBFM with imms 63)
            d.op = ASR_IMM;
            d.rd = wz(rd);
            d.a = (insn >>> 16) & 63;
            return;
        }

        // Data processing, register.
        if ((insn & 0x1F000000) == 0x0A000000) { // logical (shifted register)
            int opc = (insn >>> 29) & 3;
            int amount = (insn >>> 10) & 63;
            boolean invert = (insn & (1 << 21)) != 0;
            if (!invert && opc == 1 && rn == 31 && amount == 0) {
                d.op = sf ? MOV_REG : MOV_REG_W;
                d.rd = wz(rd);
                d.rn = zr(rm);
            } else if (sf && !invert && opc != 3) {
                d.op = opc == 0 ? AND_REG : opc == 1 ? ORR_REG : EOR_REG;
                d.rd = wz(rd);
                d.a = (insn >>> 22) & 3;
                d.b = amount;
            }
            return;
        }
        if ((insn & 0x1F200000) == 0x0B000000) { // add/sub (shifted register)
            int type = (insn >>> 22) & 3;
            int amount = (insn >>> 10) & 63;
            if (type == 3 || (!sf && amount >= 32)) {
                return;
            }
            boolean sub = (insn & (1 << 30)) != 0;
            boolean s = (insn & (1 << 29)) != 0;
            d.a = type;
            d.b = amount;
            d.rd = wz(rd);
            if (s && sub) {
                d.op = sf ? SUBS_REG : SUBS_REG_W;
            } else if (!s && sf) {
                d.op = sub ? SUB_REG : ADD_REG;
            } else {
                d.rd = rd;
            }
            return;
        }
        if ((insn & 0xFFE08000) == 0x9B000000) { // 64-bit MADD
            d.op = MADD;
            d.rd = wz(rd);
            return;
        }
        if ((insn & 0xFFE00800) == 0x9A800000) { // 64-bit CSEL, CSINC
            d.op = (insn & (1 << 10)) == 0 ? CSEL : CSINC;
            d.rd = wz(rd);
            d.a = (insn >>> 12) & 15;
            return;
        }

        // Loads and stores.
        if ((insn & 0x3FC00000) == 0x39400000 || (insn & 0x3FC00000) == 0x39000000) { // unsigned offset, GPR
            int size = insn >>> 30;
            boolean load = (insn & (1 << 22)) != 0;
            if (size == 1) {
                return;
            }
            d.imm = (long) ((insn >>> 10) & 0xFFF) << size;
            d.rn = sp(rn);
            d.rd = load ? wz(rd) : zr(rd);
            d.op = switch (size) {
                case 0 -> load ? LDRB : STRB;
                case 2 -> load ? LDR_W : STR_W;
                default -> load ? LDR_X : STR_X;
            };
            return;
        }
        if ((insn & 0xFFE0EC00) == 0xF8606800) { // LDR Xt, [Xn, Xm{, LSL #3}]
            d.op = LDR_X_REG;
            d.rd = wz(rd);
            d.rn = sp(rn);
            d.a = (insn & (1 << 12)) != 0 ? 3 : 0;
            return;
        }
        if ((insn & 0xFFE0EC00) == 0x38606800) { // LDRB Wt, [Xn, Xm]
            d.op = LDRB_REG;
            d.rd = wz(rd);
            d.rn = sp(rn);
            return;
        }
        if ((insn & 0xFE000000) == 0xA8000000 || (insn & 0xFE000000) == 0xA9000000) { // X pairs
            int mode = (insn >>> 23) & 3;
            boolean load = (insn & (1 << 22)) != 0;
            d.imm = ((long) (insn << 10) >> 25) << 3;
            d.rn = sp(rn);
            d.rd = load ? wz(rd) : zr(rd);
            d.ra = load ? wz((insn >>> 10) & 31) : zr((insn >>> 10) & 31);
            if (mode == 2) {
                d.op = load ? LDP_X : STP_X;
            } else if (mode == 3 && !load) {
                d.op = STP_X_PRE;
            } else if (mode == 1 && load) {
                d.op = LDP_X_POST;
            }
            return;
        }

        // Branches.
        if ((insn & 0x7C000000) == 0x14000000) {
            d.op = sf ? BL : B;
            d.imm = pc + ((long) (insn << 6) >> 4);
            return;
        }
        if ((insn & 0xFF000010) == 0x54000000) {
            d.op = B_COND;
            d.a = insn & 15;
            d.imm = pc + (((long) (insn << 8) >> 13) << 2);
            return;
        }
        if ((insn & 0x7E000000) == 0x34000000) {
            boolean nz = (insn & (1 << 24)) != 0;
            d.op = sf ? (nz ? CBNZ : CBZ) : (nz ? CBNZ_W : CBZ_W);
            d.rn = zr(rd);
            d.imm = pc + (((long) (insn << 8) >> 13) << 2);
            return;
        }
        if ((insn & 0x7E000000) == 0x36000000) {
            d.op = (insn & (1 << 24)) != 0 ? TBNZ : TBZ;
            d.rn = zr(rd);
            d.a = ((insn >>> 26) & 0x20) | ((insn >>> 19) & 0x1F);
            d.imm = pc + (((long) (insn << 13) >> 18) << 2);
            return;
        }
        if ((insn & 0xFFBFFC1F) == 0xD61F0000) { // BR, RET
            d.op = RET;
            d.rn = zr(rn);
            return;
        }
        if (insn == 0xD503201F) {
            d.op = NOP;
        }
    }

    private static void set(Decoded d, int op, int rd, long imm) {
        d.op = op;
        d.rd = rd;
        d.imm = imm;
    }
}
