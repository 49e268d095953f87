package dev.pagehop.mm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Descriptor and swap encodings against values worked out by hand from spec §A.2/§A.3. */
class PteTest {

    @Test
    void protectionsOfPgtableProtH() {
        // PAGE_READONLY: TYPE_PAGE(0x3) USER(0x40) RDONLY(0x80) SH(0x300) AF(0x400) nG(0x800) PXN(b53) UXN(b54)
        assertThat(Pte.PAGE_READONLY).isEqualTo(0x0060_0000_0000_0FC3L);
        // PAGE_SHARED: the same plus DBM/WRITE (b51): writable but clean, RDONLY still set
        assertThat(Pte.PAGE_SHARED).isEqualTo(0x0068_0000_0000_0FC3L);
        // PAGE_READONLY_EXEC: no UXN
        assertThat(Pte.PAGE_READONLY_EXEC).isEqualTo(0x0020_0000_0000_0FC3L);
        // PAGE_NONE: VALID clear, TABLE bit kept, PRESENT_INVALID(b11) RDONLY, no USER, PXN UXN
        assertThat(Pte.PAGE_NONE).isEqualTo(0x0060_0000_0000_0F82L);
        assertThat(Pte.isPresent(Pte.PAGE_NONE)).isTrue();
        assertThat(Pte.isValid(Pte.PAGE_NONE)).isFalse();
        assertThat(Pte.isProtNone(Pte.PAGE_NONE)).isTrue();
        assertThat(Pte.isProtNone(Pte.PAGE_READONLY)).isFalse();
    }

    @Test
    void dirtyAndWriteEncodingTableOfPgtableH() {
        long pa = 0x4000_5000L;
        long clean = Pte.PAGE_READONLY | pa;
        // dirty 0 writable 0: RDONLY 1, WRITE 0, DIRTY 0
        assertThat(Pte.isWrite(clean) || Pte.isDirty(clean)).isFalse();
        // dirty 0 writable 1: RDONLY 1, WRITE 1, DIRTY 0 (a writable-clean page, e.g. shared memory)
        long writableClean = clean | Pte.WRITE;
        assertThat(writableClean).isEqualTo(0x0068_0000_4000_5FC3L);
        assertThat(Pte.isWrite(writableClean)).isTrue();
        assertThat(Pte.isDirty(writableClean)).isFalse();
        // dirty 1 writable 1: RDONLY 0, WRITE 1 (mkwrite(mkdirty)) = the pte of a freshly written anon page
        long written = Pte.mkwrite(Pte.mkdirty(clean, false));
        assertThat(written).isEqualTo(0x00E8_0000_4000_5F43L);
        assertThat(Pte.isHwDirty(written)).isTrue();
        // wrprotect keeps dirtiness in DIRTY(b55), clears DBM and sets RDONLY: dirty 1 writable 0
        long wp = Pte.wrprotect(written);
        assertThat(wp).isEqualTo(0x00E0_0000_4000_5FC3L);
        assertThat(Pte.isDirty(wp)).isTrue();
        assertThat(Pte.isWrite(wp)).isFalse();
        // hardware dirty only (DIRTY clear, RDONLY clear, DBM set) is carried into DIRTY by wrprotect
        long hwOnly = writableClean & ~Pte.RDONLY;
        assertThat(Pte.wrprotect(hwOnly) & Pte.DIRTY).isNotZero();
        // mkclean: DIRTY off, RDONLY on
        assertThat(Pte.mkclean(written)).isEqualTo(0x0068_0000_4000_5FC3L);
    }

    @Test
    void uffdWpAndSoftDirtyBits() {
        long written = 0x00E8_0000_4000_5F43L;
        long armed = Pte.mkuffdWp(written);
        // bit 58 set, write-protected (DBM cleared, RDONLY set), dirtiness kept
        assertThat(armed).isEqualTo(0x04E0_0000_4000_5FC3L);
        assertThat(Pte.isUffdWp(armed)).isTrue();
        // pte_clear_uffd_wp clears only bit 58: still not writable
        assertThat(Pte.clearUffdWp(armed)).isEqualTo(0x00E0_0000_4000_5FC3L);
        // the RFC's soft-dirty is bit 63, set by pte_mkdirty only when compiled in
        assertThat(Pte.mkdirty(Pte.PAGE_READONLY, true) & Pte.SOFT_DIRTY).isEqualTo(1L << 63);
        assertThat(Pte.mkdirty(Pte.PAGE_READONLY, false) & Pte.SOFT_DIRTY).isZero();
        assertThat(Pte.SWBITS_MASK).isEqualTo(0x8780_0000_0000_0000L);
    }

    @Test
    void pteModifyKeepsDirtinessAndAddress() {
        long written = 0x00E8_0000_4000_5F43L;
        long none = Pte.modify(written, Pte.PAGE_NONE, false);
        assertThat(none).isEqualTo(0x00E0_0000_4000_5F82L);
        assertThat(Pte.isProtNone(none)).isTrue();
        assertThat(Pte.pa(none)).isEqualTo(0x4000_5000L);
        long back = Pte.modify(none, Pte.PAGE_READONLY, false);
        // valid again; DIRTY kept; not writable (the fault path upgrades it)
        assertThat(back).isEqualTo(0x00E0_0000_4000_5FC3L);
    }

    @Test
    void swapEntriesOfTheCurrentLayout() {
        // type 3 offset 0x1234, exclusive (b2) and uffd-wp (b3): 0x1234 << 12 | 3 << 6 | 0x4 | 0x8
        long e = Pte.swapEntry(3, 0x1234) | Pte.SWP_EXCLUSIVE | Pte.SWP_UFFD_WP;
        assertThat(e).isEqualTo(0x0123_40CCL);
        assertThat(Pte.isSwap(e)).isTrue();
        assertThat(Pte.isPresent(e)).isFalse();
        assertThat(Pte.swapType(e)).isEqualTo(3);
        assertThat(Pte.swapOffset(e, false)).isEqualTo(0x1234);
        assertThat(Pte.isSwpUffdWpAny(e)).isTrue();
        assertThat(Pte.isMarker(e)).isFalse();
        // the widest offset: 50 bits at 12..61, or 49 with the RFC swap soft-dirty at bit 61
        long max = Pte.swapEntry(31, (1L << 50) - 1);
        assertThat(Pte.swapOffset(max, false)).isEqualTo((1L << 50) - 1);
        assertThat(Pte.swapOffset(max, true)).isEqualTo((1L << 49) - 1);
        assertThat(max & Pte.PRESENT_INVALID).as("bit 11 must stay clear").isZero();
    }

    @Test
    void uffdWpMarkerIsASwapEntryOfTheLastType() {
        // SWP_PTE_MARKER = 31 (5-bit type field), offset = PTE_MARKER_UFFD_WP = 1
        assertThat(Pte.UFFD_WP_MARKER).isEqualTo(0x17C0L);
        assertThat(Pte.isMarker(Pte.UFFD_WP_MARKER)).isTrue();
        assertThat(Pte.isUffdWpMarker(Pte.UFFD_WP_MARKER)).isTrue();
        assertThat(Pte.isSwpUffdWpAny(Pte.UFFD_WP_MARKER)).isTrue();
        assertThat(Pte.isUffdWp(Pte.UFFD_WP_MARKER)).as("bit 58 is not how a marker carries uffd-wp").isFalse();
        long guard = Pte.swapEntry(Pte.SWP_PTE_MARKER, Pte.MARKER_GUARD);
        assertThat(guard).isEqualTo(0x47C0L);
        assertThat(Pte.isUffdWpMarker(guard)).isFalse();
    }

    @Test
    void describeDecodesForHumans() {
        assertThat(Pte.describe(0x00E8_0000_4000_5F43L, 3, 12)).contains("page pa=0x40005000").contains("DBM(WRITE)")
                .contains("hw-dirty");
        assertThat(Pte.describe(0x0800_0000_4000_2003L, 1, 12)).isEqualTo("table pa=0x40002000 PXNTable");
        assertThat(Pte.describe(Pte.UFFD_WP_MARKER, 3, 12)).isEqualTo("marker[UFFD_WP]");
        assertThat(Pte.describe(0, 3, 12)).isEqualTo("none");
    }
}
