package dev.pagehop.mm;

/** A memfd (shmem file) of one emulated kernel: shared pages addressed by file offset. */
public interface Memfd {
    String name();

    long size();
}
