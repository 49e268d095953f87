package dev.pagehop.cpu;

import dev.pagehop.mm.MemoryManager;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.Lock;
import java.util.function.LongSupplier;

/**
 * An A64 interpreter for EL0: one vCPU. {@link #run} loads a {@link CpuState}, executes up to a
 * budget of instructions and writes the state back, so between runs the {@code CpuState} is the
 * whole truth about the thread (that is what a freeze saves and a thaw restores).
 *
 * <p>Every data access and every instruction fetch goes through the {@link MemoryManager}, so
 * the MMU, its faults and the dirty trackers see the program exactly as they see any other
 * workload. Instructions are decoded once per address (see {@link CodeCache}).
 *
 * <p>A faulting instruction leaves the registers untouched and the PC on it: a memory fault
 * propagates as the MMU's {@link dev.pagehop.mm.SegmentationFault}, an unknown or UNDEFINED
 * encoding raises {@link GuestSignal} SIGILL naming the address and the encoding.
 */
public final class Interpreter {
    /** Register-file slot that always reads zero (X31 as XZR). */
    static final int ZR = 31;
    /** Register-file slot that writes to XZR go to. */
    static final int SINK = 32;
    /** Register-file slot of the stack pointer (X31 as SP). */
    static final int SP = 33;

    /** Values reported to EL0 for ID and cache registers. */
    static final long CTR_EL0 = 0x8444C004L;
    /** DC ZVA block of 2^4 words = 64 bytes, permitted. */
    static final long DCZID_EL0 = 4;
    static final int DC_ZVA_BYTES = 64;
    /** CNTVCT_EL0 counts nanoseconds: ARMv8.6 fixes the counter at 1 GHz. */
    static final long CNTFRQ_EL0 = 1_000_000_000L;

    /** Why {@link #run} returned. */
    public enum Stop {
        /** The instruction budget is used up; the thread can continue. */
        BUDGET,
        /** A supervisor call asked to stop (exit, block, yield). */
        SUPERVISOR_CALL
    }

    final long[] r = new long[34];
    /** NZCV in bits 3..0 (N=8, Z=4, C=2, V=1). */
    int nzcv;
    long pc;
    long nextPc;
    long tpidr;
    final long[] vlo = new long[32];
    final long[] vhi = new long[32];
    int fpcr;
    int fpsr;

    // The local exclusive monitor: what LDXR/LDXP saw, checked again by STXR/STXP.
    boolean exclValid;
    long exclAddr;
    int exclSize;
    long exclLo;
    long exclHi;

    final MemoryManager mm;
    private final SupervisorCall supervisor;
    private final CodeCache code;
    private final LongSupplier counterNs;
    /** Serialises read-modify-write atomics among the vCPUs of one process. */
    private final Lock atomicLock;
    /** Told when this vCPU has to wait for the atomics lock another vCPU holds; null if nobody asks. */
    private LockWait lockWait;
    private final Decoded scratch = new Decoded();
    private CpuState state;
    private Decoded[] block;
    private long blockBase = -1;
    private long retired;

    public Interpreter(MemoryManager mm, SupervisorCall supervisor, CodeCache code, LongSupplier counterNs,
            Lock atomicLock) {
        this.mm = mm;
        this.supervisor = supervisor;
        this.code = code;
        this.counterNs = counterNs;
        this.atomicLock = atomicLock;
    }

    /** For a single-threaded program: its own code cache, the system clock, a private lock. */
    public static Interpreter create(MemoryManager mm, SupervisorCall supervisor) {
        return new Interpreter(mm, supervisor, new CodeCache(mm), System::nanoTime,
                new java.util.concurrent.locks.ReentrantLock());
    }

    public CodeCache codeCache() {
        return code;
    }

    /** Instructions completed by this vCPU since it was created (a faulting one does not count). */
    public long instructionsRetired() {
        return retired;
    }

    /**
     * Runs {@code state} for at most {@code maxInstructions} instructions. On return (normal or
     * by exception) {@code state} holds the registers, with the PC on the next instruction to run
     * (on the faulting one after a fault).
     */
    public Stop run(CpuState state, long maxInstructions) {
        this.state = state;
        load(state);
        blockBase = -1;
        long n = 0;
        try {
            while (n < maxInstructions) {
                Decoded d = fetch(pc);
                nextPc = pc + 4;
                if (execute(d)) {
                    n++;
                    pc = nextPc;
                    return Stop.SUPERVISOR_CALL;
                }
                n++;
                pc = nextPc;
            }
            return Stop.BUDGET;
        } finally {
            retired += n;
            store(state);
            this.state = null;
        }
    }

    private boolean lastStepEffect;

    /** Hears when a vCPU waits for a lock another vCPU of the process holds. */
    public interface LockWait {
        void begins();

        void ends();
    }

    /** Sets who hears this vCPU's lock waits (the thread running it), or null. */
    public void setLockWait(LockWait wait) {
        this.lockWait = wait;
    }

    /** Whether the last {@link #step} ended with an instruction that wrote memory or entered the kernel. */
    public boolean lastStepHadSideEffect() {
        return lastStepEffect;
    }

    /** Tests turn this off to run every instruction through the full decoder, for comparison. */
    boolean fastPaths = true;

    private void decode(int insn, long addr, Decoded d) {
        Decoder.decode(insn, addr, d);
        if (!fastPaths) {
            d.op = Decoder.RAW;
        }
    }

    /**
     * Runs {@code state} until it has executed an instruction that writes memory or enters the
     * kernel, or {@code maxInstructions} instructions. Before that last instruction nothing but
     * registers changed, and the registers are written to {@code state} just before it, so at
     * any fault {@code state} holds registers from which re-execution is exact: the step's start
     * for a fault in a fetch or a load (nothing else happened yet), the writing instruction's
     * own boundary for a fault in its write. Returns the number of instructions completed.
     */
    public long step(CpuState state, long maxInstructions) {
        return step(state, maxInstructions, null);
    }

    /**
     * As {@link #step(CpuState, long)}; {@code beforeCommit} (if not null) runs after the last
     * instruction completed, with {@code state} already holding the registers after it: that is
     * where a process model holds a thread whose fault was resolved while it was frozen, and an
     * image taken meanwhile resumes after the instruction whose write already landed.
     */
    public long step(CpuState state, long maxInstructions, Runnable beforeCommit) {
        lastStepEffect = false;
        this.state = state;
        load(state);
        blockBase = -1;
        long n = 0;
        try {
            while (n < maxInstructions) {
                Decoded d = fetch(pc);
                if (d.effect) {
                    // If this write parks in a userfault and the process is frozen meanwhile, the
                    // saved registers must be those of this instruction's boundary: re-running only
                    // the write is idempotent, re-running the loads before it would not be.
                    store(state);
                }
                nextPc = pc + 4;
                boolean stop = execute(d) || d.effect;
                lastStepEffect = d.effect;
                n++;
                pc = nextPc;
                if (stop) {
                    break;
                }
            }
            if (beforeCommit != null) {
                // The last instruction completed, its write included: publish the registers
                // after it before the process may hold the thread here. A thread held because
                // its fault was resolved while frozen has a write in memory that an image
                // taken now copies, so the image must not re-execute the instruction: a
                // read-modify-write (LDADD, CAS, STXR after a lost monitor) would take effect
                // twice.
                store(state);
                beforeCommit.run();
            }
            return n;
        } finally {
            retired += n;
            store(state);
            this.state = null;
        }
    }

    private Decoded fetch(long addr) {
        if ((addr & ~0xFFFL) != blockBase) {
            block = code.block(addr);
            blockBase = addr & ~0xFFFL;
        }
        Decoded[] b = block;
        if (b == null) {
            decode(mm.load32(addr), addr, scratch);
            return scratch;
        }
        int i = (int) (addr & 0xFFF) >>> 2;
        Decoded d = b[i];
        if (d == null) {
            d = new Decoded();
            decode(mm.load32(addr), addr, d);
            b[i] = d;
        }
        return d;
    }

    private void load(CpuState s) {
        for (int i = 0; i < CpuState.GENERAL_REGISTERS; i++) {
            r[i] = s.x(i);
        }
        r[ZR] = 0;
        r[SP] = s.sp();
        pc = s.pc();
        nzcv = (int) (s.pstate() >>> 28) & 0xF;
        tpidr = s.tpidrEl0();
        for (int i = 0; i < 32; i++) {
            vlo[i] = s.vLow(i);
            vhi[i] = s.vHigh(i);
        }
        fpcr = s.fpcr();
        fpsr = s.fpsr();
    }

    private void store(CpuState s) {
        for (int i = 0; i < CpuState.GENERAL_REGISTERS; i++) {
            s.setX(i, r[i]);
        }
        s.setSp(r[SP]);
        s.setPc(pc);
        s.setPstate(((long) nzcv) << 28);
        s.setTpidrEl0(tpidr);
        for (int i = 0; i < 32; i++) {
            s.setV(i, vlo[i], vhi[i]);
        }
        s.setFpcr(fpcr);
        s.setFpsr(fpsr);
    }

    // ---- execution ----------------------------------------------------------------------------

    /** Executes one instruction; true if a supervisor call asked to stop. */
    private boolean execute(Decoded d) {
        long[] x = r;
        switch (d.op) {
            case Decoder.RAW:
                return executeRaw(d.insn);
            case Decoder.MOVI:
                x[d.rd] = d.imm;
                return false;
            case Decoder.MOV_REG:
                x[d.rd] = x[d.rn];
                return false;
            case Decoder.MOV_REG_W:
                x[d.rd] = x[d.rn] & 0xFFFFFFFFL;
                return false;
            case Decoder.ADD_IMM:
                x[d.rd] = x[d.rn] + d.imm;
                return false;
            case Decoder.ADD_IMM_W:
                x[d.rd] = (x[d.rn] + d.imm) & 0xFFFFFFFFL;
                return false;
            case Decoder.SUBS_IMM:
                x[d.rd] = subs64(x[d.rn], d.imm);
                return false;
            case Decoder.SUBS_IMM_W:
                x[d.rd] = subs32(x[d.rn], d.imm) & 0xFFFFFFFFL;
                return false;
            case Decoder.SUBS_REG:
                x[d.rd] = subs64(x[d.rn], shift(x[d.rm], d.a, d.b));
                return false;
            case Decoder.SUBS_REG_W:
                x[d.rd] = subs32(x[d.rn], shift32(x[d.rm], d.a, d.b)) & 0xFFFFFFFFL;
                return false;
            case Decoder.ADD_REG:
                x[d.rd] = x[d.rn] + shift(x[d.rm], d.a, d.b);
                return false;
            case Decoder.SUB_REG:
                x[d.rd] = x[d.rn] - shift(x[d.rm], d.a, d.b);
                return false;
            case Decoder.AND_IMM:
                x[d.rd] = x[d.rn] & d.imm;
                return false;
            case Decoder.ORR_IMM:
                x[d.rd] = x[d.rn] | d.imm;
                return false;
            case Decoder.EOR_IMM:
                x[d.rd] = x[d.rn] ^ d.imm;
                return false;
            case Decoder.ANDS_IMM: {
                long v = x[d.rn] & d.imm;
                nzcv = (v < 0 ? 8 : 0) | (v == 0 ? 4 : 0);
                x[d.rd] = v;
                return false;
            }
            case Decoder.AND_REG:
                x[d.rd] = x[d.rn] & shift(x[d.rm], d.a, d.b);
                return false;
            case Decoder.ORR_REG:
                x[d.rd] = x[d.rn] | shift(x[d.rm], d.a, d.b);
                return false;
            case Decoder.EOR_REG:
                x[d.rd] = x[d.rn] ^ shift(x[d.rm], d.a, d.b);
                return false;
            case Decoder.LSL_IMM:
                x[d.rd] = x[d.rn] << d.a;
                return false;
            case Decoder.LSR_IMM:
                x[d.rd] = x[d.rn] >>> d.a;
                return false;
            case Decoder.ASR_IMM:
                x[d.rd] = x[d.rn] >> d.a;
                return false;
            case Decoder.UBFX:
                x[d.rd] = (x[d.rn] >>> d.a) & d.imm;
                return false;
            case Decoder.LDR_X:
                x[d.rd] = load64(x[d.rn] + d.imm);
                return false;
            case Decoder.LDR_W:
                x[d.rd] = load32(x[d.rn] + d.imm) & 0xFFFFFFFFL;
                return false;
            case Decoder.LDRB:
                x[d.rd] = mm.load8(x[d.rn] + d.imm) & 0xFFL;
                return false;
            case Decoder.STR_X:
                store64(x[d.rn] + d.imm, x[d.rd]);
                return false;
            case Decoder.STR_W:
                store32(x[d.rn] + d.imm, x[d.rd]);
                return false;
            case Decoder.STRB:
                mm.store8(x[d.rn] + d.imm, x[d.rd]);
                return false;
            case Decoder.LDR_X_REG:
                x[d.rd] = load64(x[d.rn] + (x[d.rm] << d.a));
                return false;
            case Decoder.LDRB_REG:
                x[d.rd] = mm.load8(x[d.rn] + x[d.rm]) & 0xFFL;
                return false;
            case Decoder.LDP_X: {
                long addr = x[d.rn] + d.imm;
                long v1 = load64(addr);
                long v2 = load64(addr + 8);
                x[d.rd] = v1;
                x[d.ra] = v2;
                return false;
            }
            case Decoder.STP_X: {
                long addr = x[d.rn] + d.imm;
                store64(addr, x[d.rd]);
                store64(addr + 8, x[d.ra]);
                return false;
            }
            case Decoder.STP_X_PRE: {
                long addr = x[d.rn] + d.imm;
                store64(addr, x[d.rd]);
                store64(addr + 8, x[d.ra]);
                x[d.rn] = addr;
                return false;
            }
            case Decoder.LDP_X_POST: {
                long addr = x[d.rn];
                long v1 = load64(addr);
                long v2 = load64(addr + 8);
                x[d.rd] = v1;
                x[d.ra] = v2;
                x[d.rn] = addr + d.imm;
                return false;
            }
            case Decoder.B:
                nextPc = d.imm;
                return false;
            case Decoder.BL:
                x[30] = pc + 4;
                nextPc = d.imm;
                return false;
            case Decoder.B_COND:
                if (((Flags.COND_TABLE[nzcv] >>> d.a) & 1) != 0) {
                    nextPc = d.imm;
                }
                return false;
            case Decoder.CBZ:
                if (x[d.rn] == 0) {
                    nextPc = d.imm;
                }
                return false;
            case Decoder.CBNZ:
                if (x[d.rn] != 0) {
                    nextPc = d.imm;
                }
                return false;
            case Decoder.CBZ_W:
                if ((int) x[d.rn] == 0) {
                    nextPc = d.imm;
                }
                return false;
            case Decoder.CBNZ_W:
                if ((int) x[d.rn] != 0) {
                    nextPc = d.imm;
                }
                return false;
            case Decoder.TBZ:
                if ((x[d.rn] & (1L << d.a)) == 0) {
                    nextPc = d.imm;
                }
                return false;
            case Decoder.TBNZ:
                if ((x[d.rn] & (1L << d.a)) != 0) {
                    nextPc = d.imm;
                }
                return false;
            case Decoder.RET:
                branchTo(x[d.rn], d.insn);
                return false;
            case Decoder.CSEL:
                x[d.rd] = ((Flags.COND_TABLE[nzcv] >>> d.a) & 1) != 0 ? x[d.rn] : x[d.rm];
                return false;
            case Decoder.CSINC:
                x[d.rd] = ((Flags.COND_TABLE[nzcv] >>> d.a) & 1) != 0 ? x[d.rn] : x[d.rm] + 1;
                return false;
            case Decoder.MADD:
                x[d.rd] = x[d.ra] + x[d.rn] * x[d.rm];
                return false;
            case Decoder.NOP:
                return false;
            default:
                throw GuestSignal.illegal(pc, d.insn, "decoder produced unknown operation " + d.op);
        }
    }

    /** Full decode-and-execute from the encoding; true if a supervisor call asked to stop. */
    boolean executeRaw(int insn) {
        switch ((insn >>> 25) & 0xF) {
            case 0b1000, 0b1001:
                IntegerUnit.dataProcessingImmediate(this, insn);
                return false;
            case 0b1010, 0b1011:
                return branchesAndSystem(insn);
            case 0b0100, 0b0110, 0b1100, 0b1110:
                LoadStoreUnit.execute(this, insn);
                return false;
            case 0b0101, 0b1101:
                IntegerUnit.dataProcessingRegister(this, insn);
                return false;
            case 0b0111, 0b1111:
                SimdUnit.execute(this, insn);
                return false;
            default:
                throw undefined(insn, (insn >>> 16) == 0 ? "UDF (permanently undefined)"
                        : "SVE, SME or reserved encoding space");
        }
    }

    GuestSignal undefined(int insn, String what) {
        return GuestSignal.illegal(pc, insn, what);
    }

    // ---- branches, exceptions, system ---------------------------------------------------------------

    private boolean branchesAndSystem(int insn) {
        if ((insn & 0x7C000000) == 0x14000000) { // B, BL
            long offset = (long) (insn << 6) >> 4;
            if (insn < 0) {
                r[30] = pc + 4;
            }
            nextPc = pc + offset;
            return false;
        }
        if ((insn & 0x7E000000) == 0x34000000) { // CBZ, CBNZ
            long v = insn < 0 ? r[insn & 31] : r[insn & 31] & 0xFFFFFFFFL;
            boolean nonZero = (insn & (1 << 24)) != 0;
            if ((v != 0) == nonZero) {
                nextPc = pc + (((long) (insn << 8) >> 13) << 2);
            }
            return false;
        }
        if ((insn & 0x7E000000) == 0x36000000) { // TBZ, TBNZ
            int bit = ((insn >>> 26) & 0x20) | ((insn >>> 19) & 0x1F);
            boolean set = (r[insn & 31] & (1L << bit)) != 0;
            if (set == ((insn & (1 << 24)) != 0)) {
                nextPc = pc + (((long) (insn << 13) >> 18) << 2);
            }
            return false;
        }
        if ((insn & 0xFF000010) == 0x54000000) { // B.cond
            if (Flags.holds(nzcv, insn & 0xF)) {
                nextPc = pc + (((long) (insn << 8) >> 13) << 2);
            }
            return false;
        }
        if ((insn & 0xFE000000) == 0xD6000000) {
            branchRegister(insn);
            return false;
        }
        if ((insn & 0xFF000000) == 0xD4000000) {
            return exceptionGeneration(insn);
        }
        if ((insn & 0xFFC00000) == 0xD5000000) {
            system(insn);
            return false;
        }
        throw undefined(insn, "unallocated branch/exception/system encoding");
    }

    private void branchRegister(int insn) {
        int opc = (insn >>> 21) & 0xF;
        if (((insn >>> 16) & 0x1F) != 0x1F || ((insn >>> 10) & 0x3F) != 0 || (insn & 0x1F) != 0 || opc > 2) {
            throw undefined(insn, "branch-to-register form not supported at EL0 without pointer authentication");
        }
        long target = r[(insn >>> 5) & 31];
        if (opc == 1) {
            r[30] = pc + 4;
        }
        branchTo(target, insn);
    }

    private void branchTo(long target, int insn) {
        if ((target & 3) != 0) {
            throw new GuestSignal(GuestSignal.SIGBUS, pc, insn,
                    String.format("branch to misaligned address 0x%x (PC alignment fault)", target));
        }
        nextPc = target;
    }

    private boolean exceptionGeneration(int insn) {
        int opc = (insn >>> 21) & 7;
        int ll = insn & 3;
        int imm16 = (insn >>> 5) & 0xFFFF;
        if (((insn >>> 2) & 7) == 0) {
            if (opc == 0 && ll == 1) {
                return supervisorCall(imm16);
            }
            if (opc == 1 && ll == 0) {
                throw new GuestSignal(GuestSignal.SIGTRAP, pc, insn, "BRK #" + imm16);
            }
        }
        throw undefined(insn, "HVC, SMC, HLT, DCPS and other exception-generating forms are UNDEFINED at EL0");
    }

    private boolean supervisorCall(int imm16) {
        pc = nextPc;
        CpuState s = state;
        store(s);
        SupervisorCall.Outcome outcome = supervisor.call(s, imm16);
        load(s);
        nextPc = pc;
        // The call may have changed mappings (mmap, mprotect, ...): look the code block up again.
        blockBase = -1;
        exclValid = false;
        return outcome == SupervisorCall.Outcome.STOP;
    }

    private void system(int insn) {
        boolean read = (insn & (1 << 21)) != 0;
        int op0 = (insn >>> 19) & 3;
        int op1 = (insn >>> 16) & 7;
        int crn = (insn >>> 12) & 0xF;
        int crm = (insn >>> 8) & 0xF;
        int op2 = (insn >>> 5) & 7;
        int rt = insn & 31;
        if (op0 == 0 && !read && rt == 31) {
            if (crn == 2) {
                return; // hints: NOP, YIELD, WFE, SEV, BTI, PAC hints (no-ops without pointer auth)
            }
            if (crn == 3 && op1 == 3) {
                switch (op2) {
                    case 2 -> exclValid = false; // CLREX
                    case 4, 5 -> VarHandle.fullFence(); // DSB, DMB
                    case 6, 7 -> { } // ISB, SB: fetches after IC IVAU already see new code
                    default -> throw undefined(insn, "unallocated barrier");
                }
                return;
            }
        }
        if (op0 == 1 && !read && op1 == 3 && crn == 7) {
            long addr = r[rt];
            if (crm == 4 && op2 == 1) { // DC ZVA
                long base = addr & -DC_ZVA_BYTES;
                for (int i = 0; i < DC_ZVA_BYTES; i += 8) {
                    mm.store64(base + i, 0);
                }
                return;
            }
            if (op2 == 1 && (crm == 10 || crm == 11 || crm == 12 || crm == 13 || crm == 14)) {
                return; // DC CVAC/CVAU/CVAP/CVADP/CIVAC: caches are coherent here
            }
            if (crm == 5 && op2 == 1) { // IC IVAU: the program wrote code and wants it fetched
                code.invalidate();
                blockBase = -1;
                return;
            }
        }
        if (op0 >= 2) {
            int reg = (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
            if (read) {
                long v = readSystemRegister(reg, insn);
                if (rt != 31) {
                    r[rt] = v;
                }
            } else {
                writeSystemRegister(reg, rt == 31 ? 0 : r[rt], insn);
            }
            return;
        }
        throw undefined(insn, String.format("system instruction op0=%d op1=%d CRn=%d CRm=%d op2=%d not available at EL0",
                op0, op1, crn, crm, op2));
    }

    static int sysreg(int op0, int op1, int crn, int crm, int op2) {
        return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
    }

    private static final int TPIDR_EL0 = sysreg(3, 3, 13, 0, 2);
    private static final int TPIDRRO_EL0 = sysreg(3, 3, 13, 0, 3);
    private static final int NZCV = sysreg(3, 3, 4, 2, 0);
    private static final int FPCR = sysreg(3, 3, 4, 4, 0);
    private static final int FPSR = sysreg(3, 3, 4, 4, 1);
    private static final int DCZID = sysreg(3, 3, 0, 0, 7);
    private static final int CTR = sysreg(3, 3, 0, 0, 1);
    private static final int CNTFRQ = sysreg(3, 3, 14, 0, 0);
    private static final int CNTVCT = sysreg(3, 3, 14, 0, 2);
    private static final int CNTVCTSS = sysreg(3, 3, 14, 0, 6);

    private long readSystemRegister(int reg, int insn) {
        if (reg == TPIDR_EL0) {
            return tpidr;
        }
        if (reg == NZCV) {
            return ((long) nzcv) << 28;
        }
        if (reg == FPCR) {
            return fpcr & 0xFFFFFFFFL;
        }
        if (reg == FPSR) {
            return fpsr & 0xFFFFFFFFL;
        }
        if (reg == TPIDRRO_EL0) {
            return 0;
        }
        if (reg == DCZID) {
            return DCZID_EL0;
        }
        if (reg == CTR) {
            return CTR_EL0;
        }
        if (reg == CNTFRQ) {
            return CNTFRQ_EL0;
        }
        if (reg == CNTVCT || reg == CNTVCTSS) {
            return counterNs.getAsLong();
        }
        throw undefined(insn, "MRS of system register " + sysregName(reg) + " not accessible at EL0");
    }

    private void writeSystemRegister(int reg, long v, int insn) {
        if (reg == TPIDR_EL0) {
            tpidr = v;
        } else if (reg == NZCV) {
            nzcv = (int) (v >>> 28) & 0xF;
        } else if (reg == FPCR) {
            fpcr = (int) v;
        } else if (reg == FPSR) {
            fpsr = (int) v;
        } else {
            throw undefined(insn, "MSR to system register " + sysregName(reg) + " not writable at EL0");
        }
    }

    private static String sysregName(int reg) {
        return String.format("S%d_%d_C%d_C%d_%d", reg >>> 14, (reg >>> 11) & 7, (reg >>> 7) & 15, (reg >>> 3) & 15,
                reg & 7);
    }

    // ---- helpers shared by the units --------------------------------------------------------------

    long subs64(long a, long b) {
        return adds64(a, ~b, 1);
    }

    long adds64(long a, long b, int carryIn) {
        long res = a + b + carryIn;
        boolean c = Long.compareUnsigned(res, a) < 0 || (carryIn != 0 && res == a);
        boolean v = ((a ^ res) & (b ^ res)) < 0;
        nzcv = (res < 0 ? 8 : 0) | (res == 0 ? 4 : 0) | (c ? 2 : 0) | (v ? 1 : 0);
        return res;
    }

    int subs32(long a, long b) {
        return adds32(a, ~b, 1);
    }

    int adds32(long a, long b, int carryIn) {
        long ua = a & 0xFFFFFFFFL;
        long ub = b & 0xFFFFFFFFL;
        long sum = ua + ub + carryIn;
        int res = (int) sum;
        boolean c = (sum >>> 32) != 0;
        boolean v = (((int) a ^ res) & ((int) b ^ res)) < 0;
        nzcv = (res < 0 ? 8 : 0) | (res == 0 ? 4 : 0) | (c ? 2 : 0) | (v ? 1 : 0);
        return res;
    }

    /** Shift types of shifted-register operands: 0 LSL, 1 LSR, 2 ASR, 3 ROR. */
    static long shift(long v, int type, int amount) {
        return switch (type) {
            case 0 -> v << amount;
            case 1 -> v >>> amount;
            case 2 -> v >> amount;
            default -> Long.rotateRight(v, amount);
        };
    }

    static long shift32(long v, int type, int amount) {
        int w = (int) v;
        int s = switch (type) {
            case 0 -> w << amount;
            case 1 -> w >>> amount;
            case 2 -> w >> amount;
            default -> Integer.rotateRight(w, amount);
        };
        return s & 0xFFFFFFFFL;
    }

    // Accesses that may cross a 4 KiB boundary are split into bytes, so the MMU sees each page's
    // access separately (Linux allows unaligned normal accesses at EL0).

    long load64(long addr) {
        if ((addr & 0xFFF) > 0xFF8) {
            return loadBytes(addr, 8);
        }
        return mm.load64(addr);
    }

    int load32(long addr) {
        if ((addr & 0xFFF) > 0xFFC) {
            return (int) loadBytes(addr, 4);
        }
        return mm.load32(addr);
    }

    int load16(long addr) {
        if ((addr & 0xFFF) == 0xFFF) {
            return (int) loadBytes(addr, 2);
        }
        return mm.load16(addr);
    }

    void store64(long addr, long v) {
        if ((addr & 0xFFF) > 0xFF8) {
            storeBytes(addr, v, 8);
        } else {
            mm.store64(addr, v);
        }
    }

    void store32(long addr, long v) {
        if ((addr & 0xFFF) > 0xFFC) {
            storeBytes(addr, v, 4);
        } else {
            mm.store32(addr, v);
        }
    }

    void store16(long addr, long v) {
        if ((addr & 0xFFF) == 0xFFF) {
            storeBytes(addr, v, 2);
        } else {
            mm.store16(addr, v);
        }
    }

    private long loadBytes(long addr, int n) {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (mm.load8(addr + i) & 0xFFL) << (8 * i);
        }
        return v;
    }

    private void storeBytes(long addr, long v, int n) {
        // Probe both pages first so a fault on the second leaves the first unwritten.
        mm.load8(addr);
        mm.load8(addr + n - 1);
        for (int i = 0; i < n; i++) {
            mm.store8(addr + i, v >>> (8 * i));
        }
    }

    /** Loads 1 << log2Size bytes (size 0..3), zero-extended. */
    long loadSized(long addr, int log2Size) {
        return switch (log2Size) {
            case 0 -> mm.load8(addr) & 0xFFL;
            case 1 -> load16(addr) & 0xFFFFL;
            case 2 -> load32(addr) & 0xFFFFFFFFL;
            default -> load64(addr);
        };
    }

    void storeSized(long addr, long v, int log2Size) {
        switch (log2Size) {
            case 0 -> mm.store8(addr, v);
            case 1 -> store16(addr, v);
            case 2 -> store32(addr, v);
            default -> store64(addr, v);
        }
    }

    /**
     * Takes the atomics lock. If another vCPU holds it (and that one may be asleep in a userfault
     * with it), this one tells {@link #lockWait} before and after waiting, so a process model can
     * count it stopped meanwhile instead of waiting for it to reach a boundary.
     */
    void lockAtomics() {
        if (atomicLock.tryLock()) {
            return;
        }
        LockWait w = lockWait;
        if (w == null) {
            atomicLock.lock();
            return;
        }
        w.begins();
        try {
            atomicLock.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("vCPU interrupted waiting for the atomics lock at pc 0x"
                    + Long.toHexString(pc), e);
        } finally {
            w.ends();
        }
    }

    void unlockAtomics() {
        atomicLock.unlock();
    }
}
