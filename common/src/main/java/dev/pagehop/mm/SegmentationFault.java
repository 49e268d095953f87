package dev.pagehop.mm;

/**
 * A user-mode access Linux would answer with a signal (SIGSEGV with SEGV_MAPERR or SEGV_ACCERR,
 * or SIGBUS): delivered to the emulated process, never a JVM crash.
 */
public class SegmentationFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public static final int SIGBUS = 7;
    public static final int SIGSEGV = 11;
    /** si_code: address not mapped. */
    public static final int SEGV_MAPERR = 1;
    /** si_code: invalid permissions for mapped object. */
    public static final int SEGV_ACCERR = 2;

    private final int signal;
    private final int code;
    private final long address;
    private final boolean write;

    public SegmentationFault(int signal, int code, long address, boolean write, String reason) {
        super(String.format("%s (%s) at 0x%x on %s: %s", signal == SIGBUS ? "SIGBUS" : "SIGSEGV",
                code == SEGV_MAPERR ? "SEGV_MAPERR" : code == SEGV_ACCERR ? "SEGV_ACCERR" : "code " + code,
                address, write ? "write" : "read", reason));
        this.signal = signal;
        this.code = code;
        this.address = address;
        this.write = write;
    }

    public int signal() {
        return signal;
    }

    public int code() {
        return code;
    }

    public long address() {
        return address;
    }

    public boolean isWrite() {
        return write;
    }
}
