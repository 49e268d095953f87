package dev.pagehop.xfer;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * How the target turns the layout it has into the layout of the next round: a pure function of
 * the two layouts. Ranges no longer mapped are unmapped; ranges newly mapped, or mapped with a
 * different backing (another memfd or offset, private became shared), are mapped afresh; ranges
 * whose backing stayed the same are left alone even if their protection or boundaries changed,
 * so pages already received survive an mprotect or a VMA split. Protections are applied once,
 * at switchover: until then the target keeps every mapping writable to receive pages.
 */
public final class LayoutPlan {

    public sealed interface Op permits Unmap, Map {
    }

    public record Unmap(long start, long end) implements Op {
    }

    public record Map(VmaSpec vma) implements Op {
    }

    private LayoutPlan() {
    }

    public static List<Op> plan(List<VmaSpec> current, List<VmaSpec> wanted) {
        TreeSet<Long> cuts = new TreeSet<>();
        for (VmaSpec v : current) {
            cuts.add(v.start());
            cuts.add(v.end());
        }
        for (VmaSpec v : wanted) {
            cuts.add(v.start());
            cuts.add(v.end());
        }
        List<Op> ops = new ArrayList<>();
        Long prev = null;
        for (long cut : cuts) {
            if (prev != null) {
                VmaSpec c = find(current, prev);
                VmaSpec w = find(wanted, prev);
                if (c != null && (w == null || !c.sameBacking(w))) {
                    addUnmap(ops, prev, cut);
                }
                if (w != null && (c == null || !c.sameBacking(w))) {
                    addMap(ops, w.slice(prev, cut), w);
                }
            }
            prev = cut;
        }
        // Unmaps first: a new mapping may reuse an address whose old mapping goes away.
        List<Op> ordered = new ArrayList<>(ops.size());
        for (Op op : ops) {
            if (op instanceof Unmap) {
                ordered.add(op);
            }
        }
        for (Op op : ops) {
            if (op instanceof Map) {
                ordered.add(op);
            }
        }
        return ordered;
    }

    private static void addUnmap(List<Op> ops, long start, long end) {
        for (int i = ops.size() - 1; i >= 0; i--) {
            if (ops.get(i) instanceof Unmap u) {
                if (u.end() == start) {
                    ops.set(i, new Unmap(u.start(), end));
                    return;
                }
                break;
            }
        }
        ops.add(new Unmap(start, end));
    }

    private static void addMap(List<Op> ops, VmaSpec piece, VmaSpec whole) {
        for (int i = ops.size() - 1; i >= 0; i--) {
            if (ops.get(i) instanceof Map m) {
                VmaSpec v = m.vma();
                if (v.end() == piece.start() && v.start() >= whole.start() && v.end() <= whole.end()) {
                    ops.set(i, new Map(whole.slice(v.start(), piece.end())));
                    return;
                }
                break;
            }
        }
        ops.add(new Map(piece));
    }

    /** The VMA containing {@code addr}, or null; {@code vmas} sorted and disjoint. */
    private static VmaSpec find(List<VmaSpec> vmas, long addr) {
        int lo = 0;
        int hi = vmas.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            VmaSpec v = vmas.get(mid);
            if (addr < v.start()) {
                hi = mid - 1;
            } else if (addr >= v.end()) {
                lo = mid + 1;
            } else {
                return v;
            }
        }
        return null;
    }
}
