package dev.pagehop.workload;

/**
 * A workload found its own state corrupt (a checksum mismatch, a value that cannot be): the
 * process stops with this as its reason. The message names the address and both values.
 */
public class WorkloadFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long address;

    public WorkloadFailure(long address, String message) {
        super(message);
        this.address = address;
    }

    public long address() {
        return address;
    }
}
