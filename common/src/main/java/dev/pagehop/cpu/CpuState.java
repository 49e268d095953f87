package dev.pagehop.cpu;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * The user-visible register state of one arm64 thread: what {@code struct user_pt_regs} and
 * {@code struct user_fpsimd_state} hold, plus TPIDR_EL0. Mutable and owned by the thread that
 * runs it; copy it with {@link #copy()} before handing it to another thread.
 */
public final class CpuState {
    /** X0..X30; X31 is SP or XZR depending on the instruction, so it is not stored here. */
    public static final int GENERAL_REGISTERS = 31;
    public static final int VECTOR_REGISTERS = 32;

    public static final long NZCV_N = 1L << 31;
    public static final long NZCV_Z = 1L << 30;
    public static final long NZCV_C = 1L << 29;
    public static final long NZCV_V = 1L << 28;
    /** PSTATE bits user space may see and set (NZCV); the rest read as zero at EL0 for us. */
    public static final long PSTATE_USER_MASK = NZCV_N | NZCV_Z | NZCV_C | NZCV_V;

    /** Serialised size: 31 X + SP + PC + PSTATE + TPIDR + 32×16 V + FPCR + FPSR (4 bytes each). */
    public static final int SERIALIZED_BYTES = (GENERAL_REGISTERS + 4) * 8 + VECTOR_REGISTERS * 16 + 8;

    private final long[] x = new long[GENERAL_REGISTERS];
    private long sp;
    private long pc;
    private long pstate;
    private long tpidrEl0;
    /** V0..V31 as (low, high) 64-bit halves: vLo[i] holds bits 0-63, vHi[i] bits 64-127. */
    private final long[] vLo = new long[VECTOR_REGISTERS];
    private final long[] vHi = new long[VECTOR_REGISTERS];
    private int fpcr;
    private int fpsr;

    public long x(int n) {
        return x[checkX(n)];
    }

    public void setX(int n, long value) {
        x[checkX(n)] = value;
    }

    public long sp() {
        return sp;
    }

    public void setSp(long value) {
        sp = value;
    }

    public long pc() {
        return pc;
    }

    public void setPc(long value) {
        pc = value;
    }

    public long pstate() {
        return pstate;
    }

    public void setPstate(long value) {
        if ((value & ~PSTATE_USER_MASK) != 0) {
            throw new IllegalArgumentException(String.format(
                    "PSTATE 0x%x sets bits 0x%x outside NZCV, which EL0 cannot write",
                    value, value & ~PSTATE_USER_MASK));
        }
        pstate = value;
    }

    public boolean n() {
        return (pstate & NZCV_N) != 0;
    }

    public boolean z() {
        return (pstate & NZCV_Z) != 0;
    }

    public boolean c() {
        return (pstate & NZCV_C) != 0;
    }

    public boolean v() {
        return (pstate & NZCV_V) != 0;
    }

    public void setNzcv(boolean n, boolean z, boolean c, boolean v) {
        pstate = (pstate & ~PSTATE_USER_MASK)
                | (n ? NZCV_N : 0) | (z ? NZCV_Z : 0) | (c ? NZCV_C : 0) | (v ? NZCV_V : 0);
    }

    public long tpidrEl0() {
        return tpidrEl0;
    }

    public void setTpidrEl0(long value) {
        tpidrEl0 = value;
    }

    public long vLow(int n) {
        return vLo[checkV(n)];
    }

    public long vHigh(int n) {
        return vHi[checkV(n)];
    }

    public void setV(int n, long low, long high) {
        checkV(n);
        vLo[n] = low;
        vHi[n] = high;
    }

    public int fpcr() {
        return fpcr;
    }

    public void setFpcr(int value) {
        fpcr = value;
    }

    public int fpsr() {
        return fpsr;
    }

    public void setFpsr(int value) {
        fpsr = value;
    }

    public CpuState copy() {
        CpuState c = new CpuState();
        c.copyFrom(this);
        return c;
    }

    public void copyFrom(CpuState other) {
        System.arraycopy(other.x, 0, x, 0, GENERAL_REGISTERS);
        System.arraycopy(other.vLo, 0, vLo, 0, VECTOR_REGISTERS);
        System.arraycopy(other.vHi, 0, vHi, 0, VECTOR_REGISTERS);
        sp = other.sp;
        pc = other.pc;
        pstate = other.pstate;
        tpidrEl0 = other.tpidrEl0;
        fpcr = other.fpcr;
        fpsr = other.fpsr;
    }

    /** Little-endian, fixed layout: X0..X30, SP, PC, PSTATE, TPIDR_EL0, V0..V31 (lo, hi), FPCR, FPSR. */
    public void writeTo(ByteBuffer out) {
        ByteBuffer b = out.order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (long r : x) {
            b.putLong(r);
        }
        b.putLong(sp).putLong(pc).putLong(pstate).putLong(tpidrEl0);
        for (int i = 0; i < VECTOR_REGISTERS; i++) {
            b.putLong(vLo[i]).putLong(vHi[i]);
        }
        b.putInt(fpcr).putInt(fpsr);
    }

    public byte[] toBytes() {
        ByteBuffer b = ByteBuffer.allocate(SERIALIZED_BYTES);
        writeTo(b);
        return b.array();
    }

    public static CpuState fromBytes(byte[] bytes) {
        if (bytes.length != SERIALIZED_BYTES) {
            throw new IllegalArgumentException("CPU state record is " + bytes.length
                    + " bytes, expected " + SERIALIZED_BYTES);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        CpuState c = new CpuState();
        for (int i = 0; i < GENERAL_REGISTERS; i++) {
            c.x[i] = b.getLong();
        }
        c.sp = b.getLong();
        c.pc = b.getLong();
        c.setPstate(b.getLong());
        c.tpidrEl0 = b.getLong();
        for (int i = 0; i < VECTOR_REGISTERS; i++) {
            c.vLo[i] = b.getLong();
            c.vHi[i] = b.getLong();
        }
        c.fpcr = b.getInt();
        c.fpsr = b.getInt();
        return c;
    }

    private static int checkX(int n) {
        if (n < 0 || n >= GENERAL_REGISTERS) {
            throw new IllegalArgumentException("X register index " + n + " outside 0..30");
        }
        return n;
    }

    private static int checkV(int n) {
        if (n < 0 || n >= VECTOR_REGISTERS) {
            throw new IllegalArgumentException("V register index " + n + " outside 0..31");
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CpuState c && Arrays.equals(x, c.x) && sp == c.sp && pc == c.pc
                && pstate == c.pstate && tpidrEl0 == c.tpidrEl0 && Arrays.equals(vLo, c.vLo)
                && Arrays.equals(vHi, c.vHi) && fpcr == c.fpcr && fpsr == c.fpsr;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(x), sp, pc, pstate, tpidrEl0, Arrays.hashCode(vLo),
                Arrays.hashCode(vHi), fpcr, fpsr);
    }

    @Override
    public String toString() {
        return String.format("CpuState{pc=0x%x, sp=0x%x, nzcv=%s%s%s%s, x0=0x%x, x1=0x%x, tpidr=0x%x}",
                pc, sp, n() ? "N" : "n", z() ? "Z" : "z", c() ? "C" : "c", v() ? "V" : "v",
                x[0], x[1], tpidrEl0);
    }
}
