package dev.pagehop.proc;

import static dev.pagehop.mm.VmFlags.VM_DONTCOPY;
import static dev.pagehop.mm.VmFlags.VM_GROWSDOWN;
import static dev.pagehop.mm.VmFlags.VM_HUGEPAGE;
import static dev.pagehop.mm.VmFlags.VM_LOCKED;
import static dev.pagehop.mm.VmFlags.VM_NOHUGEPAGE;
import static dev.pagehop.mm.VmFlags.VM_NORESERVE;
import static dev.pagehop.mm.VmFlags.VM_SHARED;

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
    /**
     * The VM_* flags a program can observe after a restore (MADV_DONTNEED fails EINVAL on a
     * locked VMA, fork skips a DONTFORK one, THP advice decides page sizes, MAP_NORESERVE and
     * MAP_GROWSDOWN change what later faults may do), so a rebuilt VMA must carry them; the
     * kernel-internal ones (uffd registration, soft-dirty, accounting) may differ.
     */
    public static final long OBSERVABLE_FLAGS = VM_LOCKED | VM_NORESERVE | VM_GROWSDOWN | VM_HUGEPAGE | VM_NOHUGEPAGE
            | VM_DONTCOPY;

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
     * Recreates the image's VMAs (with the flags a program can observe: sharing, MAP_NORESERVE,
     * MAP_GROWSDOWN, MAP_LOCKED, MADV_HUGEPAGE/NOHUGEPAGE, MADV_DONTFORK), memfds and break on
     * {@code mm}, which must be fresh (no VMAs) and built with the image's
     * {@link ProcessImage#mmConfig()}. Returns the memfds created,
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
            if ((v.vmFlags() & VM_LOCKED) != 0) {
                // The program sees the lock (MADV_DONTNEED on it is EINVAL), so it must survive the
                // move; MAP_LOCKED populates with zero pages, which the caller's fill overwrites.
                flags |= MapFlags.LOCKED;
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
     * Fails, naming the first difference, unless {@code mm}'s address space and break are the
     * image's: the same ranges mapped with the same protection, sharing and memfd offsets.
     * Neighbouring VMAs that differ only in flags the kernel keeps for itself (uffd
     * registration, soft-dirty, accounting) are compared as one range, since a rebuilt address
     * space merges them.
     */
    public static void check(ProcessImage image, MemoryManager mm) {
        List<UserRange> have = userRanges(mm.vmas());
        Map<Integer, String> names = new LinkedHashMap<>();
        image.memfds().forEach(m -> names.put(m.id(), m.name()));
        List<UserRange> want = new ArrayList<>();
        for (ProcessImage.VmaImage v : image.vmas()) {
            add(want, new UserRange(v.start(), v.end(), v.prot(), (v.vmFlags() & VM_SHARED) != 0,
                    v.memfdId() < 0 ? null : names.get(v.memfdId()), v.fileOffset(), v.vmFlags() & OBSERVABLE_FLAGS));
        }
        for (int i = 0; i < Math.max(have.size(), want.size()); i++) {
            if (i >= have.size()) {
                throw new IllegalStateException("process " + image.pid() + ": " + want.get(i) + " of the image is missing");
            }
            if (i >= want.size()) {
                throw new IllegalStateException("process " + image.pid() + ": " + have.get(i) + " is not in the image");
            }
            if (!have.get(i).equals(want.get(i))) {
                throw new IllegalStateException("process " + image.pid() + ": mapped " + have.get(i) + ", the image has "
                        + want.get(i));
            }
        }
        if (mm.brkStart() != image.brkStart() || mm.brk(0) != image.brk()) {
            throw new IllegalStateException(String.format("process %d: break [0x%x, 0x%x), the image has [0x%x, 0x%x)",
                    image.pid(), mm.brkStart(), mm.brk(0), image.brkStart(), image.brk()));
        }
    }

    /**
     * The VMAs as user space sees them: neighbours with the same protection, sharing and
     * (contiguous) backing as one range, whatever internal flags or page offsets kept the kernel
     * from merging them (an mremap'd anonymous VMA keeps its old page offset and so stays apart).
     */
    public static List<UserRange> userRanges(List<VmaInfo> vmas) {
        List<UserRange> out = new ArrayList<>();
        for (VmaInfo v : vmas) {
            add(out, new UserRange(v.start(), v.end(), v.prot(), (v.vmFlags() & VM_SHARED) != 0,
                    v.memfd() == null ? null : v.memfd().name(), v.fileOffset(), v.vmFlags() & OBSERVABLE_FLAGS));
        }
        return out;
    }

    /**
     * A mapped range as user space sees it; the memfd by name, its offset at {@code start};
     * {@code flags} the {@link #OBSERVABLE_FLAGS} it has.
     */
    public record UserRange(long start, long end, int prot, boolean shared, String memfd, long fileOffset, long flags) {
        @Override
        public String toString() {
            return String.format("[0x%x, 0x%x) %s%s%s%s", start, end, ProcessImage.protString(prot), shared ? " shared" : "",
                    memfd == null ? "" : " memfd '" + memfd + "' +0x" + Long.toHexString(fileOffset),
                    flags == 0 ? "" : " flags 0x" + Long.toHexString(flags));
        }
    }

    private static void add(List<UserRange> ranges, UserRange r) {
        if (!ranges.isEmpty()) {
            UserRange last = ranges.getLast();
            boolean contiguousFile = last.memfd() == null ? r.memfd() == null
                    : last.memfd().equals(r.memfd()) && last.fileOffset() + (last.end() - last.start()) == r.fileOffset();
            if (last.end() == r.start() && last.prot() == r.prot() && last.shared() == r.shared() && contiguousFile
                    && last.flags() == r.flags()) {
                ranges.set(ranges.size() - 1, new UserRange(last.start(), r.end(), last.prot(), last.shared(), last.memfd(),
                        last.fileOffset(), last.flags()));
                return;
            }
        }
        ranges.add(r);
    }
}
