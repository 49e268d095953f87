package dev.pagehop.xfer;

import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.VmaInfo;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The digest of a whole address space's contents: the {@link PageSetDigest} of every mapped page
 * (unpopulated pages read as zeros, as the kernel shows them), read in one pass. A migration keeps
 * the same digest incrementally on both sides; this full read is for inspection and tests, and
 * equals the incremental one over the same contents. Hashing each page with CRC32C keeps the
 * cost at memory speed; the set digest then sees one 64-bit hash per page.
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
        int ps = Math.toIntExact(pageSize);
        byte[] block = new byte[Math.max(ps, BLOCK_BYTES - BLOCK_BYTES % ps)];
        CRC32C crc = new CRC32C();
        PageSetDigest.Sum sum = new PageSetDigest.Sum();
        for (VmaInfo v : vmas) {
            for (long addr = v.start(); addr < v.end(); ) {
                int len = (int) Math.min(block.length, v.end() - addr);
                reader.read(addr, block, 0, len);
                for (int off = 0; off < len; off += ps) {
                    crc.reset();
                    crc.update(block, off, ps);
                    sum.add(addr + off, crc.getValue());
                }
                addr += len;
            }
        }
        return sum.digest();
    }

    public static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }
}
