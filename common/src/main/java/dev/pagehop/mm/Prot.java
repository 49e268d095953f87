package dev.pagehop.mm;

/** PROT_* values of mman-common.h. */
public final class Prot {
    public static final int NONE = 0x0;
    public static final int READ = 0x1;
    public static final int WRITE = 0x2;
    public static final int EXEC = 0x4;

    private Prot() {
    }
}
