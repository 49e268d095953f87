package dev.pagehop.cpu;

/**
 * Integer data processing, executed from the encoding: immediate forms (PC-relative addresses,
 * add/sub, logical, move wide, bitfield, extract) and register forms (logical, add/sub shifted
 * and extended, with carry, conditional compare and select, one-, two- and three-source).
 */
final class IntegerUnit {
    private IntegerUnit() {
    }

    static long ones(int n) {
        return n >= 64 ? -1L : (1L << n) - 1;
    }

    /** Writes a W result: zero-extends into the X register; register 31 here means XZR. */
    private static void setW(Interpreter c, int rd, long v) {
        if (rd != 31) {
            c.r[rd] = v & 0xFFFFFFFFL;
        }
    }

    private static void setX(Interpreter c, int rd, long v) {
        if (rd != 31) {
            c.r[rd] = v;
        }
    }

    private static int spIndex(int n) {
        return n == 31 ? Interpreter.SP : n;
    }

    // ---- immediate ------------------------------------------------------------------------------------

    static void dataProcessingImmediate(Interpreter c, int insn) {
        boolean sf = insn < 0;
        int rd = insn & 31;
        int rn = (insn >>> 5) & 31;
        switch ((insn >>> 23) & 7) {
            case 0, 1 -> { // ADR, ADRP
                long imm = (((((insn >>> 5) & 0x7FFFF) << 2) | ((insn >>> 29) & 3)) << 11) >> 11;
                long v = sf ? (c.pc & ~0xFFFL) + (imm << 12) : c.pc + imm;
                setX(c, rd, v);
            }
            case 2 -> { // ADD/ADDS/SUB/SUBS (immediate)
                boolean sub = (insn & (1 << 30)) != 0;
                boolean setFlags = (insn & (1 << 29)) != 0;
                long imm = (insn >>> 10) & 0xFFF;
                if ((insn & (1 << 22)) != 0) {
                    imm <<= 12;
                }
                long a = c.r[spIndex(rn)];
                long res;
                if (setFlags) {
                    res = sf ? (sub ? c.subs64(a, imm) : c.adds64(a, imm, 0))
                            : (sub ? c.subs32(a, imm) : c.adds32(a, imm, 0)) & 0xFFFFFFFFL;
                    setX(c, rd, res);
                } else {
                    res = sub ? a - imm : a + imm;
                    c.r[spIndex(rd)] = sf ? res : res & 0xFFFFFFFFL;
                }
            }
            case 4 -> { // AND/ORR/EOR/ANDS (immediate)
                int n = (insn >>> 22) & 1;
                if (!sf && n != 0) {
                    throw c.undefined(insn, "logical immediate with N=1 in 32-bit form");
                }
                long imm = decodeBitMask(n, (insn >>> 10) & 63, (insn >>> 16) & 63, sf ? 64 : 32);
                if (imm == 0) {
                    throw c.undefined(insn, "reserved logical immediate pattern");
                }
                long a = c.r[rn];
                int opc = (insn >>> 29) & 3;
                long v = switch (opc) {
                    case 0, 3 -> a & imm;
                    case 1 -> a | imm;
                    default -> a ^ imm;
                };
                if (!sf) {
                    v &= 0xFFFFFFFFL;
                }
                if (opc == 3) {
                    boolean neg = sf ? v < 0 : (int) v < 0;
                    c.nzcv = (neg ? 8 : 0) | (v == 0 ? 4 : 0);
                    setX(c, rd, v);
                } else {
                    c.r[spIndex(rd)] = v;
                }
            }
            case 5 -> { // MOVN, MOVZ, MOVK
                int opc = (insn >>> 29) & 3;
                int hw = (insn >>> 21) & 3;
                if (opc == 1 || (!sf && hw >= 2)) {
                    throw c.undefined(insn, "unallocated move-wide form");
                }
                int pos = hw * 16;
                long imm = ((insn >>> 5) & 0xFFFFL) << pos;
                long v = switch (opc) {
                    case 0 -> ~imm;
                    case 2 -> imm;
                    default -> (c.r[rd] & ~(0xFFFFL << pos)) | imm;
                };
                setX(c, rd, sf ? v : v & 0xFFFFFFFFL);
            }
            case 6 -> bitfield(c, insn, sf, rd, rn);
            case 7 -> { // EXTR
                int n = (insn >>> 22) & 1;
                int imms = (insn >>> 10) & 63;
                if (((insn >>> 29) & 3) != 0 || (insn & (1 << 21)) != 0 || n != (sf ? 1 : 0) || (!sf && imms >= 32)) {
                    throw c.undefined(insn, "unallocated extract form");
                }
                // EXTR Rd, Rn, Rm, #lsb: bits lsb.. of the concatenation Rn:Rm.
                long hi = c.r[rn];
                long lo = c.r[(insn >>> 16) & 31];
                if (sf) {
                    setX(c, rd, imms == 0 ? lo : (lo >>> imms) | (hi << (64 - imms)));
                } else {
                    long cat = ((hi & 0xFFFFFFFFL) << 32) | (lo & 0xFFFFFFFFL);
                    setW(c, rd, cat >>> imms);
                }
            }
            default -> throw c.undefined(insn, "unallocated data-processing-immediate encoding (tagged add/sub or min/max)");
        }
    }

    /**
     * DecodeBitMasks() of the Arm ARM for logical immediates: the replicated, rotated run of ones,
     * or 0 for a reserved pattern (no valid logical immediate is 0).
     */
    static long decodeBitMask(int n, int imms, int immr, int dataSize) {
        int combined = (n << 6) | (~imms & 63);
        if (combined == 0) {
            return 0;
        }
        int len = 31 - Integer.numberOfLeadingZeros(combined);
        if (len < 1) {
            return 0;
        }
        int levels = (1 << len) - 1;
        int s = imms & levels;
        if (s == levels) {
            return 0;
        }
        int rot = immr & levels;
        int esize = 1 << len;
        long welem = ones(s + 1);
        long emask = ones(esize);
        long elem = rot == 0 ? welem : ((welem >>> rot) | (welem << (esize - rot))) & emask;
        long v = 0;
        for (int i = 0; i < dataSize; i += esize) {
            v |= elem << i;
        }
        return dataSize == 64 ? v : v & 0xFFFFFFFFL;
    }

    private static void bitfield(Interpreter c, int insn, boolean sf, int rd, int rn) {
        int opc = (insn >>> 29) & 3;
        int n = (insn >>> 22) & 1;
        int immr = (insn >>> 16) & 63;
        int imms = (insn >>> 10) & 63;
        int size = sf ? 64 : 32;
        if (opc == 3 || n != (sf ? 1 : 0) || (!sf && (immr >= 32 || imms >= 32))) {
            throw c.undefined(insn, "unallocated bitfield form");
        }
        long src = sf ? c.r[rn] : c.r[rn] & 0xFFFFFFFFL;
        long v;
        switch (opc) {
            case 0 -> { // SBFM: ASR, SBFX, SBFIZ, SXTB/H/W
                if (imms >= immr) {
                    int width = imms - immr + 1;
                    v = signExtend(src >>> immr, width);
                } else {
                    int width = imms + 1;
                    v = signExtend(src, width) << (size - immr);
                }
            }
            case 1 -> { // BFM: BFXIL, BFI
                long dst = c.r[rd];
                if (imms >= immr) {
                    int width = imms - immr + 1;
                    long m = ones(width);
                    v = (dst & ~m) | ((src >>> immr) & m);
                } else {
                    int width = imms + 1;
                    int lsb = size - immr;
                    long m = ones(width) << lsb;
                    v = (dst & ~m) | ((src << lsb) & m);
                }
            }
            default -> { // UBFM: LSL, LSR, UBFX, UBFIZ, UXTB/H
                if (imms >= immr) {
                    v = (src >>> immr) & ones(imms - immr + 1);
                } else {
                    v = (src & ones(imms + 1)) << (size - immr);
                }
            }
        }
        setX(c, rd, sf ? v : v & 0xFFFFFFFFL);
    }

    static long signExtend(long v, int width) {
        return width >= 64 ? v : (v << (64 - width)) >> (64 - width);
    }

    // ---- register -------------------------------------------------------------------------------------

    static void dataProcessingRegister(Interpreter c, int insn) {
        int op2 = (insn >>> 21) & 0xF;
        if ((insn & (1 << 28)) == 0) {
            if ((op2 & 8) == 0) {
                logicalShifted(c, insn);
            } else if ((op2 & 1) == 0) {
                addSubShifted(c, insn);
            } else {
                addSubExtended(c, insn);
            }
            return;
        }
        switch (op2) {
            case 0 -> addSubCarry(c, insn);
            case 2 -> conditionalCompare(c, insn);
            case 4 -> conditionalSelect(c, insn);
            case 6 -> {
                if ((insn & (1 << 30)) != 0) {
                    oneSource(c, insn);
                } else {
                    twoSource(c, insn);
                }
            }
            case 8, 9, 10, 11, 12, 13, 14, 15 -> threeSource(c, insn);
            default -> throw c.undefined(insn, "unallocated data-processing-register encoding");
        }
    }

    private static void logicalShifted(Interpreter c, int insn) {
        boolean sf = insn < 0;
        int amount = (insn >>> 10) & 63;
        if (!sf && amount >= 32) {
            throw c.undefined(insn, "32-bit logical with shift amount " + amount);
        }
        int type = (insn >>> 22) & 3;
        long b = sf ? Interpreter.shift(c.r[(insn >>> 16) & 31], type, amount)
                : Interpreter.shift32(c.r[(insn >>> 16) & 31], type, amount);
        if ((insn & (1 << 21)) != 0) {
            b = ~b;
        }
        long a = c.r[(insn >>> 5) & 31];
        int opc = (insn >>> 29) & 3;
        long v = switch (opc) {
            case 0, 3 -> a & b;
            case 1 -> a | b;
            default -> a ^ b;
        };
        int rd = insn & 31;
        if (!sf) {
            v &= 0xFFFFFFFFL;
        }
        if (opc == 3) {
            boolean neg = sf ? v < 0 : (int) v < 0;
            c.nzcv = (neg ? 8 : 0) | (v == 0 ? 4 : 0);
        }
        setX(c, rd, v);
    }

    private static void addSubShifted(Interpreter c, int insn) {
        boolean sf = insn < 0;
        int type = (insn >>> 22) & 3;
        int amount = (insn >>> 10) & 63;
        if (type == 3 || (!sf && amount >= 32)) {
            throw c.undefined(insn, "add/sub shifted register with shift type " + type + " amount " + amount);
        }
        long m = c.r[(insn >>> 16) & 31];
        long b = sf ? Interpreter.shift(m, type, amount) : Interpreter.shift32(m, type, amount);
        addSub(c, insn, sf, c.r[(insn >>> 5) & 31], b, insn & 31, false);
    }

    private static void addSubExtended(Interpreter c, int insn) {
        boolean sf = insn < 0;
        int amount = (insn >>> 10) & 7;
        if (((insn >>> 22) & 3) != 0 || amount > 4) {
            throw c.undefined(insn, "add/sub extended register with opt or shift " + amount);
        }
        long b = extend(c.r[(insn >>> 16) & 31], (insn >>> 13) & 7) << amount;
        addSub(c, insn, sf, c.r[spIndex((insn >>> 5) & 31)], b, insn & 31, true);
    }

    private static void addSub(Interpreter c, int insn, boolean sf, long a, long b, int rd, boolean spDest) {
        boolean sub = (insn & (1 << 30)) != 0;
        boolean setFlags = (insn & (1 << 29)) != 0;
        if (setFlags) {
            long v = sf ? (sub ? c.subs64(a, b) : c.adds64(a, b, 0))
                    : (sub ? c.subs32(a, b) : c.adds32(a, b, 0)) & 0xFFFFFFFFL;
            setX(c, rd, v);
            return;
        }
        long v = sub ? a - b : a + b;
        if (!sf) {
            v &= 0xFFFFFFFFL;
        }
        if (spDest) {
            c.r[spIndex(rd)] = v;
        } else {
            setX(c, rd, v);
        }
    }

    /** ExtendReg(): 0 UXTB, 1 UXTH, 2 UXTW, 3 UXTX, 4 SXTB, 5 SXTH, 6 SXTW, 7 SXTX. */
    static long extend(long v, int option) {
        return switch (option) {
            case 0 -> v & 0xFF;
            case 1 -> v & 0xFFFF;
            case 2 -> v & 0xFFFFFFFFL;
            case 4 -> (byte) v;
            case 5 -> (short) v;
            case 6 -> (int) v;
            default -> v;
        };
    }

    private static void addSubCarry(Interpreter c, int insn) {
        if (((insn >>> 10) & 63) != 0) {
            throw c.undefined(insn, "RMIF/SETF and other flag-manipulation forms");
        }
        boolean sf = insn < 0;
        boolean sub = (insn & (1 << 30)) != 0;
        boolean setFlags = (insn & (1 << 29)) != 0;
        long a = c.r[(insn >>> 5) & 31];
        long b = c.r[(insn >>> 16) & 31];
        if (sub) {
            b = ~b;
        }
        int carry = (c.nzcv >>> 1) & 1;
        int rd = insn & 31;
        long v;
        if (setFlags) {
            v = sf ? c.adds64(a, b, carry) : c.adds32(a, b, carry) & 0xFFFFFFFFL;
        } else {
            v = a + b + carry;
            if (!sf) {
                v &= 0xFFFFFFFFL;
            }
        }
        setX(c, rd, v);
    }

    private static void conditionalCompare(Interpreter c, int insn) {
        if ((insn & (1 << 29)) == 0 || (insn & (1 << 10)) != 0 || (insn & (1 << 4)) != 0) {
            throw c.undefined(insn, "unallocated conditional-compare form");
        }
        boolean sf = insn < 0;
        int cond = (insn >>> 12) & 0xF;
        if (!Flags.holds(c.nzcv, cond)) {
            c.nzcv = insn & 0xF;
            return;
        }
        long a = c.r[(insn >>> 5) & 31];
        long b = (insn & (1 << 11)) != 0 ? (insn >>> 16) & 31 : c.r[(insn >>> 16) & 31];
        boolean sub = (insn & (1 << 30)) != 0;
        if (sf) {
            if (sub) {
                c.subs64(a, b);
            } else {
                c.adds64(a, b, 0);
            }
        } else if (sub) {
            c.subs32(a, b);
        } else {
            c.adds32(a, b, 0);
        }
    }

    private static void conditionalSelect(Interpreter c, int insn) {
        if ((insn & (1 << 29)) != 0 || (insn & (1 << 11)) != 0) {
            throw c.undefined(insn, "unallocated conditional-select form");
        }
        boolean sf = insn < 0;
        int cond = (insn >>> 12) & 0xF;
        long v;
        if (Flags.holds(c.nzcv, cond)) {
            v = c.r[(insn >>> 5) & 31];
        } else {
            v = c.r[(insn >>> 16) & 31];
            boolean invert = (insn & (1 << 30)) != 0;
            boolean increment = (insn & (1 << 10)) != 0;
            if (invert) {
                v = increment ? -v : ~v;
            } else if (increment) {
                v = v + 1;
            }
        }
        setX(c, insn & 31, sf ? v : v & 0xFFFFFFFFL);
    }

    private static void oneSource(Interpreter c, int insn) {
        if ((insn & (1 << 29)) != 0 || ((insn >>> 16) & 31) != 0) {
            throw c.undefined(insn, "pointer-authentication or unallocated one-source form");
        }
        boolean sf = insn < 0;
        long a = c.r[(insn >>> 5) & 31];
        int opcode = (insn >>> 10) & 63;
        long v;
        if (sf) {
            v = switch (opcode) {
                case 0 -> Long.reverse(a);
                case 1 -> rev16(a);
                case 2 -> rev32(a);
                case 3 -> Long.reverseBytes(a);
                case 4 -> Long.numberOfLeadingZeros(a);
                case 5 -> Long.numberOfLeadingZeros(a ^ (a >> 1)) - 1;
                default -> throw c.undefined(insn, "unallocated one-source opcode " + opcode);
            };
        } else {
            int w = (int) a;
            v = switch (opcode) {
                case 0 -> Integer.reverse(w);
                case 1 -> rev16(w & 0xFFFFFFFFL) & 0xFFFFFFFFL;
                case 2 -> Integer.reverseBytes(w);
                case 4 -> Integer.numberOfLeadingZeros(w);
                case 5 -> Integer.numberOfLeadingZeros(w ^ (w >> 1)) - 1;
                default -> throw c.undefined(insn, "unallocated one-source opcode " + opcode);
            };
            v &= 0xFFFFFFFFL;
        }
        setX(c, insn & 31, v);
    }

    static long rev16(long a) {
        return ((a & 0x00FF00FF00FF00FFL) << 8) | ((a >>> 8) & 0x00FF00FF00FF00FFL);
    }

    static long rev32(long a) {
        long lo = Integer.reverseBytes((int) a) & 0xFFFFFFFFL;
        long hi = Integer.reverseBytes((int) (a >>> 32)) & 0xFFFFFFFFL;
        return (hi << 32) | lo;
    }

    private static void twoSource(Interpreter c, int insn) {
        if ((insn & (1 << 29)) != 0) {
            throw c.undefined(insn, "unallocated two-source form with S=1");
        }
        boolean sf = insn < 0;
        long a = c.r[(insn >>> 5) & 31];
        long b = c.r[(insn >>> 16) & 31];
        int opcode = (insn >>> 10) & 63;
        long v;
        if (sf) {
            v = switch (opcode) {
                case 2 -> b == 0 ? 0 : Long.divideUnsigned(a, b);
                case 3 -> b == 0 ? 0 : a / b;
                case 8 -> a << (b & 63);
                case 9 -> a >>> (b & 63);
                case 10 -> a >> (b & 63);
                case 11 -> Long.rotateRight(a, (int) (b & 63));
                default -> throw c.undefined(insn, "unallocated or unimplemented two-source opcode " + opcode
                        + " (CRC32 and pointer-auth forms are not implemented)");
            };
        } else {
            int wa = (int) a;
            int wb = (int) b;
            v = switch (opcode) {
                case 2 -> wb == 0 ? 0 : Integer.divideUnsigned(wa, wb);
                case 3 -> wb == 0 ? 0 : wa / wb;
                case 8 -> wa << (wb & 31);
                case 9 -> wa >>> (wb & 31);
                case 10 -> wa >> (wb & 31);
                case 11 -> Integer.rotateRight(wa, wb & 31);
                default -> throw c.undefined(insn, "unallocated or unimplemented two-source opcode " + opcode
                        + " (CRC32 forms are not implemented)");
            };
            v &= 0xFFFFFFFFL;
        }
        setX(c, insn & 31, v);
    }

    private static void threeSource(Interpreter c, int insn) {
        boolean sf = insn < 0;
        int op31 = (insn >>> 21) & 7;
        boolean sub = (insn & (1 << 15)) != 0;
        if (((insn >>> 29) & 3) != 0 || (!sf && op31 != 0)) {
            throw c.undefined(insn, "unallocated three-source form");
        }
        long n = c.r[(insn >>> 5) & 31];
        long m = c.r[(insn >>> 16) & 31];
        long a = c.r[(insn >>> 10) & 31];
        long v = switch (op31) {
            case 0 -> sub ? a - n * m : a + n * m;
            case 1 -> sub ? a - (long) (int) n * (int) m : a + (long) (int) n * (int) m;
            case 5 -> sub ? a - (n & 0xFFFFFFFFL) * (m & 0xFFFFFFFFL) : a + (n & 0xFFFFFFFFL) * (m & 0xFFFFFFFFL);
            case 2 -> {
                if (sub) {
                    throw c.undefined(insn, "unallocated SMULH form with o0=1");
                }
                yield Math.multiplyHigh(n, m);
            }
            case 6 -> {
                if (sub) {
                    throw c.undefined(insn, "unallocated UMULH form with o0=1");
                }
                yield Math.unsignedMultiplyHigh(n, m);
            }
            default -> throw c.undefined(insn, "unallocated three-source op31 " + op31);
        };
        setX(c, insn & 31, sf ? v : v & 0xFFFFFFFFL);
    }
}
