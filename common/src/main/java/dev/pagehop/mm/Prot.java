package dev.pagehop.mm;

/** PROT_* values of mman-common.h. */
public final class Prot {
    public static final int NONE = 0x0;
    public static final int READ = 0x1;
    public static final int WRITE = 0x2;
    public static final int EXEC = 0x4;
    /** Accepted and ignored by mprotect(2) (arm64's arch_validate_prot); mmap(2) ignores it too. */
    public static final int SEM = 0x8;
    /** mprotect(2) only: extend the change to the start of a MAP_GROWSDOWN mapping. */
    public static final int GROWSDOWN = 0x01000000;
    /** mprotect(2) only: arm64 has no upward-growing mappings, so it always fails EINVAL. */
    public static final int GROWSUP = 0x02000000;

    private Prot() {
    }
}
