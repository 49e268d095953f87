package dev.pagehop.proc;

import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Memfd;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.workload.RateLimit;
import dev.pagehop.workload.WorkloadSpec;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Moves an address-space layout between a live {@link MemoryManager} and a {@link ProcessImage}:
 * {@link #capture} reads VMAs, memfds and the break on the source; {@link #rebuild} replays them
 * on a fresh memory manager on the target, as CRIU's restorer does (mmap every VMA at its
 * address with MAP_FIXED, then {@code prctl(PR_SET_MM_START_BRK/BRK)}), before memory is filled.
 */
public final class AddressSpaceLayout {
    /** VM_* bits of include/linux/mm.h the rebuild replays; the rest are the kernel's to set. */
    static final long VM_SHARED = 0x0000_0008L;
    static final long VM_GROWSDOWN = 0x0000_0100L;
    static final long VM_LOCKED = 0x0000_2000L;
    static final long VM_DONTCOPY = 0x0002_0000L;
    static final long VM_NORESERVE = 0x0020_0000L;
    static final long VM_HUGEPAGE = 0x2000_0000L;
    static final long VM_NOHUGEPAGE = 0x4000_0000L;

    private AddressSpaceLayout() {
    }

    /** Builds the image of a stopped process: layout and break from {@code mm}, the rest given. */
    public static ProcessImage capture(int pid, MemoryManager mm, WorkloadSpec workload, RateLimit rate,
            List<ProcessImage.ThreadImage> threads) {
        Map<Memfd, Integer> ids = new IdentityHashMap<>();
        List<ProcessImage.MemfdImage> memfds = new ArrayList<>();
        List<ProcessImage.VmaImage> vmas = new ArrayList<>();
        for (VmaInfo v : mm.vmas()) {
            int id = -1;
            if (v.memfd() != null) {
                Integer known = ids.get(v.memfd());
                if (known == null) {
                    known = memfds.size();
                    ids.put(v.memfd(), known);
                    memfds.add(new ProcessImage.MemfdImage(known, v.memfd().name(), v.memfd().size()));
                }
                id = known;
            }
            vmas.add(new ProcessImage.VmaImage(v.start(), v.end(), v.prot(), v.vmFlags(), id, v.fileOffset()));
        }
        // brk(0) is refused (below start_brk) and so returns the current break, as on Linux.
        long brk = mm.brk(0);
        return new ProcessImage(pid, mm.config(), mm.brkStart(), brk, memfds, vmas, threads, workload, rate);
    }

    /**
     * Recreates the image's VMAs, memfds and break on {@code mm}, which must be fresh (no VMAs)
     * and built with the image's {@link ProcessImage#mmConfig()}. Returns the memfds created,
     * by image id, so the caller can fill shared memory. Page contents are left to the caller.
     */
    public static Map<Integer, Memfd> rebuild(ProcessImage image, MemoryManager mm) {
        if (!mm.config().equals(image.mmConfig())) {
            throw new IllegalArgumentException("process " + image.pid() + ": image was taken on " + image.mmConfig()
                    + ", the memory manager is " + mm.config());
        }
        if (!mm.vmas().isEmpty()) {
            VmaInfo first = mm.vmas().getFirst();
            throw new IllegalArgumentException(String.format(
                    "process %d: the memory manager already has %d VMAs (first [0x%x, 0x%x)); rebuild needs a fresh one",
                    image.pid(), mm.vmas().size(), first.start(), first.end()));
        }
        Map<Integer, Memfd> memfds = new LinkedHashMap<>();
        for (ProcessImage.MemfdImage m : image.memfds()) {
            memfds.put(m.id(), mm.memfdCreate(m.name(), m.size()));
        }
        for (ProcessImage.VmaImage v : image.vmas()) {
            int flags = MapFlags.FIXED | ((v.vmFlags() & VM_SHARED) != 0 ? MapFlags.SHARED : MapFlags.PRIVATE);
            if ((v.vmFlags() & VM_NORESERVE) != 0) {
                flags |= MapFlags.NORESERVE;
            }
            if ((v.vmFlags() & VM_GROWSDOWN) != 0) {
                flags |= MapFlags.GROWSDOWN;
            }
            long addr;
            if (v.memfdId() >= 0) {
                addr = mm.mmap(v.start(), v.length(), v.prot(), flags, memfds.get(v.memfdId()), v.fileOffset());
            } else {
                addr = mm.mmap(v.start(), v.length(), v.prot(), flags | MapFlags.ANONYMOUS);
            }
            if (addr != v.start()) {
                throw new IllegalStateException(String.format("process %d: mmap(MAP_FIXED) of [0x%x, 0x%x) returned 0x%x",
                        image.pid(), v.start(), v.end(), addr));
            }
            if ((v.vmFlags() & VM_HUGEPAGE) != 0) {
                mm.madvise(v.start(), v.length(), Madvise.HUGEPAGE);
            } else if ((v.vmFlags() & VM_NOHUGEPAGE) != 0) {
                mm.madvise(v.start(), v.length(), Madvise.NOHUGEPAGE);
            }
            if ((v.vmFlags() & VM_DONTCOPY) != 0) {
                mm.madvise(v.start(), v.length(), Madvise.DONTFORK);
            }
        }
        mm.setBrk(image.brkStart(), image.brk());
        check(image, mm);
        return memfds;
    }

    /**
     * Fails, naming the first difference, unless {@code mm}'s VMAs (address, protection,
     * sharing, memfd offset) and break are the image's.
     */
    public static void check(ProcessImage image, MemoryManager mm) {
        List<VmaInfo> have = mm.vmas();
        List<ProcessImage.VmaImage> want = image.vmas();
        for (int i = 0; i < Math.max(have.size(), want.size()); i++) {
            if (i >= have.size()) {
                ProcessImage.VmaImage w = want.get(i);
                throw new IllegalStateException(String.format("process %d: VMA [0x%x, 0x%x) %s of the image is missing",
                        image.pid(), w.start(), w.end(), ProcessImage.protString(w.prot())));
            }
            VmaInfo h = have.get(i);
            if (i >= want.size()) {
                throw new IllegalStateException(String.format("process %d: VMA [0x%x, 0x%x) %s is not in the image",
                        image.pid(), h.start(), h.end(), ProcessImage.protString(h.prot())));
            }
            ProcessImage.VmaImage w = want.get(i);
            boolean sameShare = ((h.vmFlags() ^ w.vmFlags()) & VM_SHARED) == 0;
            boolean sameFile = (h.memfd() == null) == (w.memfdId() < 0) && (h.memfd() == null || h.fileOffset() == w.fileOffset());
            if (h.start() != w.start() || h.end() != w.end() || h.prot() != w.prot() || !sameShare || !sameFile) {
                throw new IllegalStateException(String.format(
                        "process %d: VMA %d is [0x%x, 0x%x) %s flags 0x%x, the image has [0x%x, 0x%x) %s flags 0x%x",
                        image.pid(), i, h.start(), h.end(), ProcessImage.protString(h.prot()), h.vmFlags(),
                        w.start(), w.end(), ProcessImage.protString(w.prot()), w.vmFlags()));
            }
        }
        if (mm.brkStart() != image.brkStart() || mm.brk(0) != image.brk()) {
            throw new IllegalStateException(String.format("process %d: break [0x%x, 0x%x), the image has [0x%x, 0x%x)",
                    image.pid(), mm.brkStart(), mm.brk(0), image.brkStart(), image.brk()));
        }
    }
}
