package dev.pagehop.xfer;

import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.VmaInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A digest of a whole address space's contents: SHA-256 over, for every mapped page in address
 * order, its address and the CRC32C of its contents (unpopulated pages read as zeros, as the
 * kernel shows them). Hashing each page with CRC32C first keeps the expensive hash off the bulk
 * of the bytes: the JDK's CRC32C runs at memory speed, and SHA-256 then sees 12 bytes per page.
 * Two address spaces with the same mapped addresses and the same bytes have equal digests.
 */
public final class MemoryDigest {
    /** Read 1 MiB at a time: large enough to amortise the kernel-side read, small enough to stay cached. */
    private static final int BLOCK_BYTES = 1 << 20;

    private MemoryDigest() {
    }

    public static byte[] of(MemoryManager mm) {
        return of(mm.vmas(), mm.pageSize(), mm::peek);
    }

    public static byte[] of(List<VmaInfo> vmas, long pageSize, ChunkEncoder.PageReader reader) {
        MessageDigest sha = sha256();
        int ps = Math.toIntExact(pageSize);
        byte[] block = new byte[Math.max(ps, BLOCK_BYTES - BLOCK_BYTES % ps)];
        ByteBuffer record = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        CRC32C crc = new CRC32C();
        for (VmaInfo v : vmas) {
            for (long addr = v.start(); addr < v.end(); ) {
                int len = (int) Math.min(block.length, v.end() - addr);
                reader.read(addr, block, 0, len);
                for (int off = 0; off < len; off += ps) {
                    crc.reset();
                    crc.update(block, off, ps);
                    record.clear();
                    record.putLong(addr + off).putInt((int) crc.getValue());
                    sha.update(record.array());
                }
                addr += len;
            }
        }
        return sha.digest();
    }

    public static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
