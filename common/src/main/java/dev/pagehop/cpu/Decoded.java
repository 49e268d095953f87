package dev.pagehop.cpu;

/**
 * One instruction decoded once and cached by address. Frequent forms get their own
 * {@link #op} with operands resolved (register numbers already mapped to the zero register, the
 * write sink or SP; PC-relative targets already absolute); everything else keeps
 * {@link Decoder#RAW} and is executed from {@link #insn}, decoding its fields again each time.
 */
final class Decoded {
    int op;
    int insn;
    /** Register-file indices (see {@link Interpreter#ZR}, {@link Interpreter#SINK}, {@link Interpreter#SP}). */
    int rd;
    int rn;
    int rm;
    int ra;
    long imm;
    int a;
    int b;
    /** Writes memory or enters the kernel (see {@link Decoder#hasSideEffect}). */
    boolean effect;
}
