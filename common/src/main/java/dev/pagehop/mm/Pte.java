package dev.pagehop.mm;

/**
 * arm64 stage-1 descriptors as Linux 6.10+ lays them out for user mappings
 * (arch/arm64/include/asm/pgtable-hwdef.h, pgtable-prot.h, pgtable.h), the swap-entry layout of
 * the same release, and the generic PTE-marker encoding (include/linux/swapops.h). Pure
 * functions on 64-bit values: the page tables hold exactly these numbers.
 *
 * <p>The optional soft-dirty bits are those of Ryan Roberts' April 2024 RFC (PTE bit 63, swap bit
 * 61), which was never merged; they only ever appear when {@link MmConfig#softDirty()} asks for
 * that hypothetical kernel.
 */
public final class Pte {
    public static final long VALID = 1L;
    /** 1 = table (levels 0-2) or page (level 3); 0 = block at levels 1-2. */
    public static final long TABLE_BIT = 1L << 1;
    public static final long TYPE_PAGE = VALID | TABLE_BIT;
    public static final long TYPE_TABLE = VALID | TABLE_BIT;
    public static final long TYPE_SECT = VALID;
    public static final int ATTRINDX_SHIFT = 2;
    public static final long ATTRINDX_MASK = 7L << ATTRINDX_SHIFT;
    public static final long NS = 1L << 5;
    public static final long USER = 1L << 6;
    public static final long RDONLY = 1L << 7;
    /** SH[1:0] = inner shareable. */
    public static final long SHARED = 3L << 8;
    public static final long AF = 1L << 10;
    public static final long NG = 1L << 11;
    /** Overlaid on nG when bit 0 is clear: present but invalid for the MMU (PROT_NONE). */
    public static final long PRESENT_INVALID = 1L << 11;
    public static final long GP = 1L << 50;
    /** DBM; the kernel's logical "writable". */
    public static final long DBM = 1L << 51;
    public static final long WRITE = DBM;
    public static final long CONT = 1L << 52;
    public static final long PXN = 1L << 53;
    public static final long UXN = 1L << 54;
    public static final long DIRTY = 1L << 55;
    public static final long SPECIAL = 1L << 56;
    public static final long UFFD_WP = 1L << 58;
    /** PXNTable in table descriptors: Linux sets it on every user page-table level. */
    public static final long TABLE_PXN = 1L << 59;
    /** Hypothetical arm64 soft-dirty (RFC, bit 63). */
    public static final long SOFT_DIRTY = 1L << 63;
    public static final long SWBITS_MASK = (1L << 63) | (0xFL << 55);

    /** Output address bits 47:12 (the PA must stay below 2^48 here, so 64K needs no PA[51:48]). */
    public static final long OA_MASK_48 = ((1L << 48) - 1) & ~0xFFFL;

    // ---- protections of pgtable-prot.h (MT_NORMAL is attribute index 0) ----------------------
    public static final long PROT_DEFAULT = TYPE_PAGE | AF | SHARED;
    public static final long PAGE_NONE = (PROT_DEFAULT & ~VALID) | PRESENT_INVALID | RDONLY | NG | PXN | UXN;
    public static final long PAGE_SHARED = PROT_DEFAULT | USER | RDONLY | NG | PXN | UXN | WRITE;
    public static final long PAGE_SHARED_EXEC = PROT_DEFAULT | USER | RDONLY | NG | PXN | WRITE;
    public static final long PAGE_READONLY = PROT_DEFAULT | USER | RDONLY | NG | PXN | UXN;
    public static final long PAGE_READONLY_EXEC = PROT_DEFAULT | USER | RDONLY | NG | PXN;
    /** Bits pte_modify() takes from the new protection. */
    public static final long MODIFY_MASK = USER | PXN | UXN | RDONLY | PRESENT_INVALID | VALID | WRITE | GP
            | ATTRINDX_MASK | (7L << 60);

    // ---- swap entries (6.10+): 0-1 zero, 2 exclusive, 3 uffd-wp, 6-10 type, 11 zero, 12-61 offset
    public static final long SWP_EXCLUSIVE = 1L << 2;
    public static final long SWP_UFFD_WP = 1L << 3;
    public static final int SWP_TYPE_SHIFT = 6;
    public static final int SWP_TYPE_BITS = 5;
    public static final int SWP_OFFSET_SHIFT = 12;
    public static final int SWP_OFFSET_BITS = 50;
    /** RFC swap soft-dirty (bit 61); with it compiled in the offset shrinks to 49 bits. */
    public static final long SWP_SOFT_DIRTY = 1L << 61;
    /** MAX_SWAPFILES_SHIFT: the type field is 5 bits wide; the top type number is the marker. */
    public static final int SWP_PTE_MARKER = (1 << SWP_TYPE_BITS) - 1;
    public static final long MARKER_UFFD_WP = 1L << 0;
    public static final long MARKER_POISONED = 1L << 1;
    public static final long MARKER_GUARD = 1L << 2;
    /** The uffd-wp marker as it sits in a PTE: type 31, offset PTE_MARKER_UFFD_WP = 0x17C0. */
    public static final long UFFD_WP_MARKER = swapEntry(SWP_PTE_MARKER, MARKER_UFFD_WP);

    private Pte() {
    }

    public static boolean isValid(long d) {
        return (d & VALID) != 0;
    }

    /** pte_present: valid, or present-invalid (PROT_NONE). */
    public static boolean isPresent(long d) {
        return (d & VALID) != 0 || (d & (VALID | PRESENT_INVALID)) == PRESENT_INVALID;
    }

    public static boolean isNone(long d) {
        return d == 0;
    }

    /** A non-zero, non-present entry: swap, migration or marker. */
    public static boolean isSwap(long d) {
        return d != 0 && !isPresent(d);
    }

    /** Level 1/2 descriptor that maps a block (THP at level 2). */
    public static boolean isBlock(long d) {
        return d != 0 && (d & TABLE_BIT) == 0 && isPresent(d);
    }

    public static boolean isTable(long d) {
        return (d & TYPE_TABLE) == TYPE_TABLE;
    }

    public static long pa(long d) {
        return d & OA_MASK_48;
    }

    public static boolean isProtNone(long d) {
        return (d & (VALID | PRESENT_INVALID)) == PRESENT_INVALID && (d & USER) == 0 && (d & UXN) != 0;
    }

    public static boolean isWrite(long d) {
        return (d & WRITE) != 0;
    }

    public static boolean isHwDirty(long d) {
        return (d & WRITE) != 0 && (d & RDONLY) == 0;
    }

    public static boolean isDirty(long d) {
        return (d & DIRTY) != 0 || isHwDirty(d);
    }

    public static boolean isYoung(long d) {
        return (d & AF) != 0;
    }

    public static boolean isUffdWp(long d) {
        return (d & UFFD_WP) != 0;
    }

    public static boolean isSpecial(long d) {
        return (d & SPECIAL) != 0;
    }

    public static long mkwrite(long d) {
        return (d | WRITE) & ~RDONLY;
    }

    /** __pte_mkdirty: DIRTY, and hardware-dirty if writable; never soft-dirty. */
    public static long mkdirtyHw(long d) {
        d |= DIRTY;
        return (d & WRITE) != 0 ? d & ~RDONLY : d;
    }

    /** pte_mkdirty: as {@link #mkdirtyHw} plus soft-dirty when the kernel has it. */
    public static long mkdirty(long d, boolean softDirty) {
        d = mkdirtyHw(d);
        return softDirty ? d | SOFT_DIRTY : d;
    }

    public static long mkclean(long d) {
        return (d & ~DIRTY) | RDONLY;
    }

    /** pte_wrprotect: keeps hardware dirtiness in DIRTY, then clears DBM so the next write faults. */
    public static long wrprotect(long d) {
        if (isHwDirty(d)) {
            d |= DIRTY;
        }
        return (d & ~WRITE) | RDONLY;
    }

    public static long mkold(long d) {
        return d & ~AF;
    }

    public static long mkyoung(long d) {
        return d | AF;
    }

    public static long mkuffdWp(long d) {
        return wrprotect(d | UFFD_WP);
    }

    public static long clearUffdWp(long d) {
        return d & ~UFFD_WP;
    }

    /** pte_modify: new protection bits, dirtiness carried over as Linux does. */
    public static long modify(long d, long newProt, boolean softDirty) {
        if (isHwDirty(d)) {
            d |= DIRTY;
        }
        d = (d & ~MODIFY_MASK) | (newProt & MODIFY_MASK);
        if ((d & DIRTY) != 0) {
            d = mkdirtyHw(d);
        }
        return d;
    }

    // ---- swap entries ---------------------------------------------------------------------------

    public static long swapEntry(int type, long offset) {
        return ((long) type << SWP_TYPE_SHIFT) | (offset << SWP_OFFSET_SHIFT);
    }

    public static int swapType(long d) {
        return (int) ((d >>> SWP_TYPE_SHIFT) & ((1 << SWP_TYPE_BITS) - 1));
    }

    /** Offset field; {@code softDirty} kernels keep bit 61 for the swap soft-dirty bit. */
    public static long swapOffset(long d, boolean softDirty) {
        int bits = softDirty ? SWP_OFFSET_BITS - 1 : SWP_OFFSET_BITS;
        return (d >>> SWP_OFFSET_SHIFT) & ((1L << bits) - 1);
    }

    public static boolean isMarker(long d) {
        return isSwap(d) && swapType(d) == SWP_PTE_MARKER;
    }

    public static boolean isUffdWpMarker(long d) {
        return isMarker(d) && (swapOffset(d, false) & MARKER_UFFD_WP) != 0;
    }

    /** pte_swp_uffd_wp_any: the swap-pte bit, or a uffd-wp marker. */
    public static boolean isSwpUffdWpAny(long d) {
        return isSwap(d) && ((d & SWP_UFFD_WP) != 0 || isUffdWpMarker(d));
    }

    /** One line decoding a descriptor at a given level for humans (demo, error messages). */
    public static String describe(long d, int level, int pageShift) {
        if (d == 0) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        if (!isPresent(d)) {
            if (isMarker(d)) {
                long m = swapOffset(d, false);
                sb.append("marker[");
                sb.append((m & MARKER_UFFD_WP) != 0 ? "UFFD_WP" : "");
                sb.append((m & MARKER_POISONED) != 0 ? " POISONED" : "");
                sb.append((m & MARKER_GUARD) != 0 ? " GUARD" : "");
                return sb.append(']').toString();
            }
            sb.append("swap type=").append(swapType(d)).append(" offset=0x")
                    .append(Long.toHexString(swapOffset(d, false)));
            if ((d & SWP_EXCLUSIVE) != 0) {
                sb.append(" EXCLUSIVE");
            }
            if ((d & SWP_UFFD_WP) != 0) {
                sb.append(" UFFD_WP");
            }
            return sb.toString();
        }
        boolean leaf = level == 3 || (d & TABLE_BIT) == 0;
        if (!leaf) {
            return "table pa=0x" + Long.toHexString(pa(d)) + ((d & TABLE_PXN) != 0 ? " PXNTable" : "");
        }
        sb.append(level == 3 ? "page" : "block").append(" pa=0x").append(Long.toHexString(pa(d)));
        sb.append((d & VALID) != 0 ? " VALID" : " PRESENT_INVALID");
        if ((d & USER) != 0) {
            sb.append(" USER");
        }
        if ((d & RDONLY) != 0) {
            sb.append(" RDONLY");
        }
        if ((d & AF) != 0) {
            sb.append(" AF");
        }
        if ((d & VALID) != 0 && (d & NG) != 0) {
            sb.append(" nG");
        }
        if ((d & DBM) != 0) {
            sb.append(" DBM(WRITE)");
        }
        if ((d & PXN) != 0) {
            sb.append(" PXN");
        }
        if ((d & UXN) != 0) {
            sb.append(" UXN");
        }
        if ((d & DIRTY) != 0) {
            sb.append(" DIRTY");
        }
        if ((d & SPECIAL) != 0) {
            sb.append(" SPECIAL");
        }
        if ((d & UFFD_WP) != 0) {
            sb.append(" UFFD_WP");
        }
        if ((d & SOFT_DIRTY) != 0) {
            sb.append(" SOFT_DIRTY");
        }
        sb.append(isHwDirty(d) ? " => writable, hw-dirty" : isWrite(d) ? " => writable-clean"
                : isDirty(d) ? " => read-only, dirty" : " => read-only");
        return sb.toString();
    }
}
