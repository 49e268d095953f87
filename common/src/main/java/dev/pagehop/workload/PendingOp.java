package dev.pagehop.workload;

/**
 * One effect of a step not yet applied to memory: a store, or an address-space system call.
 * A step's effects are buffered and applied in order after the step has computed them (see
 * {@link StepContext}); when a thread is frozen while parked in a userfault during that
 * application, the effects from the faulting one onwards are saved in the process image and
 * applied first on the target, so the step completes exactly once.
 *
 * <p>Field use by kind: stores use {@code address}, {@code length} (1, 2, 4 or 8 bytes) and
 * {@code value}; {@code MMAP_FIXED} uses address, length, value = prot, arg = flags;
 * {@code MUNMAP} address and length; {@code MPROTECT} value = prot; {@code MADVISE} value =
 * advice; {@code MREMAP_FIXED} address = old address, length = old length, value = new length,
 * arg = new address (always MREMAP_MAYMOVE | MREMAP_FIXED).
 */
public record PendingOp(Kind kind, long address, long length, long value, long arg) {

    /** Wire codes are stable: they appear in process images. Zero is reserved as invalid. */
    public enum Kind {
        STORE(1),
        MMAP_FIXED(2),
        MUNMAP(3),
        MPROTECT(4),
        MREMAP_FIXED(5),
        MADVISE(6);

        private final int code;

        Kind(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        public static Kind ofCode(int code) {
            for (Kind k : values()) {
                if (k.code == code) {
                    return k;
                }
            }
            throw new IllegalArgumentException("pending operation code " + code + " is unknown (known 1..6)");
        }
    }

    public PendingOp {
        if (kind == null) {
            throw new IllegalArgumentException("pending operation needs a kind");
        }
        if (kind == Kind.STORE && length != 1 && length != 2 && length != 4 && length != 8) {
            throw new IllegalArgumentException(String.format(
                    "store of %d bytes at 0x%x: stores are 1, 2, 4 or 8 bytes", length, address));
        }
    }

    @Override
    public String toString() {
        return switch (kind) {
            case STORE -> String.format("store%d [0x%x] = 0x%x", length * 8, address, value);
            case MMAP_FIXED -> String.format("mmap(0x%x, %d, prot=%d, flags=0x%x)", address, length, value, arg);
            case MUNMAP -> String.format("munmap(0x%x, %d)", address, length);
            case MPROTECT -> String.format("mprotect(0x%x, %d, %d)", address, length, value);
            case MREMAP_FIXED -> String.format("mremap(0x%x, %d, %d, MAYMOVE|FIXED, 0x%x)", address, length, value, arg);
            case MADVISE -> String.format("madvise(0x%x, %d, %d)", address, length, value);
        };
    }
}
