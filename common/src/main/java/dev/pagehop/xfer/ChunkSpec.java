package dev.pagehop.xfer;

/** One chunk to read and send: {@code pageCount} pages from {@code address}. */
public record ChunkSpec(long address, long lengthBytes, long pageSize) {

    public ChunkSpec {
        if (lengthBytes <= 0 || lengthBytes % pageSize != 0 || address % pageSize != 0) {
            throw new IllegalArgumentException(String.format(
                    "chunk at 0x%x of %d bytes is not a whole number of %d-byte pages", address, lengthBytes, pageSize));
        }
    }

    public int pageCount() {
        return (int) (lengthBytes / pageSize);
    }

    public long end() {
        return address + lengthBytes;
    }
}
