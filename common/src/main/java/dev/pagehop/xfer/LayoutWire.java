package dev.pagehop.xfer;

import dev.pagehop.proto.migration.v1.Layout;
import dev.pagehop.proto.migration.v1.MemfdDescriptor;
import dev.pagehop.proto.migration.v1.Vma;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Converts layouts between the wire and {@link LayoutSpec}, refusing malformed ones. */
public final class LayoutWire {
    private LayoutWire() {
    }

    public static Layout toWire(LayoutSpec l) {
        Layout.Builder b = Layout.newBuilder().setStartBrk(l.startBrk()).setBrk(l.brk());
        for (VmaSpec v : l.vmas()) {
            b.addVmas(Vma.newBuilder().setStart(v.start()).setEnd(v.end()).setProt(v.prot())
                    .setVmFlags(v.vmFlags()).setMemfdId(v.memfdId()).setFileOffset(v.fileOffset()));
        }
        for (MemfdSpec m : l.memfds()) {
            b.addMemfds(MemfdDescriptor.newBuilder().setId(m.id()).setName(m.name()).setSizeBytes(m.sizeBytes()));
        }
        return b.build();
    }

    /**
     * Checks and converts a layout: VMAs page aligned, non-empty, sorted and disjoint; memfd ids
     * unique, at least 1, and referenced ones declared. Throws INVALID_ARGUMENT naming the first
     * offending VMA or memfd of {@code what} (e.g. "round 3 layout of migration m").
     */
    public static LayoutSpec fromWire(Layout l, long pageSize, String what) {
        List<MemfdSpec> memfds = new ArrayList<>();
        Set<Integer> ids = new HashSet<>();
        for (MemfdDescriptor m : l.getMemfdsList()) {
            if (m.getId() < 1 || !ids.add(m.getId())) {
                throw invalid(what + ": memfd id " + m.getId() + " is 0 or declared twice");
            }
            if (m.getSizeBytes() % pageSize != 0) {
                throw invalid(what + ": memfd " + m.getId() + " size " + m.getSizeBytes()
                        + " is not a multiple of the page size " + pageSize);
            }
            memfds.add(new MemfdSpec(m.getId(), m.getName(), m.getSizeBytes()));
        }
        List<VmaSpec> vmas = new ArrayList<>(l.getVmasCount());
        long prevEnd = Long.MIN_VALUE;
        for (int i = 0; i < l.getVmasCount(); i++) {
            Vma v = l.getVmas(i);
            String which = String.format("%s: VMA %d [0x%x, 0x%x)", what, i, v.getStart(), v.getEnd());
            if (v.getStart() % pageSize != 0 || v.getEnd() % pageSize != 0) {
                throw invalid(which + " is not aligned to the page size " + pageSize);
            }
            if (Long.compareUnsigned(v.getEnd(), v.getStart()) <= 0) {
                throw invalid(which + " is empty or inverted");
            }
            if (prevEnd != Long.MIN_VALUE && Long.compareUnsigned(v.getStart(), prevEnd) < 0) {
                throw invalid(which + String.format(" overlaps or precedes the previous VMA ending at 0x%x", prevEnd));
            }
            if (v.getMemfdId() != 0 && !ids.contains(v.getMemfdId())) {
                throw invalid(which + " refers to memfd " + v.getMemfdId() + ", which the layout does not declare");
            }
            if (v.getFileOffset() % pageSize != 0) {
                throw invalid(which + " has file offset " + v.getFileOffset() + ", not page aligned");
            }
            vmas.add(new VmaSpec(v.getStart(), v.getEnd(), v.getProt(), v.getVmFlags(), v.getMemfdId(), v.getFileOffset()));
            prevEnd = v.getEnd();
        }
        return new LayoutSpec(vmas, memfds, l.getStartBrk(), l.getBrk());
    }

    private static io.grpc.StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }
}
