package dev.pagehop.cpu;

/**
 * Loads and stores executed from the encoding: single registers (general and SIMD&FP) with
 * unsigned-offset, unscaled, pre/post-index, register-offset and literal addressing; pairs;
 * exclusives and load-acquire/store-release; compare-and-swap and the LSE atomic memory
 * operations; LD1/ST1 of multiple structures. Every access goes through the MMU, and registers
 * are written only after all of an instruction's accesses succeeded.
 */
final class LoadStoreUnit {
    private LoadStoreUnit() {
    }

    static void execute(Interpreter c, int insn) {
        if ((insn & 0x3F000000) == 0x08000000) {
            exclusiveOrdered(c, insn);
        } else if ((insn & 0xBFBF0000) == 0x0C000000 || (insn & 0xBFA00000) == 0x0C800000) {
            SimdUnit.loadStoreMultiple(c, insn);
        } else if ((insn & 0xBF9F0000) == 0x0D000000 || (insn & 0xBF800000) == 0x0D800000) {
            SimdUnit.loadStoreSingle(c, insn);
        } else if ((insn & 0x3B000000) == 0x18000000) {
            literal(c, insn);
        } else if ((insn & 0x3A000000) == 0x28000000) {
            pair(c, insn);
        } else if ((insn & 0x3B000000) == 0x39000000) {
            int size = insn >>> 30;
            int scale = accessLog2(c, insn);
            long offset = (long) ((insn >>> 10) & 0xFFF) << scale;
            single(c, insn, c.r[base(insn)] + offset, 0, false);
            if (size < 0) {
                throw new AssertionError();
            }
        } else if ((insn & 0x3B200000) == 0x38000000) {
            long imm9 = (insn << 11) >> 23;
            long base = c.r[base(insn)];
            switch ((insn >>> 10) & 3) {
                case 0, 2 -> single(c, insn, base + imm9, 0, false);
                case 1 -> single(c, insn, base, base + imm9, true);
                default -> single(c, insn, base + imm9, base + imm9, true);
            }
        } else if ((insn & 0x3B200C00) == 0x38200800) {
            int option = (insn >>> 13) & 7;
            if ((option & 2) == 0) {
                throw c.undefined(insn, "register-offset load/store with extend option " + option);
            }
            int amount = (insn & (1 << 12)) != 0 ? accessLog2(c, insn) : 0;
            long offset = IntegerUnit.extend(c.r[(insn >>> 16) & 31], option) << amount;
            single(c, insn, c.r[base(insn)] + offset, 0, false);
        } else if ((insn & 0x3F200C00) == 0x38200000) {
            atomic(c, insn);
        } else if ((insn & 0x3F200C00) == 0x19000000) {
            unscaledOrdered(c, insn);
        } else {
            throw c.undefined(insn, "unallocated or unimplemented load/store encoding");
        }
    }

    private static int base(int insn) {
        int rn = (insn >>> 5) & 31;
        return rn == 31 ? Interpreter.SP : rn;
    }

    /** log2 of the access size of a single-register load/store: 0..3, or 4 for a Q register. */
    private static int accessLog2(Interpreter c, int insn) {
        int size = insn >>> 30;
        if ((insn & (1 << 26)) != 0 && (insn & (1 << 23)) != 0) {
            if (size != 0) {
                throw c.undefined(insn, "SIMD&FP load/store with size " + size + " and opc 1x");
            }
            return 4;
        }
        return size;
    }

    /** One register to or from {@code addr}; writes {@code writeback} to the base after success. */
    private static void single(Interpreter c, int insn, long addr, long writeback, boolean doWriteback) {
        int size = insn >>> 30;
        int opc = (insn >>> 22) & 3;
        int rt = insn & 31;
        if ((insn & (1 << 26)) != 0) {
            int log2 = accessLog2(c, insn);
            if ((opc & 1) == 0) {
                SimdUnit.storeVector(c, addr, rt, log2);
            } else {
                SimdUnit.loadVector(c, addr, rt, log2);
            }
        } else {
            switch (opc) {
                case 0 -> c.storeSized(addr, c.r[rt], size);
                case 1 -> {
                    long v = c.loadSized(addr, size);
                    if (rt != 31) {
                        c.r[rt] = v;
                    }
                }
                case 2 -> {
                    if (size == 3) {
                        break; // PRFM / PRFUM: a hint, and never faults
                    }
                    long v = IntegerUnit.signExtend(c.loadSized(addr, size), 8 << size);
                    if (rt != 31) {
                        c.r[rt] = v;
                    }
                }
                default -> {
                    if (size >= 2) {
                        throw c.undefined(insn, "unallocated load with size " + size + " and opc 11");
                    }
                    long v = IntegerUnit.signExtend(c.loadSized(addr, size), 8 << size) & 0xFFFFFFFFL;
                    if (rt != 31) {
                        c.r[rt] = v;
                    }
                }
            }
        }
        if (doWriteback) {
            c.r[base(insn)] = writeback;
        }
    }

    private static void literal(Interpreter c, int insn) {
        int opc = insn >>> 30;
        long addr = c.pc + (((long) (insn << 8) >> 13) << 2);
        int rt = insn & 31;
        if ((insn & (1 << 26)) != 0) {
            if (opc == 3) {
                throw c.undefined(insn, "unallocated SIMD&FP literal load");
            }
            SimdUnit.loadVector(c, addr, rt, opc + 2);
            return;
        }
        long v;
        switch (opc) {
            case 0 -> v = c.load32(addr) & 0xFFFFFFFFL;
            case 1 -> v = c.load64(addr);
            case 2 -> v = c.load32(addr);
            default -> {
                return; // PRFM (literal)
            }
        }
        if (rt != 31) {
            c.r[rt] = v;
        }
    }

    private static void pair(Interpreter c, int insn) {
        int opc = insn >>> 30;
        boolean simd = (insn & (1 << 26)) != 0;
        int mode = (insn >>> 23) & 3;
        boolean load = (insn & (1 << 22)) != 0;
        int rt = insn & 31;
        int rt2 = (insn >>> 10) & 31;
        int scale;
        boolean signed = false;
        if (simd) {
            if (opc == 3) {
                throw c.undefined(insn, "unallocated SIMD&FP pair size");
            }
            scale = 2 + opc;
        } else {
            switch (opc) {
                case 0 -> scale = 2;
                case 1 -> {
                    if (!load || mode == 0) {
                        throw c.undefined(insn, "STGP (memory tagging) and LDNP with opc 01 are not supported");
                    }
                    scale = 2;
                    signed = true;
                }
                case 2 -> scale = 3;
                default -> throw c.undefined(insn, "unallocated load/store pair opc 11");
            }
        }
        long offset = ((long) (insn << 10) >> 25) << scale;
        int baseIndex = base(insn);
        long base = c.r[baseIndex];
        long addr = mode == 1 ? base : base + offset;
        int bytes = 1 << scale;
        if (simd) {
            if (load) {
                SimdUnit.loadVectorPair(c, addr, rt, rt2, scale);
            } else {
                SimdUnit.storeVector(c, addr, rt, scale);
                SimdUnit.storeVector(c, addr + bytes, rt2, scale);
            }
        } else if (load) {
            long v1 = c.loadSized(addr, scale);
            long v2 = c.loadSized(addr + bytes, scale);
            if (signed) {
                v1 = (int) v1;
                v2 = (int) v2;
            }
            if (rt != 31) {
                c.r[rt] = v1;
            }
            if (rt2 != 31) {
                c.r[rt2] = v2;
            }
        } else {
            long v1 = c.r[rt];
            long v2 = c.r[rt2];
            c.storeSized(addr, v1, scale);
            c.storeSized(addr + bytes, v2, scale);
        }
        if (mode == 1 || mode == 3) {
            c.r[baseIndex] = base + offset;
        }
    }

    private static void checkAligned(Interpreter c, int insn, long addr, int bytes) {
        if ((addr & (bytes - 1)) != 0) {
            throw new GuestSignal(GuestSignal.SIGBUS, c.pc, insn, String.format(
                    "unaligned %d-byte exclusive/atomic access at 0x%x (alignment fault)", bytes, addr));
        }
    }

    private static void exclusiveOrdered(Interpreter c, int insn) {
        int size = insn >>> 30;
        boolean o2 = (insn & (1 << 23)) != 0;
        boolean load = (insn & (1 << 22)) != 0;
        boolean o1 = (insn & (1 << 21)) != 0;
        int rs = (insn >>> 16) & 31;
        int rt2 = (insn >>> 10) & 31;
        int rt = insn & 31;
        long addr = c.r[base(insn)];
        if (!o2 && !o1) { // LDXR, LDAXR, STXR, STLXR
            int bytes = 1 << size;
            checkAligned(c, insn, addr, bytes);
            if (load) {
                long v = c.loadSized(addr, size);
                c.exclValid = true;
                c.exclAddr = addr;
                c.exclSize = bytes;
                c.exclLo = v;
                if (rt != 31) {
                    c.r[rt] = v;
                }
            } else {
                int status = storeExclusive(c, addr, bytes, c.r[rt], 0, size, false);
                if (rs != 31) {
                    c.r[rs] = status;
                }
            }
            return;
        }
        if (!o2) { // o1: pairs, or CASP
            if (size >= 2) {
                int scale = size; // 2: W pair, 3: X pair
                int bytes = 2 << scale;
                checkAligned(c, insn, addr, bytes);
                if (load) {
                    long v1 = c.loadSized(addr, scale);
                    long v2 = c.loadSized(addr + (1 << scale), scale);
                    c.exclValid = true;
                    c.exclAddr = addr;
                    c.exclSize = bytes;
                    c.exclLo = v1;
                    c.exclHi = v2;
                    if (rt != 31) {
                        c.r[rt] = v1;
                    }
                    if (rt2 != 31) {
                        c.r[rt2] = v2;
                    }
                } else {
                    int status = storeExclusive(c, addr, bytes, c.r[rt], c.r[rt2], scale, true);
                    if (rs != 31) {
                        c.r[rs] = status;
                    }
                }
                return;
            }
            if (rt2 != 31 || (rs & 1) != 0 || (rt & 1) != 0) {
                throw c.undefined(insn, "CASP needs even register pairs and Rt2=31");
            }
            casp(c, insn, addr, size == 1 ? 3 : 2, rs, rt);
            return;
        }
        if (!o1) { // LDAR, STLR, LDLAR, STLLR
            int bytes = 1 << size;
            checkAligned(c, insn, addr, bytes);
            if (load) {
                long v = c.loadSized(addr, size);
                if (rt != 31) {
                    c.r[rt] = v;
                }
            } else {
                c.storeSized(addr, c.r[rt], size);
            }
            return;
        }
        if (rt2 != 31) {
            throw c.undefined(insn, "unallocated compare-and-swap form");
        }
        cas(c, insn, addr, size, rs, rt);
    }

    private static int storeExclusive(Interpreter c, long addr, int bytes, long v1, long v2, int scale, boolean pair) {
        if (!c.exclValid || c.exclAddr != addr || c.exclSize != bytes) {
            c.exclValid = false;
            return 1;
        }
        c.exclValid = false;
        c.lockAtomics();
        try {
            // The monitor is emulated by value: the store succeeds if memory still holds what
            // the load-exclusive saw (QEMU does the same with a host compare-and-swap).
            long now1 = c.loadSized(addr, scale);
            long now2 = pair ? c.loadSized(addr + (1 << scale), scale) : 0;
            if (now1 != c.exclLo || (pair && now2 != c.exclHi)) {
                return 1;
            }
            c.storeSized(addr, v1, scale);
            if (pair) {
                c.storeSized(addr + (1 << scale), v2, scale);
            }
            return 0;
        } finally {
            c.unlockAtomics();
        }
    }

    private static long mask(int size) {
        return size == 3 ? -1L : (1L << (8 << size)) - 1;
    }

    private static void cas(Interpreter c, int insn, long addr, int size, int rs, int rt) {
        checkAligned(c, insn, addr, 1 << size);
        long m = mask(size);
        long expected = c.r[rs] & m;
        long old;
        c.lockAtomics();
        try {
            old = c.loadSized(addr, size);
            if (old == expected) {
                c.storeSized(addr, c.r[rt], size);
            }
        } finally {
            c.unlockAtomics();
        }
        if (rs != 31) {
            c.r[rs] = old;
        }
    }

    private static void casp(Interpreter c, int insn, long addr, int scale, int rs, int rt) {
        checkAligned(c, insn, addr, 2 << scale);
        long m = mask(scale);
        long e1 = c.r[rs] & m;
        long e2 = c.r[rs + 1] & m;
        long o1;
        long o2;
        c.lockAtomics();
        try {
            o1 = c.loadSized(addr, scale);
            o2 = c.loadSized(addr + (1 << scale), scale);
            if (o1 == e1 && o2 == e2) {
                c.storeSized(addr, c.r[rt], scale);
                c.storeSized(addr + (1 << scale), c.r[rt + 1], scale);
            }
        } finally {
            c.unlockAtomics();
        }
        if (rs != 31) {
            c.r[rs] = o1;
            c.r[rs + 1] = o2;
        }
    }

    private static void atomic(Interpreter c, int insn) {
        if ((insn & (1 << 26)) != 0) {
            throw c.undefined(insn, "unallocated SIMD atomic");
        }
        int size = insn >>> 30;
        int rs = (insn >>> 16) & 31;
        boolean o3 = (insn & (1 << 15)) != 0;
        int opc = (insn >>> 12) & 7;
        int rt = insn & 31;
        long addr = c.r[base(insn)];
        if (o3 && opc == 4) { // LDAPR
            if (rs != 31) {
                throw c.undefined(insn, "unallocated LDAPR form");
            }
            checkAligned(c, insn, addr, 1 << size);
            long v = c.loadSized(addr, size);
            if (rt != 31) {
                c.r[rt] = v;
            }
            return;
        }
        if (o3 && opc != 0) {
            throw c.undefined(insn, "unallocated atomic memory operation o3=1 opc=" + opc);
        }
        checkAligned(c, insn, addr, 1 << size);
        long m = mask(size);
        int bits = 8 << size;
        long operand = c.r[rs] & m;
        long old;
        c.lockAtomics();
        try {
            old = c.loadSized(addr, size);
            long v;
            if (o3) {
                v = operand; // SWP
            } else {
                v = switch (opc) {
                    case 0 -> old + operand;
                    case 1 -> old & ~operand;
                    case 2 -> old ^ operand;
                    case 3 -> old | operand;
                    case 4 -> IntegerUnit.signExtend(old, bits) >= IntegerUnit.signExtend(operand, bits) ? old : operand;
                    case 5 -> IntegerUnit.signExtend(old, bits) <= IntegerUnit.signExtend(operand, bits) ? old : operand;
                    case 6 -> Long.compareUnsigned(old, operand) >= 0 ? old : operand;
                    default -> Long.compareUnsigned(old, operand) <= 0 ? old : operand;
                };
            }
            c.storeSized(addr, v, size);
        } finally {
            c.unlockAtomics();
        }
        if (rt != 31) {
            c.r[rt] = old;
        }
    }

    /** LDAPUR/STLUR family (RCpc with unscaled offset). */
    private static void unscaledOrdered(Interpreter c, int insn) {
        int size = insn >>> 30;
        int opc = (insn >>> 22) & 3;
        long addr = c.r[base(insn)] + ((insn << 11) >> 23);
        int rt = insn & 31;
        switch (opc) {
            case 0 -> c.storeSized(addr, c.r[rt], size);
            case 1 -> {
                long v = c.loadSized(addr, size);
                if (rt != 31) {
                    c.r[rt] = v;
                }
            }
            case 2 -> {
                if (size == 3) {
                    throw c.undefined(insn, "unallocated LDAPURS form");
                }
                long v = IntegerUnit.signExtend(c.loadSized(addr, size), 8 << size);
                if (rt != 31) {
                    c.r[rt] = v;
                }
            }
            default -> {
                if (size >= 2) {
                    throw c.undefined(insn, "unallocated LDAPURS form");
                }
                long v = IntegerUnit.signExtend(c.loadSized(addr, size), 8 << size) & 0xFFFFFFFFL;
                if (rt != 31) {
                    c.r[rt] = v;
                }
            }
        }
    }
}
