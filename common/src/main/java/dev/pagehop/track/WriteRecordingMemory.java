package dev.pagehop.track;

import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.Memfd;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.uffd.PmScanArg;
import dev.pagehop.uffd.Userfaultfd;
import java.util.List;

/**
 * An address space that records every user-mode store (and every zap, which changes contents to
 * zero) in a {@link TrueWriteLog} before performing it; everything else passes through. Tests and
 * benchmarks hand this to their workload and the plain address space to the tracker, so the
 * tracker is judged against what really happened.
 */
public final class WriteRecordingMemory implements MemoryManager {
    private final MemoryManager mm;
    private final TrueWriteLog log;

    public WriteRecordingMemory(MemoryManager mm, TrueWriteLog log) {
        if (mm == null || log == null) {
            throw new IllegalArgumentException("write recording needs an address space and a log, got " + mm + ", " + log);
        }
        if (log.pageSize() != mm.pageSize()) {
            throw new IllegalArgumentException("write log counts " + log.pageSize() + "-byte pages, address space uses "
                    + mm.pageSize());
        }
        this.mm = mm;
        this.log = log;
    }

    public MemoryManager delegate() {
        return mm;
    }

    public TrueWriteLog log() {
        return log;
    }

    @Override
    public MmConfig config() {
        return mm.config();
    }

    @Override
    public long pageSize() {
        return mm.pageSize();
    }

    @Override
    public long mmap(long addr, long len, int prot, int flags) {
        return mm.mmap(addr, len, prot, flags);
    }

    @Override
    public long mmap(long addr, long len, int prot, int flags, Memfd fd, long offset) {
        return mm.mmap(addr, len, prot, flags, fd, offset);
    }

    @Override
    public Memfd memfdCreate(String name, long size) {
        return mm.memfdCreate(name, size);
    }

    @Override
    public void munmap(long addr, long len) {
        mm.munmap(addr, len);
    }

    @Override
    public void mprotect(long addr, long len, int prot) {
        mm.mprotect(addr, len, prot);
    }

    @Override
    public long mremap(long oldAddr, long oldLen, long newLen, int flags, long newAddr) {
        long to = mm.mremap(oldAddr, oldLen, newLen, flags, newAddr);
        if (to != oldAddr) {
            // The contents now live at new addresses.
            log.record(to, Math.min(oldLen, newLen));
        }
        return to;
    }

    @Override
    public void madvise(long addr, long len, int advice) {
        if (advice == Madvise.DONTNEED || advice == Madvise.REMOVE || advice == Madvise.FREE) {
            log.record(addr, len);
        }
        mm.madvise(addr, len, advice);
    }

    @Override
    public long brk(long addr) {
        return mm.brk(addr);
    }

    @Override
    public MemoryManager fork() {
        return mm.fork();
    }

    @Override
    public Userfaultfd userfaultfd(int flags) {
        return mm.userfaultfd(flags);
    }

    @Override
    public int load8(long addr) {
        return mm.load8(addr);
    }

    @Override
    public int load16(long addr) {
        return mm.load16(addr);
    }

    @Override
    public int load32(long addr) {
        return mm.load32(addr);
    }

    @Override
    public long load64(long addr) {
        return mm.load64(addr);
    }

    @Override
    public void store8(long addr, long value) {
        log.record(addr, 1);
        mm.store8(addr, value);
    }

    @Override
    public void store16(long addr, long value) {
        log.record(addr, 2);
        mm.store16(addr, value);
    }

    @Override
    public void store32(long addr, long value) {
        log.record(addr, 4);
        mm.store32(addr, value);
    }

    @Override
    public void store64(long addr, long value) {
        log.record(addr, 8);
        mm.store64(addr, value);
    }

    @Override
    public void read(long addr, byte[] dst) {
        mm.read(addr, dst);
    }

    @Override
    public void write(long addr, byte[] src) {
        log.record(addr, src.length);
        mm.write(addr, src);
    }

    @Override
    public long pagemapEntry(long addr) {
        return mm.pagemapEntry(addr);
    }

    @Override
    public void clearRefs(int value) {
        mm.clearRefs(value);
    }

    @Override
    public int pagemapScan(PmScanArg arg) {
        return mm.pagemapScan(arg);
    }

    @Override
    public long rawPte(long addr) {
        return mm.rawPte(addr);
    }

    @Override
    public List<VmaInfo> vmas() {
        return mm.vmas();
    }

    @Override
    public long brkStart() {
        return mm.brkStart();
    }

    @Override
    public void setBrk(long startBrk, long brk) {
        mm.setBrk(startBrk, brk);
    }

    @Override
    public void peek(long addr, byte[] dst, int offset, int length) {
        mm.peek(addr, dst, offset, length);
    }

    @Override
    public void close() {
        mm.close();
    }
}
