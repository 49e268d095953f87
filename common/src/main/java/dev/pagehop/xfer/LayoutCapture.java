package dev.pagehop.xfer;

import dev.pagehop.mm.Memfd;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.VmaInfo;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a source address space's layout. Memfds get ids by identity on first sight and keep
 * them for the whole migration, so two VMAs mapping one memfd stay one shared file on the target.
 */
public final class LayoutCapture {
    private final Map<Memfd, Integer> memfdIds = new IdentityHashMap<>();

    public LayoutSpec capture(MemoryManager mm) {
        return capture(mm.vmas(), mm.brkStart(), mm.brk(0));
    }

    public LayoutSpec capture(List<VmaInfo> vmas, long startBrk, long brk) {
        List<VmaSpec> out = new ArrayList<>(vmas.size());
        Map<Integer, MemfdSpec> used = new java.util.TreeMap<>();
        for (VmaInfo v : vmas) {
            int id = 0;
            if (v.memfd() != null) {
                id = memfdIds.computeIfAbsent(v.memfd(), m -> memfdIds.size() + 1);
                used.put(id, new MemfdSpec(id, v.memfd().name(), v.memfd().size()));
            }
            out.add(new VmaSpec(v.start(), v.end(), v.prot(), v.vmFlags(), id, v.memfd() == null ? 0 : v.fileOffset()));
        }
        return new LayoutSpec(out, new ArrayList<>(used.values()), startBrk, brk);
    }
}
