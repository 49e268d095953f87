package dev.pagehop.cpu;

/**
 * Scalar floating point in S and D registers: moves between general and FP registers,
 * conversions, FMOV immediate and register, one- and two-source arithmetic, fused multiply-add,
 * compares and conditional select. Half precision is not implemented (SIGILL).
 */
final class FloatingPoint {
    private FloatingPoint() {
    }

    static long expandImm64(long imm8) {
        long sign = (imm8 >>> 7) & 1;
        long b6 = (imm8 >>> 6) & 1;
        long exp = ((b6 ^ 1) << 10) | (b6 != 0 ? 0xFFL << 2 : 0) | ((imm8 >>> 4) & 3);
        long frac = (imm8 & 15) << 48;
        return (sign << 63) | (exp << 52) | frac;
    }

    static long expandImm32(long imm8) {
        long sign = (imm8 >>> 7) & 1;
        long b6 = (imm8 >>> 6) & 1;
        long exp = ((b6 ^ 1) << 7) | (b6 != 0 ? 0x1FL << 2 : 0) | ((imm8 >>> 4) & 3);
        long frac = (imm8 & 15) << 19;
        return (sign << 31) | (exp << 23) | frac;
    }

    private static double d(Interpreter c, int reg) {
        return Double.longBitsToDouble(c.vlo[reg]);
    }

    private static float s(Interpreter c, int reg) {
        return Float.intBitsToFloat((int) c.vlo[reg]);
    }

    /** FPDefaultNaN(): what an invalid operation without a NaN operand produces. */
    static final long DEFAULT_NAN_64 = 0x7FF8000000000000L;
    static final int DEFAULT_NAN_32 = 0x7FC00000;

    /**
     * Arm NaN rules on a Java result: the host (x86) makes a negative quiet NaN for invalid
     * operations, Arm makes the positive default NaN, and propagates an operand NaN quietened.
     */
    private static long nan64(double r, double a, double b) {
        if (!Double.isNaN(r)) {
            return Double.doubleToRawLongBits(r);
        }
        if (Double.isNaN(a)) {
            return Double.doubleToRawLongBits(a) | 0x0008000000000000L;
        }
        if (Double.isNaN(b)) {
            return Double.doubleToRawLongBits(b) | 0x0008000000000000L;
        }
        return DEFAULT_NAN_64;
    }

    private static int nan32(float r, float a, float b) {
        if (!Float.isNaN(r)) {
            return Float.floatToRawIntBits(r);
        }
        if (Float.isNaN(a)) {
            return Float.floatToRawIntBits(a) | 0x00400000;
        }
        if (Float.isNaN(b)) {
            return Float.floatToRawIntBits(b) | 0x00400000;
        }
        return DEFAULT_NAN_32;
    }

    private static void setD(Interpreter c, int reg, double v) {
        c.vlo[reg] = nan64(v, 0, 0);
        c.vhi[reg] = 0;
    }

    private static void setS(Interpreter c, int reg, float v) {
        c.vlo[reg] = nan32(v, 0, 0) & 0xFFFFFFFFL;
        c.vhi[reg] = 0;
    }

    static void execute(Interpreter c, int insn) {
        if ((insn & 0x20000000) != 0) {
            throw c.undefined(insn, "unallocated floating-point encoding (S=1)");
        }
        int type = (insn >>> 22) & 3;
        if ((insn & 0x5F000000) == 0x1F000000) {
            fusedMultiplyAdd(c, insn, type);
            return;
        }
        if ((insn & 0x5F20FC00) == 0x1E200000) {
            conversion(c, insn, type);
            return;
        }
        if ((insn & 0x5F200000) == 0x1E000000) {
            fixedPoint(c, insn, type);
            return;
        }
        if (type > 1) {
            throw c.undefined(insn, "half-precision and unallocated FP types not implemented");
        }
        boolean dbl = type == 1;
        int rd = insn & 31;
        int rn = (insn >>> 5) & 31;
        int rm = (insn >>> 16) & 31;
        if ((insn & 0x5F207C00) == 0x1E204000) {
            oneSource(c, insn, dbl, rd, rn);
        } else if ((insn & 0x5F203C00) == 0x1E202000) {
            compare(c, insn, dbl, rn, rm);
        } else if ((insn & 0x5F201FE0) == 0x1E201000) {
            long imm8 = (insn >>> 13) & 0xFF;
            c.vlo[rd] = dbl ? expandImm64(imm8) : expandImm32(imm8);
            c.vhi[rd] = 0;
        } else if ((insn & 0x5F200C00) == 0x1E200400) { // FCCMP, FCCMPE
            if (Flags.holds(c.nzcv, (insn >>> 12) & 15)) {
                compare(c, insn & ~0x18, dbl, rn, rm);
            } else {
                c.nzcv = insn & 15;
            }
        } else if ((insn & 0x5F200C00) == 0x1E200800) {
            twoSource(c, insn, dbl, rd, rn, rm);
        } else if ((insn & 0x5F200C00) == 0x1E200C00) { // FCSEL
            int src = Flags.holds(c.nzcv, (insn >>> 12) & 15) ? rn : rm;
            c.vlo[rd] = dbl ? c.vlo[src] : c.vlo[src] & 0xFFFFFFFFL;
            c.vhi[rd] = 0;
        } else {
            throw c.undefined(insn, "unimplemented floating-point encoding");
        }
    }

    private static void conversion(Interpreter c, int insn, int type) {
        boolean sf = insn < 0;
        int rmode = (insn >>> 19) & 3;
        int opcode = (insn >>> 16) & 7;
        int rd = insn & 31;
        int rn = (insn >>> 5) & 31;
        if (opcode == 6 || opcode == 7) { // FMOV general <-> FP
            boolean toFp = opcode == 7;
            if (rmode == 1 && type == 2 && sf) { // FMOV Xd, Vn.D[1] / FMOV Vd.D[1], Xn
                if (toFp) {
                    c.vhi[rd] = c.r[rn];
                } else if (rd != 31) {
                    c.r[rd] = c.vhi[rn];
                }
                return;
            }
            if (rmode != 0 || (type == 0 && sf) || (type == 1 && !sf) || type > 1) {
                throw c.undefined(insn, "unimplemented FMOV (general) form");
            }
            if (toFp) {
                c.vlo[rd] = sf ? c.r[rn] : c.r[rn] & 0xFFFFFFFFL;
                c.vhi[rd] = 0;
            } else if (rd != 31) {
                c.r[rd] = sf ? c.vlo[rn] : c.vlo[rn] & 0xFFFFFFFFL;
            }
            return;
        }
        if (type > 1) {
            throw c.undefined(insn, "half-precision conversion not implemented");
        }
        boolean dbl = type == 1;
        if (rmode == 0 && (opcode == 2 || opcode == 3)) { // SCVTF, UCVTF
            long v = c.r[rn];
            boolean unsigned = opcode == 3;
            if (!sf) {
                v = unsigned ? v & 0xFFFFFFFFL : (int) v;
            }
            double dv;
            float fv;
            if (unsigned && sf && v < 0) {
                // Round-to-nearest from a 64-bit unsigned: halve with sticky bit, convert, double.
                long half = (v >>> 1) | (v & 1);
                dv = (double) half * 2.0;
                fv = (float) half * 2.0f;
            } else {
                dv = (double) v;
                fv = (float) v;
            }
            if (dbl) {
                setD(c, rd, dv);
            } else {
                setS(c, rd, fv);
            }
            return;
        }
        if ((opcode == 0 || opcode == 1)) { // FCVT[NPMZ][SU]
            double v = dbl ? d(c, rn) : s(c, rn);
            double rounded = switch (rmode) {
                case 0 -> Math.rint(v);
                case 1 -> Math.ceil(v);
                case 2 -> Math.floor(v);
                default -> v < 0 ? Math.ceil(v) : Math.floor(v);
            };
            long out = opcode == 0 ? toSigned(rounded, sf) : toUnsigned(rounded, sf);
            if (rd != 31) {
                c.r[rd] = sf ? out : out & 0xFFFFFFFFL;
            }
            return;
        }
        if (rmode == 0 && (opcode == 4 || opcode == 5)) { // FCVTAS, FCVTAU: ties away
            double v = dbl ? d(c, rn) : s(c, rn);
            double rounded = Math.signum(v) * Math.floor(Math.abs(v) + 0.5);
            long out = opcode == 4 ? toSigned(rounded, sf) : toUnsigned(rounded, sf);
            if (rd != 31) {
                c.r[rd] = sf ? out : out & 0xFFFFFFFFL;
            }
            return;
        }
        throw c.undefined(insn, "unimplemented FP/integer conversion rmode " + rmode + " opcode " + opcode);
    }

    /** FCVTZS/FCVTZU/SCVTF/UCVTF with {@code 64 - scale} fraction bits. */
    private static void fixedPoint(Interpreter c, int insn, int type) {
        boolean sf = insn < 0;
        int rmodeOpcode = (insn >>> 16) & 31;
        int scale = (insn >>> 10) & 63;
        int fbits = 64 - scale;
        if (type > 1 || (!sf && scale < 32)) {
            throw c.undefined(insn, "unallocated or half-precision fixed-point conversion");
        }
        boolean dbl = type == 1;
        int rd = insn & 31;
        int rn = (insn >>> 5) & 31;
        double factor = Math.scalb(1.0, fbits);
        switch (rmodeOpcode) {
            case 0b11000, 0b11001 -> {
                double v = (dbl ? d(c, rn) : s(c, rn)) * factor;
                double t = v < 0 ? Math.ceil(v) : Math.floor(v);
                long out = rmodeOpcode == 0b11000 ? toSigned(t, sf) : toUnsigned(t, sf);
                if (rd != 31) {
                    c.r[rd] = sf ? out : out & 0xFFFFFFFFL;
                }
            }
            case 0b00010, 0b00011 -> {
                long v = c.r[rn];
                boolean unsigned = rmodeOpcode == 0b00011;
                if (!sf) {
                    v = unsigned ? v & 0xFFFFFFFFL : (int) v;
                }
                double dv = unsigned && v < 0 ? ((double) ((v >>> 1) | (v & 1))) * 2.0 : (double) v;
                if (dbl) {
                    setD(c, rd, dv / factor);
                } else {
                    setS(c, rd, (float) (dv / factor));
                }
            }
            default -> throw c.undefined(insn, "unallocated fixed-point conversion rmode/opcode " + rmodeOpcode);
        }
    }

    private static long toSigned(double v, boolean sf) {
        if (Double.isNaN(v)) {
            return 0;
        }
        if (sf) {
            return (long) v; // Java saturates like FCVTZS
        }
        return (int) v;
    }

    private static long toUnsigned(double v, boolean sf) {
        if (Double.isNaN(v) || v <= 0) {
            return 0;
        }
        if (sf) {
            if (v >= 18446744073709551616.0) {
                return -1L;
            }
            if (v >= 9223372036854775808.0) {
                return (long) (v - 9223372036854775808.0) + Long.MIN_VALUE;
            }
            return (long) v;
        }
        return v >= 4294967296.0 ? 0xFFFFFFFFL : (long) v;
    }

    private static void oneSource(Interpreter c, int insn, boolean dbl, int rd, int rn) {
        int opcode = (insn >>> 15) & 63;
        switch (opcode) {
            case 0 -> { // FMOV (register)
                c.vlo[rd] = dbl ? c.vlo[rn] : c.vlo[rn] & 0xFFFFFFFFL;
                c.vhi[rd] = 0;
            }
            case 1 -> {
                if (dbl) {
                    setD(c, rd, Math.abs(d(c, rn)));
                } else {
                    setS(c, rd, Math.abs(s(c, rn)));
                }
            }
            case 2 -> {
                if (dbl) {
                    c.vlo[rd] = c.vlo[rn] ^ Long.MIN_VALUE;
                } else {
                    c.vlo[rd] = (c.vlo[rn] ^ 0x80000000L) & 0xFFFFFFFFL;
                }
                c.vhi[rd] = 0;
            }
            case 3 -> {
                if (dbl) {
                    setD(c, rd, Math.sqrt(d(c, rn)));
                } else {
                    setS(c, rd, (float) Math.sqrt(s(c, rn)));
                }
            }
            case 4 -> setS(c, rd, (float) d(c, rn)); // FCVT Sd, Dn
            case 5 -> setD(c, rd, s(c, rn)); // FCVT Dd, Sn
            case 8, 9, 10, 11, 12, 14, 15 -> { // FRINTN/P/M/Z/A/X/I
                double v = dbl ? d(c, rn) : s(c, rn);
                double r = switch (opcode) {
                    case 9 -> Math.ceil(v);
                    case 10 -> Math.floor(v);
                    case 11 -> v < 0 ? Math.ceil(v) : Math.floor(v);
                    case 12 -> Math.signum(v) * Math.floor(Math.abs(v) + 0.5);
                    default -> Math.rint(v);
                };
                if (dbl) {
                    setD(c, rd, r);
                } else {
                    setS(c, rd, (float) r);
                }
            }
            default -> throw c.undefined(insn, "unimplemented FP one-source opcode " + opcode);
        }
    }

    private static void compare(Interpreter c, int insn, boolean dbl, int rn, int rm) {
        double a = dbl ? d(c, rn) : s(c, rn);
        double b;
        if ((insn & 0x8) != 0) {
            b = 0.0;
        } else {
            b = dbl ? d(c, rm) : s(c, rm);
        }
        if (Double.isNaN(a) || Double.isNaN(b)) {
            c.nzcv = 0b0011;
        } else if (a == b) {
            c.nzcv = 0b0110;
        } else if (a < b) {
            c.nzcv = 0b1000;
        } else {
            c.nzcv = 0b0010;
        }
    }

    private static void twoSource(Interpreter c, int insn, boolean dbl, int rd, int rn, int rm) {
        int opcode = (insn >>> 12) & 15;
        if (dbl) {
            double a = d(c, rn);
            double b = d(c, rm);
            setD2(c, rd, a, b, switch (opcode) {
                case 0 -> a * b;
                case 1 -> a / b;
                case 2 -> a + b;
                case 3 -> a - b;
                case 4, 6 -> Math.max(a, b);
                case 5, 7 -> Math.min(a, b);
                case 8 -> -(a * b);
                default -> throw c.undefined(insn, "unimplemented FP two-source opcode " + opcode);
            });
        } else {
            float a = s(c, rn);
            float b = s(c, rm);
            setS2(c, rd, a, b, switch (opcode) {
                case 0 -> a * b;
                case 1 -> a / b;
                case 2 -> a + b;
                case 3 -> a - b;
                case 4, 6 -> Math.max(a, b);
                case 5, 7 -> Math.min(a, b);
                case 8 -> -(a * b);
                default -> throw c.undefined(insn, "unimplemented FP two-source opcode " + opcode);
            });
        }
    }

    private static void setD2(Interpreter c, int reg, double a, double b, double r) {
        c.vlo[reg] = nan64(r, a, b);
        c.vhi[reg] = 0;
    }

    private static void setS2(Interpreter c, int reg, float a, float b, float r) {
        c.vlo[reg] = nan32(r, a, b) & 0xFFFFFFFFL;
        c.vhi[reg] = 0;
    }

    private static void fusedMultiplyAdd(Interpreter c, int insn, int type) {
        if (type > 1) {
            throw c.undefined(insn, "half-precision fused multiply-add not implemented");
        }
        int rd = insn & 31;
        int rn = (insn >>> 5) & 31;
        int ra = (insn >>> 10) & 31;
        int rm = (insn >>> 16) & 31;
        boolean o1 = (insn & (1 << 21)) != 0;
        boolean o0 = (insn & (1 << 15)) != 0;
        if (type == 1) {
            double n = d(c, rn);
            double a = d(c, ra);
            if (o1) {
                a = -a;
            }
            if (o0 != o1) {
                n = -n;
            }
            setD(c, rd, Math.fma(n, d(c, rm), a));
        } else {
            float n = s(c, rn);
            float a = s(c, ra);
            if (o1) {
                a = -a;
            }
            if (o0 != o1) {
                n = -n;
            }
            setS(c, rd, Math.fma(n, s(c, rm), a));
        }
    }
}
