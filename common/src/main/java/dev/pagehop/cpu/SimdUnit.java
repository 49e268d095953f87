package dev.pagehop.cpu;

/**
 * The Advanced SIMD and floating-point subset that compiled C and a static libc use: SIMD&FP
 * loads and stores, LD1/ST1, bitwise and integer lane arithmetic, compares, reductions, moves
 * between general and vector registers, immediates, shifts, permutes, EXT, TBL, and scalar FP
 * moves, arithmetic, compares and conversions. Anything else raises SIGILL with the encoding.
 *
 * <p>Vectors are held as two longs per register (bits 0-63, 64-127); lanes are little-endian
 * within that pair as in the architecture. Floating point follows Java's IEEE 754 arithmetic
 * with round-to-nearest-even; FPCR rounding modes other than RN and the FPSR cumulative flags are
 * not modelled.
 */
final class SimdUnit {
    private SimdUnit() {
    }

    // ---- lane access on (lo, hi) pairs held in a long[2] ---------------------------------------------

    static long get(long[] v, int esz, int i) {
        int bits = 8 << esz;
        int bit = i * bits;
        long word = bit < 64 ? v[0] : v[1];
        long e = word >>> (bit & 63);
        return bits == 64 ? e : e & ((1L << bits) - 1);
    }

    static void set(long[] v, int esz, int i, long value) {
        int bits = 8 << esz;
        int bit = i * bits;
        int w = bit < 64 ? 0 : 1;
        if (bits == 64) {
            v[w] = value;
            return;
        }
        long m = ((1L << bits) - 1) << (bit & 63);
        v[w] = (v[w] & ~m) | ((value << (bit & 63)) & m);
    }

    private static void read(Interpreter c, int reg, long[] into) {
        into[0] = c.vlo[reg];
        into[1] = c.vhi[reg];
    }

    private static void write(Interpreter c, int reg, long[] from, boolean q) {
        c.vlo[reg] = from[0];
        c.vhi[reg] = q ? from[1] : 0;
    }

    private static long signed(long e, int esz) {
        return IntegerUnit.signExtend(e, 8 << esz);
    }

    // ---- loads and stores ------------------------------------------------------------------------------

    /** Loads 1 << log2 bytes (log2 0..4) into V[rt], zeroing the rest of the register. */
    static void loadVector(Interpreter c, long addr, int rt, int log2) {
        long lo;
        long hi = 0;
        if (log2 == 4) {
            lo = c.load64(addr);
            hi = c.load64(addr + 8);
        } else {
            lo = c.loadSized(addr, log2);
        }
        c.vlo[rt] = lo;
        c.vhi[rt] = hi;
    }

    static void loadVectorPair(Interpreter c, long addr, int rt, int rt2, int log2) {
        int bytes = 1 << log2;
        long lo1;
        long hi1 = 0;
        long lo2;
        long hi2 = 0;
        if (log2 == 4) {
            lo1 = c.load64(addr);
            hi1 = c.load64(addr + 8);
            lo2 = c.load64(addr + 16);
            hi2 = c.load64(addr + 24);
        } else {
            lo1 = c.loadSized(addr, log2);
            lo2 = c.loadSized(addr + bytes, log2);
        }
        c.vlo[rt] = lo1;
        c.vhi[rt] = hi1;
        c.vlo[rt2] = lo2;
        c.vhi[rt2] = hi2;
    }

    static void storeVector(Interpreter c, long addr, int rt, int log2) {
        if (log2 == 4) {
            c.store64(addr, c.vlo[rt]);
            c.store64(addr + 8, c.vhi[rt]);
        } else {
            c.storeSized(addr, c.vlo[rt], log2);
        }
    }

    /** LD1/ST1 (multiple structures, 1 to 4 registers), with optional post-index. */
    static void loadStoreMultiple(Interpreter c, int insn) {
        boolean q = (insn & (1 << 30)) != 0;
        boolean load = (insn & (1 << 22)) != 0;
        boolean post = (insn & (1 << 23)) != 0;
        int opcode = (insn >>> 12) & 0xF;
        int regs = switch (opcode) {
            case 0b0111 -> 1;
            case 0b1010 -> 2;
            case 0b0110 -> 3;
            case 0b0010 -> 4;
            default -> throw c.undefined(insn, "LD2/LD3/LD4/ST2/ST3/ST4 (interleaved structures) not implemented");
        };
        int rn = (insn >>> 5) & 31;
        int baseIndex = rn == 31 ? Interpreter.SP : rn;
        long addr = c.r[baseIndex];
        int rt = insn & 31;
        int bytes = q ? 16 : 8;
        if (load) {
            long[] lo = new long[regs];
            long[] hi = new long[regs];
            for (int i = 0; i < regs; i++) {
                lo[i] = c.load64(addr + (long) i * bytes);
                hi[i] = q ? c.load64(addr + (long) i * bytes + 8) : 0;
            }
            for (int i = 0; i < regs; i++) {
                c.vlo[(rt + i) & 31] = lo[i];
                c.vhi[(rt + i) & 31] = hi[i];
            }
        } else {
            for (int i = 0; i < regs; i++) {
                storeVector(c, addr + (long) i * bytes, (rt + i) & 31, q ? 4 : 3);
            }
        }
        if (post) {
            int rm = (insn >>> 16) & 31;
            c.r[baseIndex] = addr + (rm == 31 ? (long) regs * bytes : c.r[rm]);
        }
    }

    /** LD1R and LD1/ST1 of a single lane, with optional post-index. */
    static void loadStoreSingle(Interpreter c, int insn) {
        boolean q = (insn & (1 << 30)) != 0;
        boolean load = (insn & (1 << 22)) != 0;
        boolean post = (insn & (1 << 23)) != 0;
        if ((insn & (1 << 21)) != 0) {
            throw c.undefined(insn, "LD2/LD3/LD4 single structure not implemented");
        }
        int opcode = (insn >>> 13) & 7;
        int s = (insn >>> 12) & 1;
        int size = (insn >>> 10) & 3;
        int rn = (insn >>> 5) & 31;
        int baseIndex = rn == 31 ? Interpreter.SP : rn;
        long addr = c.r[baseIndex];
        int rt = insn & 31;
        int esz;
        int index;
        long[] v = new long[2];
        read(c, rt, v);
        switch (opcode) {
            case 0 -> {
                esz = 0;
                index = ((q ? 1 : 0) << 3) | (s << 2) | size;
            }
            case 2 -> {
                esz = 1;
                index = ((q ? 1 : 0) << 2) | (s << 1) | (size >>> 1);
            }
            case 4 -> {
                if ((size & 1) == 0) {
                    esz = 2;
                    index = ((q ? 1 : 0) << 1) | s;
                } else {
                    esz = 3;
                    index = q ? 1 : 0;
                }
            }
            case 6 -> { // LD1R
                if (!load || s != 0) {
                    throw c.undefined(insn, "unallocated LD1R form");
                }
                long e = c.loadSized(addr, size);
                for (int i = 0; i < (q ? 16 : 8) >> size; i++) {
                    set(v, size, i, e);
                }
                write(c, rt, v, q);
                if (post) {
                    int rm = (insn >>> 16) & 31;
                    c.r[baseIndex] = addr + (rm == 31 ? 1L << size : c.r[rm]);
                }
                return;
            }
            default -> throw c.undefined(insn, "unallocated single-structure load/store");
        }
        if (load) {
            set(v, esz, index, c.loadSized(addr, esz));
            c.vlo[rt] = v[0];
            c.vhi[rt] = v[1];
        } else {
            c.storeSized(addr, get(v, esz, index), esz);
        }
        if (post) {
            int rm = (insn >>> 16) & 31;
            c.r[baseIndex] = addr + (rm == 31 ? 1L << esz : c.r[rm]);
        }
    }

    // ---- data processing ---------------------------------------------------------------------------

    static void execute(Interpreter c, int insn) {
        if ((insn & 0x9F000000) == 0x0E000000 || (insn & 0x9F000000) == 0x0F000000
                || (insn & 0xDF000000) == 0x5E000000) {
            vector(c, insn);
        } else if ((insn & 0x5F000000) == 0x1E000000 || (insn & 0x5F000000) == 0x1F000000) {
            FloatingPoint.execute(c, insn);
        } else {
            throw c.undefined(insn, "unimplemented SIMD&FP encoding (crypto, SVE or reserved)");
        }
    }

    private static void vector(Interpreter c, int insn) {
        boolean scalar = (insn & (1 << 28)) != 0;
        if (scalar) {
            scalarVector(c, insn);
        } else if ((insn & 0x9F200400) == 0x0E200400) {
            threeSame(c, insn);
        } else if ((insn & 0x9F3E0C00) == 0x0E200800) {
            twoRegMisc(c, insn);
        } else if ((insn & 0x9F3E0C00) == 0x0E300800) {
            acrossLanes(c, insn);
        } else if ((insn & 0x9FE08400) == 0x0E000400) {
            copy(c, insn);
        } else if ((insn & 0x9FF80400) == 0x0F000400) {
            modifiedImmediate(c, insn);
        } else if ((insn & 0x9F800400) == 0x0F000400) {
            shiftImmediate(c, insn);
        } else if ((insn & 0xBF208C00) == 0x0E000800) {
            permute(c, insn);
        } else if ((insn & 0xBFE08400) == 0x2E000000) {
            extract(c, insn);
        } else if ((insn & 0xBFE08C00) == 0x0E000000) {
            tableLookup(c, insn);
        } else if ((insn & 0x9F200C00) == 0x0E200000) {
            threeDifferent(c, insn);
        } else {
            throw c.undefined(insn, "unimplemented Advanced SIMD encoding");
        }
    }

    private static void threeSame(Interpreter c, int insn) {
        boolean q = (insn & (1 << 30)) != 0;
        boolean u = (insn & (1 << 29)) != 0;
        int size = (insn >>> 22) & 3;
        int opcode = (insn >>> 11) & 31;
        int rm = (insn >>> 16) & 31;
        int rn = (insn >>> 5) & 31;
        int rd = insn & 31;
        if (opcode == 0b00011) { // bitwise
            long nlo = c.vlo[rn];
            long nhi = c.vhi[rn];
            long mlo = c.vlo[rm];
            long mhi = c.vhi[rm];
            long dlo = c.vlo[rd];
            long dhi = c.vhi[rd];
            long lo;
            long hi;
            int sel = (u ? 4 : 0) | size;
            switch (sel) {
                case 0 -> { lo = nlo & mlo; hi = nhi & mhi; }
                case 1 -> { lo = nlo & ~mlo; hi = nhi & ~mhi; }
                case 2 -> { lo = nlo | mlo; hi = nhi | mhi; }
                case 3 -> { lo = nlo | ~mlo; hi = nhi | ~mhi; }
                case 4 -> { lo = nlo ^ mlo; hi = nhi ^ mhi; }
                case 5 -> { lo = (dlo & nlo) | (~dlo & mlo); hi = (dhi & nhi) | (~dhi & mhi); } // BSL
                case 6 -> { lo = (mlo & nlo) | (~mlo & dlo); hi = (mhi & nhi) | (~mhi & dhi); } // BIT
                default -> { lo = (~mlo & nlo) | (mlo & dlo); hi = (~mhi & nhi) | (mhi & dhi); } // BIF
            }
            c.vlo[rd] = lo;
            c.vhi[rd] = q ? hi : 0;
            return;
        }
        if (size == 3 && !q) {
            throw c.undefined(insn, "64-bit lanes need Q=1");
        }
        long[] a = new long[2];
        long[] b = new long[2];
        long[] d = new long[2];
        long[] old = new long[2];
        read(c, rn, a);
        read(c, rm, b);
        read(c, rd, old);
        int lanes = (q ? 16 : 8) >> size;
        boolean pairwise = opcode == 0b10100 || opcode == 0b10101 || (opcode == 0b10111 && !u);
        for (int i = 0; i < lanes; i++) {
            long x;
            long y;
            if (pairwise) {
                int j = 2 * i;
                long[] src = j < lanes ? a : b;
                int k = j < lanes ? j : j - lanes;
                x = get(src, size, k);
                y = get(src, size, k + 1);
            } else {
                x = get(a, size, i);
                y = get(b, size, i);
            }
            long sx = signed(x, size);
            long sy = signed(y, size);
            long ones = -1L;
            long r = switch (opcode) {
                case 0b10000 -> u ? x - y : x + y;
                case 0b10001 -> u ? (x == y ? ones : 0) : ((x & y) != 0 ? ones : 0);
                case 0b00110 -> (u ? Long.compareUnsigned(x, y) > 0 : sx > sy) ? ones : 0;
                case 0b00111 -> (u ? Long.compareUnsigned(x, y) >= 0 : sx >= sy) ? ones : 0;
                case 0b01100, 0b10100 -> u ? (Long.compareUnsigned(x, y) >= 0 ? x : y) : (sx >= sy ? x : y);
                case 0b01101, 0b10101 -> u ? (Long.compareUnsigned(x, y) <= 0 ? x : y) : (sx <= sy ? x : y);
                case 0b10111 -> x + y;
                case 0b10011 -> {
                    if (u) {
                        throw c.undefined(insn, "PMUL not implemented");
                    }
                    yield x * y;
                }
                case 0b10010 -> u ? get(old, size, i) - x * y : get(old, size, i) + x * y; // MLS, MLA
                case 0b00001 -> saturatingAdd(x, y, size, u);
                case 0b00101 -> saturatingSub(x, y, size, u);
                case 0b01000 -> shiftByRegister(x, y, size, u);
                default -> throw c.undefined(insn, "unimplemented Advanced SIMD three-same opcode " + opcode);
            };
            set(d, size, i, r);
        }
        write(c, rd, d, q);
    }

    private static long saturatingAdd(long x, long y, int esz, boolean unsigned) {
        int bits = 8 << esz;
        if (unsigned) {
            long s = x + y;
            if (bits == 64) {
                return Long.compareUnsigned(s, x) < 0 ? -1L : s;
            }
            long max = (1L << bits) - 1;
            return s > max ? max : s;
        }
        long sx = IntegerUnit.signExtend(x, bits);
        long sy = IntegerUnit.signExtend(y, bits);
        if (bits == 64) {
            long s = sx + sy;
            if (((sx ^ s) & (sy ^ s)) < 0) {
                return sx < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
            }
            return s;
        }
        long s = sx + sy;
        long max = (1L << (bits - 1)) - 1;
        long min = -(1L << (bits - 1));
        return Math.max(min, Math.min(max, s));
    }

    private static long saturatingSub(long x, long y, int esz, boolean unsigned) {
        int bits = 8 << esz;
        if (unsigned) {
            return Long.compareUnsigned(x, y) < 0 ? 0 : x - y;
        }
        long sx = IntegerUnit.signExtend(x, bits);
        long sy = IntegerUnit.signExtend(y, bits);
        if (bits == 64) {
            long s = sx - sy;
            if (((sx ^ sy) & (sx ^ s)) < 0) {
                return sx < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
            }
            return s;
        }
        long s = sx - sy;
        long max = (1L << (bits - 1)) - 1;
        long min = -(1L << (bits - 1));
        return Math.max(min, Math.min(max, s));
    }

    private static long shiftByRegister(long x, long y, int esz, boolean unsigned) {
        int bits = 8 << esz;
        int sh = (byte) y;
        if (sh >= 0) {
            return sh >= bits ? 0 : x << sh;
        }
        int r = -sh;
        if (unsigned) {
            return r >= bits ? 0 : x >>> r;
        }
        long sx = IntegerUnit.signExtend(x, bits);
        return sx >> Math.min(r, 63);
    }

    private static void threeDifferent(Interpreter c, int insn) {
        boolean q = (insn & (1 << 30)) != 0;
        boolean u = (insn & (1 << 29)) != 0;
        int size = (insn >>> 22) & 3;
        int opcode = (insn >>> 12) & 0xF;
        if (size == 3) {
            throw c.undefined(insn, "unallocated three-different size");
        }
        long[] a = new long[2];
        long[] b = new long[2];
        long[] d = new long[2];
        read(c, (insn >>> 5) & 31, a);
        read(c, (insn >>> 16) & 31, b);
        int lanes = 8 >> size;
        int off = q ? lanes : 0;
        for (int i = 0; i < lanes; i++) {
            long y = get(b, size, i + off);
            long yv = u ? y : signed(y, size);
            long r = switch (opcode) {
                case 0b0000 -> ext(get(a, size, i + off), size, u) + yv; // UADDL/SADDL
                case 0b0001 -> get(a, size + 1, i) + yv; // UADDW/SADDW
                case 0b0010 -> ext(get(a, size, i + off), size, u) - yv; // USUBL/SSUBL
                case 0b0011 -> get(a, size + 1, i) - yv; // USUBW/SSUBW
                case 0b1100 -> ext(get(a, size, i + off), size, u) * yv; // UMULL/SMULL
                default -> throw c.undefined(insn, "unimplemented Advanced SIMD three-different opcode " + opcode);
            };
            set(d, size + 1, i, r);
        }
        write(c, insn & 31, d, true);
    }

    private static long ext(long e, int esz, boolean unsigned) {
        return unsigned ? e : signed(e, esz);
    }

    private static void twoRegMisc(Interpreter c, int insn) {
        boolean q = (insn & (1 << 30)) != 0;
        boolean u = (insn & (1 << 29)) != 0;
        int size = (insn >>> 22) & 3;
        int opcode = (insn >>> 12) & 31;
        int rd = insn & 31;
        long[] a = new long[2];
        long[] d = new long[2];
        read(c, (insn >>> 5) & 31, a);
        if (opcode == 0b00101) { // CNT, NOT, RBIT
            if (!u && size == 0) {
                for (int i = 0; i < 16; i++) {
                    set(d, 0, i, Long.bitCount(get(a, 0, i)));
                }
            } else if (u && size == 0) {
                d[0] = ~a[0];
                d[1] = ~a[1];
            } else if (u && size == 1) {
                for (int i = 0; i < 16; i++) {
                    set(d, 0, i, Integer.reverse((int) get(a, 0, i)) >>> 24);
                }
            } else {
                throw c.undefined(insn, "unallocated CNT/NOT/RBIT size");
            }
            write(c, rd, d, q);
            return;
        }
        if (opcode == 0b10010 && !u) { // XTN, XTN2
            if (size == 3) {
                throw c.undefined(insn, "unallocated XTN size");
            }
            int lanes = 8 >> size;
            long[] dst = new long[2];
            read(c, rd, dst);
            for (int i = 0; i < lanes; i++) {
                set(dst, size, i + (q ? lanes : 0), get(a, size + 1, i));
            }
            if (!q) {
                dst[1] = 0;
            }
            c.vlo[rd] = dst[0];
            c.vhi[rd] = dst[1];
            return;
        }
        if (opcode <= 1) { // REV64, REV32, REV16
            int container = opcode == 1 ? 1 : (u ? 2 : 3); // log2 bytes of the reversed container
            if (size >= container) {
                throw c.undefined(insn, "unallocated REV size");
            }
            int per = 1 << (container - size);
            int lanes = (q ? 16 : 8) >> size;
            for (int i = 0; i < lanes; i++) {
                int base = i - i % per;
                set(d, size, i, get(a, size, base + per - 1 - i % per));
            }
            write(c, rd, d, q);
            return;
        }
        if (size == 3 && !q) {
            throw c.undefined(insn, "64-bit lanes need Q=1");
        }
        int lanes = (q ? 16 : 8) >> size;
        for (int i = 0; i < lanes; i++) {
            long x = get(a, size, i);
            long sx = signed(x, size);
            long r = switch (opcode) {
                case 0b01000 -> (u ? sx >= 0 : sx > 0) ? -1L : 0; // CMGE/CMGT #0
                case 0b01001 -> (u ? sx <= 0 : sx == 0) ? -1L : 0; // CMLE/CMEQ #0
                case 0b01010 -> {
                    if (u) {
                        throw c.undefined(insn, "unallocated two-register misc");
                    }
                    yield sx < 0 ? -1L : 0; // CMLT #0
                }
                case 0b01011 -> u ? -sx : Math.abs(sx); // NEG, ABS
                default -> throw c.undefined(insn, "unimplemented Advanced SIMD two-register misc opcode " + opcode);
            };
            set(d, size, i, r);
        }
        write(c, rd, d, q);
    }

    private static void acrossLanes(Interpreter c, int insn) {
        boolean q = (insn & (1 << 30)) != 0;
        boolean u = (insn & (1 << 29)) != 0;
        int size = (insn >>> 22) & 3;
        int opcode = (insn >>> 12) & 31;
        if (size == 3 || (size == 2 && !q)) {
            throw c.undefined(insn, "unallocated across-lanes size");
        }
        long[] a = new long[2];
        read(c, (insn >>> 5) & 31, a);
        int lanes = (q ? 16 : 8) >> size;
        long acc = opcode == 0b00011 ? 0 : ext(get(a, size, 0), size, u);
        int outSize = size;
        for (int i = opcode == 0b00011 ? 0 : 1; i < lanes; i++) {
            long x = ext(get(a, size, i), size, u);
            acc = switch (opcode) {
                case 0b11011 -> acc + x; // ADDV
                case 0b00011 -> acc + x; // SADDLV/UADDLV
                case 0b01010 -> u ? (Long.compareUnsigned(acc, x) >= 0 ? acc : x) : Math.max(acc, x);
                case 0b11010 -> u ? (Long.compareUnsigned(acc, x) <= 0 ? acc : x) : Math.min(acc, x);
                default -> throw c.undefined(insn, "unimplemented across-lanes opcode " + opcode);
            };
        }
        if (opcode == 0b00011) {
            outSize = size + 1;
        }
        c.vlo[insn & 31] = outSize == 3 ? acc : acc & ((1L << (8 << outSize)) - 1);
        c.vhi[insn & 31] = 0;
    }

    private static void copy(Interpreter c, int insn) {
        boolean q = (insn & (1 << 30)) != 0;
        boolean op = (insn & (1 << 29)) != 0;
        int imm5 = (insn >>> 16) & 31;
        int imm4 = (insn >>> 11) & 15;
        int rn = (insn >>> 5) & 31;
        int rd = insn & 31;
        int size = Integer.numberOfTrailingZeros(imm5);
        if (size > 3) {
            throw c.undefined(insn, "unallocated copy imm5");
        }
        int index = imm5 >>> (size + 1);
        long[] d = new long[2];
        long[] a = new long[2];
        if (op) { // INS (element)
            if (!q) {
                throw c.undefined(insn, "unallocated INS (element) with Q=0");
            }
            read(c, rd, d);
            read(c, rn, a);
            set(d, size, index, get(a, size, imm4 >>> size));
            write(c, rd, d, true);
            return;
        }
        switch (imm4) {
            case 0b0000, 0b0001 -> { // DUP (element), DUP (general)
                if (size == 3 && !q) {
                    throw c.undefined(insn, "unallocated DUP with 64-bit lanes and Q=0");
                }
                long e;
                if (imm4 == 0) {
                    read(c, rn, a);
                    e = get(a, size, index);
                } else {
                    e = c.r[rn];
                }
                for (int i = 0; i < (q ? 16 : 8) >> size; i++) {
                    set(d, size, i, e);
                }
                write(c, rd, d, q);
            }
            case 0b0011 -> { // INS (general)
                read(c, rd, d);
                set(d, size, index, c.r[rn]);
                write(c, rd, d, true);
            }
            case 0b0101, 0b0111 -> { // SMOV, UMOV
                read(c, rn, a);
                long e = get(a, size, index);
                long v;
                if (imm4 == 0b0111) {
                    v = e;
                    if ((size == 3) != q) {
                        throw c.undefined(insn, "unallocated UMOV form");
                    }
                } else {
                    v = signed(e, size);
                    if (!q) {
                        v &= 0xFFFFFFFFL;
                    }
                }
                if (rd != 31) {
                    c.r[rd] = v;
                }
            }
            default -> throw c.undefined(insn, "unallocated Advanced SIMD copy imm4 " + imm4);
        }
    }

    private static void modifiedImmediate(Interpreter c, int insn) {
        boolean q = (insn & (1 << 30)) != 0;
        boolean op = (insn & (1 << 29)) != 0;
        int cmode = (insn >>> 12) & 15;
        int rd = insn & 31;
        long abc = (insn >>> 16) & 7;
        long defgh = (insn >>> 5) & 31;
        long imm8 = (abc << 5) | defgh;
        if ((insn & (1 << 11)) != 0) {
            throw c.undefined(insn, "FMOV (vector, immediate, half precision) not implemented");
        }
        long imm64;
        switch (cmode >>> 1) {
            case 0, 1, 2, 3 -> {
                long e = imm8 << (8 * (cmode >>> 1));
                imm64 = e | (e << 32);
            }
            case 4, 5 -> {
                long e = imm8 << (8 * ((cmode >>> 1) & 1));
                imm64 = e | (e << 16) | (e << 32) | (e << 48);
            }
            case 6 -> {
                long e = (cmode & 1) == 0 ? (imm8 << 8) | 0xFF : (imm8 << 16) | 0xFFFF;
                imm64 = e | (e << 32);
            }
            default -> {
                if ((cmode & 1) == 0) {
                    if (!op) {
                        imm64 = imm8 * 0x0101010101010101L;
                    } else {
                        imm64 = 0;
                        for (int i = 0; i < 8; i++) {
                            if ((imm8 & (1L << i)) != 0) {
                                imm64 |= 0xFFL << (8 * i);
                            }
                        }
                    }
                } else {
                    if (op && !q) {
                        throw c.undefined(insn, "unallocated FMOV (vector, immediate) form");
                    }
                    imm64 = op ? FloatingPoint.expandImm64(imm8) : FloatingPoint.expandImm32(imm8) * 0x100000001L;
                    c.vlo[rd] = imm64;
                    c.vhi[rd] = q ? imm64 : 0;
                    return;
                }
            }
        }
        boolean orBic = cmode < 12 && (cmode & 1) == 1;
        long lo;
        long hi;
        if (!orBic) {
            lo = op && cmode != 14 ? ~imm64 : imm64; // MVNI (MOVI with op=1, cmode 1110 is the 64-bit MOVI)
            hi = lo;
        } else if (!op) { // ORR (vector, immediate)
            lo = c.vlo[rd] | imm64;
            hi = c.vhi[rd] | imm64;
        } else { // BIC (vector, immediate)
            lo = c.vlo[rd] & ~imm64;
            hi = c.vhi[rd] & ~imm64;
        }
        c.vlo[rd] = lo;
        c.vhi[rd] = q ? hi : 0;
    }

    private static void shiftImmediate(Interpreter c, int insn) {
        boolean q = (insn & (1 << 30)) != 0;
        boolean u = (insn & (1 << 29)) != 0;
        int immh = (insn >>> 19) & 15;
        int immhb = (insn >>> 16) & 127;
        int opcode = (insn >>> 11) & 31;
        int rd = insn & 31;
        int size = 31 - Integer.numberOfLeadingZeros(immh);
        long[] a = new long[2];
        long[] d = new long[2];
        read(c, (insn >>> 5) & 31, a);
        int bits = 8 << size;
        switch (opcode) {
            case 0b10000, 0b10001 -> { // SHRN/RSHRN (U=0)
                if (u || size == 3) {
                    throw c.undefined(insn, "saturating narrowing shifts not implemented");
                }
                int sh = 2 * bits - immhb;
                int lanes = 8 >> size;
                read(c, rd, d);
                for (int i = 0; i < lanes; i++) {
                    long e = get(a, size + 1, i);
                    if (opcode == 0b10001) {
                        e += 1L << (sh - 1);
                    }
                    set(d, size, i + (q ? lanes : 0), e >>> sh);
                }
                if (!q) {
                    d[1] = 0;
                }
                c.vlo[rd] = d[0];
                c.vhi[rd] = d[1];
                return;
            }
            case 0b10100 -> { // SSHLL/USHLL (UXTL/SXTL)
                if (size == 3) {
                    throw c.undefined(insn, "unallocated SHLL size");
                }
                int sh = immhb - bits;
                int lanes = 8 >> size;
                for (int i = 0; i < lanes; i++) {
                    long e = ext(get(a, size, i + (q ? lanes : 0)), size, u);
                    set(d, size + 1, i, e << sh);
                }
                write(c, rd, d, true);
                return;
            }
            default -> {
            }
        }
        if (size == 3 && !q) {
            throw c.undefined(insn, "64-bit lanes need Q=1");
        }
        int lanes = (q ? 16 : 8) >> size;
        long[] old = new long[2];
        read(c, rd, old);
        for (int i = 0; i < lanes; i++) {
            long e = get(a, size, i);
            long r;
            switch (opcode) {
                case 0b00000, 0b00010 -> { // SSHR/USHR, SSRA/USRA
                    int sh = 2 * bits - immhb;
                    long v = u ? (sh >= 64 ? 0 : e >>> sh) : signed(e, size) >> Math.min(sh, 63);
                    r = opcode == 0b00010 ? get(old, size, i) + v : v;
                }
                case 0b01010 -> { // SHL (U=0), SLI (U=1)
                    int sh = immhb - bits;
                    if (u) {
                        long m = IntegerUnit.ones(bits) << sh;
                        r = (get(old, size, i) & ~m) | ((e << sh) & m);
                    } else {
                        r = e << sh;
                    }
                }
                case 0b01000 -> { // SRI (U=1)
                    if (!u) {
                        throw c.undefined(insn, "unallocated shift-immediate opcode");
                    }
                    int sh = 2 * bits - immhb;
                    long m = sh >= 64 ? 0 : IntegerUnit.ones(bits) >>> sh;
                    r = (get(old, size, i) & ~m) | (sh >= 64 ? 0 : (e >>> sh) & m);
                }
                default -> throw c.undefined(insn, "unimplemented shift-by-immediate opcode " + opcode);
            }
            set(d, size, i, r);
        }
        write(c, rd, d, q);
    }

    private static void permute(Interpreter c, int insn) {
        boolean q = (insn & (1 << 30)) != 0;
        int size = (insn >>> 22) & 3;
        int opcode = (insn >>> 12) & 7;
        if (size == 3 && !q) {
            throw c.undefined(insn, "64-bit lanes need Q=1");
        }
        long[] a = new long[2];
        long[] b = new long[2];
        long[] d = new long[2];
        read(c, (insn >>> 5) & 31, a);
        read(c, (insn >>> 16) & 31, b);
        int lanes = (q ? 16 : 8) >> size;
        int half = lanes / 2;
        int part = (opcode >>> 2) & 1;
        for (int i = 0; i < lanes; i++) {
            long e = switch (opcode & 3) {
                case 1 -> { // UZP
                    int k = 2 * i + part;
                    yield k < lanes ? get(a, size, k) : get(b, size, k - lanes);
                }
                case 2 -> { // TRN
                    int pair = i & ~1;
                    yield (i & 1) == 0 ? get(a, size, pair + part) : get(b, size, pair + part);
                }
                case 3 -> { // ZIP
                    int k = part * half + i / 2;
                    yield (i & 1) == 0 ? get(a, size, k) : get(b, size, k);
                }
                default -> throw c.undefined(insn, "unallocated permute opcode");
            };
            set(d, size, i, e);
        }
        write(c, insn & 31, d, q);
    }

    private static void extract(Interpreter c, int insn) {
        boolean q = (insn & (1 << 30)) != 0;
        int imm4 = (insn >>> 11) & 15;
        if (!q && imm4 >= 8) {
            throw c.undefined(insn, "unallocated EXT index");
        }
        long[] a = new long[2];
        long[] b = new long[2];
        long[] d = new long[2];
        read(c, (insn >>> 5) & 31, a);
        read(c, (insn >>> 16) & 31, b);
        int bytes = q ? 16 : 8;
        for (int i = 0; i < bytes; i++) {
            int k = i + imm4;
            set(d, 0, i, k < bytes ? get(a, 0, k) : get(b, 0, k - bytes));
        }
        write(c, insn & 31, d, q);
    }

    private static void tableLookup(Interpreter c, int insn) {
        boolean q = (insn & (1 << 30)) != 0;
        int len = ((insn >>> 13) & 3) + 1;
        boolean tbx = (insn & (1 << 12)) != 0;
        int rn = (insn >>> 5) & 31;
        int rd = insn & 31;
        long[] idx = new long[2];
        long[] d = new long[2];
        read(c, (insn >>> 16) & 31, idx);
        read(c, rd, d);
        long[] table = new long[2 * len];
        for (int t = 0; t < len; t++) {
            table[2 * t] = c.vlo[(rn + t) & 31];
            table[2 * t + 1] = c.vhi[(rn + t) & 31];
        }
        long[] out = new long[2];
        for (int i = 0; i < (q ? 16 : 8); i++) {
            int k = (int) get(idx, 0, i);
            long e;
            if (k < 16 * len) {
                long word = table[k >>> 3];
                e = (word >>> (8 * (k & 7))) & 0xFF;
            } else {
                e = tbx ? get(d, 0, i) : 0;
            }
            set(out, 0, i, e);
        }
        write(c, rd, out, q);
    }

    /** The few scalar Advanced SIMD forms compilers emit for 64-bit integer work in D registers. */
    private static void scalarVector(Interpreter c, int insn) {
        int rd = insn & 31;
        int rn = (insn >>> 5) & 31;
        if ((insn & 0xFF3FFC00) == 0x5E31B800) { // ADDP (scalar): D[0] + D[1]
            if (((insn >>> 22) & 3) != 3) {
                throw c.undefined(insn, "unallocated scalar ADDP size");
            }
            c.vlo[rd] = c.vlo[rn] + c.vhi[rn];
            c.vhi[rd] = 0;
            return;
        }
        if ((insn & 0xDFE0FC00) == 0x5EE08400) { // ADD/SUB (scalar, D)
            int rm = (insn >>> 16) & 31;
            boolean sub = (insn & (1 << 29)) != 0;
            c.vlo[rd] = sub ? c.vlo[rn] - c.vlo[rm] : c.vlo[rn] + c.vlo[rm];
            c.vhi[rd] = 0;
            return;
        }
        if ((insn & 0xFFE0FC00) == 0x7EE08C00) { // CMEQ (scalar, D)
            c.vlo[rd] = c.vlo[rn] == c.vlo[(insn >>> 16) & 31] ? -1L : 0;
            c.vhi[rd] = 0;
            return;
        }
        if ((insn & 0xDF80FC00) == 0x5F000400 && (insn & (1 << 22)) != 0) { // SSHR/USHR (scalar, D)
            int sh = 128 - ((insn >>> 16) & 127);
            long e = c.vlo[rn];
            boolean u = (insn & (1 << 29)) != 0;
            c.vlo[rd] = u ? (sh >= 64 ? 0 : e >>> sh) : e >> Math.min(sh, 63);
            c.vhi[rd] = 0;
            return;
        }
        if ((insn & 0xFF80FC00) == 0x5F005400 && (insn & (1 << 22)) != 0) { // SHL (scalar, D)
            int sh = ((insn >>> 16) & 127) - 64;
            c.vlo[rd] = c.vlo[rn] << sh;
            c.vhi[rd] = 0;
            return;
        }
        if ((insn & 0xFFE0FC00) == 0x5E000400 || (insn & 0xFFE1FC00) == 0x5E000400) { // DUP (element, scalar)
            int imm5 = (insn >>> 16) & 31;
            int size = Integer.numberOfTrailingZeros(imm5);
            if (size > 3) {
                throw c.undefined(insn, "unallocated DUP (scalar) imm5");
            }
            long[] a = new long[2];
            read(c, rn, a);
            c.vlo[rd] = get(a, size, imm5 >>> (size + 1));
            c.vhi[rd] = 0;
            return;
        }
        throw c.undefined(insn, "unimplemented scalar Advanced SIMD encoding");
    }
}
