package dev.pagehop.xfer;

/** A memfd of the migrated process: an id (>= 1) stable for the migration, its name and size. */
public record MemfdSpec(int id, String name, long sizeBytes) {
    public MemfdSpec {
        if (id < 1) {
            throw new IllegalArgumentException("memfd id " + id + " must be at least 1");
        }
    }
}
