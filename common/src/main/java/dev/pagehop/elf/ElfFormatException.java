package dev.pagehop.elf;

/** The file is not a static AArch64 ELF64 executable this loader can run; the message says why. */
public class ElfFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ElfFormatException(String message) {
        super(message);
    }
}
