package dev.pagehop.mm;

/**
 * One line of /proc/PID/maps plus the flags the emulator keeps ({@code VM_*} of mm.h as
 * {@link #vmFlags()}); {@code memfd} is null for anonymous memory.
 */
public record VmaInfo(long start, long end, int prot, long vmFlags, Memfd memfd, long fileOffset) {

    public long length() {
        return end - start;
    }
}
