package dev.pagehop.proc;

import dev.pagehop.mm.MemoryManager;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 over an address space as user space sees it: for every mapped range its bounds and
 * protection, then its contents read with {@link MemoryManager#peek} (no faults, nothing
 * dirtied; unpopulated pages read as zeros). Neighbouring VMAs that differ only in what the
 * kernel keeps for itself (uffd flags, the page offset an mremap'd VMA keeps) count as one range,
 * as {@link AddressSpaceLayout#check} does, so a rebuilt address space digests the same. Equal
 * digests mean equal layout and equal bytes.
 */
public final class MemoryDigest {
    /** Read 256 KiB at a time: large enough to amortise peek, small enough for any granule. */
    private static final int CHUNK = 256 * 1024;

    private MemoryDigest() {
    }

    public static String of(MemoryManager mm) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        byte[] buf = new byte[CHUNK];
        ByteBuffer head = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
        for (AddressSpaceLayout.Range v : AddressSpaceLayout.userRanges(mm.vmas())) {
            head.clear();
            head.putLong(v.start()).putLong(v.end()).putInt(v.prot());
            sha.update(head.array());
            for (long a = v.start(); a < v.end(); a += CHUNK) {
                int n = (int) Math.min(CHUNK, v.end() - a);
                mm.peek(a, buf, 0, n);
                sha.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
