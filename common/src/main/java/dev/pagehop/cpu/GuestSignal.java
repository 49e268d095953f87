package dev.pagehop.cpu;

/**
 * A synchronous signal the CPU raises for the instruction at {@link #pc()}: SIGILL for an
 * encoding the interpreter does not implement (or one that is UNDEFINED at EL0), SIGTRAP for BRK,
 * SIGBUS for a misaligned PC or an exclusive access that is not naturally aligned. The registers
 * are left as they were before the instruction, so the state shows exactly where it stopped.
 * Memory faults are {@link dev.pagehop.mm.SegmentationFault}s from the MMU, not this type.
 */
public class GuestSignal extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public static final int SIGILL = 4;
    public static final int SIGTRAP = 5;
    public static final int SIGBUS = 7;

    private final int signal;
    private final long pc;
    private final int encoding;

    public GuestSignal(int signal, long pc, int encoding, String reason) {
        super(String.format("%s at pc 0x%x, encoding 0x%08x: %s", name(signal), pc, encoding, reason));
        this.signal = signal;
        this.pc = pc;
        this.encoding = encoding;
    }

    public static GuestSignal illegal(long pc, int encoding, String what) {
        return new GuestSignal(SIGILL, pc, encoding, what);
    }

    public int signal() {
        return signal;
    }

    public long pc() {
        return pc;
    }

    public int encoding() {
        return encoding;
    }

    static String name(int signal) {
        return switch (signal) {
            case SIGILL -> "SIGILL";
            case SIGTRAP -> "SIGTRAP";
            case SIGBUS -> "SIGBUS";
            default -> "signal " + signal;
        };
    }
}
