package dev.pagehop.target;

import com.google.protobuf.ByteString;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Memfd;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.VmFlags;
import dev.pagehop.xfer.ChunkDecoder;
import dev.pagehop.xfer.LayoutPlan;
import dev.pagehop.xfer.LayoutSpec;
import dev.pagehop.xfer.MemfdSpec;
import dev.pagehop.xfer.PageSetDigest;
import dev.pagehop.xfer.VmaSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Rebuilds a migrating process's memory on the target, round after round: reconciles the
 * layout with each round's (see {@link LayoutPlan}), writes page runs and zeroes zero runs. Every
 * mapping stays readable and writable until {@link #finish}, which applies the source's
 * protections and heap break, as CRIU's restorer fills memory before it mprotects.
 * Not thread safe: the owning {@link TargetMigration} serialises calls.
 */
final class MemoryRebuilder implements ChunkDecoder.PageSink {
    private static final int RECEIVE_PROT = Prot.READ | Prot.WRITE;

    private final MemoryManager mm;
    private final int pageSize;
    private final byte[] zeros;
    private final Map<Integer, Memfd> memfds = new HashMap<>();
    private LayoutSpec layout = LayoutSpec.EMPTY;
    private final PageSetDigest digest;

    MemoryRebuilder(MemoryManager mm) {
        this.mm = mm;
        this.pageSize = Math.toIntExact(mm.pageSize());
        this.zeros = new byte[pageSize];
        this.digest = new PageSetDigest(pageSize);
    }

    MemoryManager memory() {
        return mm;
    }

    /** The digest of every page received so far, as memory holds it. */
    PageSetDigest digest() {
        return digest;
    }

    LayoutSpec layout() {
        return layout;
    }

    /** Moves the address space to {@code next}: unmaps what went, maps what came. */
    void applyLayout(LayoutSpec next) {
        for (MemfdSpec m : next.memfds()) {
            memfds.computeIfAbsent(m.id(), id -> mm.memfdCreate(m.name(), m.sizeBytes()));
        }
        for (LayoutPlan.Op op : LayoutPlan.plan(layout.vmas(), next.vmas())) {
            switch (op) {
                case LayoutPlan.Unmap u -> {
                    mm.munmap(u.start(), u.end() - u.start());
                    digest.remove(u.start(), u.end());
                }
                case LayoutPlan.Map m -> {
                    map(m.vma());
                    // Mapped afresh: nothing the source sent is here until it sends it again.
                    digest.remove(m.vma().start(), m.vma().end());
                }
            }
        }
        layout = next;
    }

    private void map(VmaSpec v) {
        int flags = MapFlags.FIXED | (v.shared() ? MapFlags.SHARED : MapFlags.PRIVATE);
        if ((v.vmFlags() & VmFlags.VM_GROWSDOWN) != 0) {
            flags |= MapFlags.GROWSDOWN;
        }
        if ((v.vmFlags() & VmFlags.VM_NORESERVE) != 0) {
            flags |= MapFlags.NORESERVE;
        }
        if ((v.vmFlags() & VmFlags.VM_LOCKED) != 0) {
            // There is no mlock: the lock can only be had at mmap time. It populates the VMA,
            // which is why the source sends a locked VMA's pages before a post-copy switchover.
            flags |= MapFlags.LOCKED;
        }
        long addr;
        if (v.memfdId() != 0) {
            addr = mm.mmap(v.start(), v.length(), RECEIVE_PROT, flags, memfds.get(v.memfdId()), v.fileOffset());
        } else {
            addr = mm.mmap(v.start(), v.length(), RECEIVE_PROT, flags | MapFlags.ANONYMOUS);
        }
        if (addr != v.start()) {
            throw new IllegalStateException(String.format("mmap(MAP_FIXED) of [0x%x, 0x%x) returned 0x%x",
                    v.start(), v.end(), addr));
        }
        advise(v);
    }

    /**
     * THP and fork advice as the source has it. Also applied again at {@link #finish}: a VMA
     * the layout plan kept (same backing) may have been advised differently since it was mapped.
     */
    private void advise(VmaSpec v) {
        if ((v.vmFlags() & VmFlags.VM_HUGEPAGE) != 0) {
            mm.madvise(v.start(), v.length(), Madvise.HUGEPAGE);
        } else if ((v.vmFlags() & VmFlags.VM_NOHUGEPAGE) != 0) {
            mm.madvise(v.start(), v.length(), Madvise.NOHUGEPAGE);
        }
        mm.madvise(v.start(), v.length(), (v.vmFlags() & VmFlags.VM_DONTCOPY) != 0 ? Madvise.DONTFORK : Madvise.DOFORK);
    }

    @Override
    public void write(long address, ByteString data, int offset, int length) {
        // The data usually aliases the received transport buffers (AliasingMarshaller), in
        // pieces that need not align with pages: each piece goes straight into the frames.
        long at = address;
        for (java.nio.ByteBuffer b : data.substring(offset, offset + length).asReadOnlyByteBufferList()) {
            int n = b.remaining();
            mm.write(at, b);
            at += n;
        }
    }

    @Override
    public void zero(long address, long lengthBytes) {
        long end = address + lengthBytes;
        for (VmaSpec v : layout.vmas()) {
            if (v.end() <= address || v.start() >= end) {
                continue;
            }
            long s = Math.max(address, v.start());
            long e = Math.min(end, v.end());
            if (v.shared() || (v.vmFlags() & VmFlags.VM_LOCKED) != 0) {
                // MADV_DONTNEED on shared memory only drops the mapping (the file keeps its bytes),
                // and on a locked VMA it fails EINVAL.
                for (long a = s; a < e; a += pageSize) {
                    mm.write(a, zeros);
                }
            } else {
                mm.madvise(s, e - s, Madvise.DONTNEED);
            }
        }
    }

    /** Applies the final protections and the heap break. */
    void finish() {
        for (VmaSpec v : layout.vmas()) {
            advise(v);
            if (v.prot() != RECEIVE_PROT) {
                mm.mprotect(v.start(), v.length(), v.prot());
            }
        }
        mm.setBrk(layout.startBrk(), layout.brk());
    }

    List<VmaSpec> vmas() {
        return layout.vmas();
    }
}
