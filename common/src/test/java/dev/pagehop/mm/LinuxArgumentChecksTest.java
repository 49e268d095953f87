package dev.pagehop.mm;

import static dev.pagehop.mm.AddressSpaceTest.assertErrno;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Argument handling of mmap, mprotect and mremap where Linux (mm/mmap.c do_mmap,
 * mm/mprotect.c do_mprotect_pkey, mm/mremap.c check_mremap_params / remap_is_valid /
 * mremap_to) accepts what a stricter reading would refuse, or refuses what a looser one would
 * accept.
 */
class LinuxArgumentChecksTest {
    private static final int RW = Prot.READ | Prot.WRITE;
    private static final int ANON = MapFlags.PRIVATE | MapFlags.ANONYMOUS;
    private static final long BASE = 0x10_0000_0000L;

    @ParameterizedTest
    @EnumSource(Granule.class)
    void mremapFixedThatShrinksLeavesNoPageOfTheTailBehind(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            // A read-only neighbour in the same page table keeps that table alive after the move.
            mm.mmap(BASE, 8 * p, RW, ANON | MapFlags.FIXED);
            mm.mprotect(BASE + 6 * p, 2 * p, Prot.READ);
            for (int i = 0; i < 4; i++) {
                mm.store64(BASE + i * p, 100 + i);
            }
            long to = BASE + 64 * p;
            assertThat(mm.mremap(BASE, 4 * p, 2 * p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, to)).isEqualTo(to);
            assertThat(mm.load64(to)).isEqualTo(100);
            assertThat(mm.load64(to + p)).isEqualTo(101);
            assertThatThrownBy(() -> mm.load64(to + 2 * p)).isInstanceOf(SegmentationFault.class);
            for (int i = 0; i < 4; i++) {
                assertThat(mm.rawPte(BASE + i * p)).as("old page %d", i).isZero();
                assertThat(mm.pagemapEntry(BASE + i * p)).isZero();
            }
            // A new mapping where the tail was must start out zeroed, not with the old tail's pages.
            mm.mmap(BASE, 4 * p, RW, ANON | MapFlags.FIXED);
            assertThat(mm.load64(BASE + 2 * p)).isZero();
            assertThat(mm.load64(BASE + 3 * p)).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void mremapShrinkMayCrossVmasButWhatStaysMustBeOneVma(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            mm.mmap(BASE, 4 * p, RW, ANON | MapFlags.FIXED);
            mm.mprotect(BASE + 2 * p, 2 * p, Prot.READ);
            mm.store64(BASE, 7);
            // same size, no move: a no-op that checks nothing beyond the first VMA
            assertThat(mm.mremap(BASE, 4 * p, 4 * p, 0, 0)).isEqualTo(BASE);
            // growing (or moving) a range that spans two VMAs is refused
            assertErrno(() -> mm.mremap(BASE, 4 * p, 5 * p, MapFlags.MREMAP_MAYMOVE, 0), Errno.EFAULT);
            assertErrno(() -> mm.mremap(BASE, 3 * p, 3 * p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED,
                    BASE + 32 * p), Errno.EFAULT);
            // shrinking unmaps across the boundary
            assertThat(mm.mremap(BASE, 4 * p, p, 0, 0)).isEqualTo(BASE);
            assertThat(mm.vmas()).extracting(VmaInfo::start, VmaInfo::end).containsExactly(
                    org.assertj.core.groups.Tuple.tuple(BASE, BASE + p));
            assertThat(mm.load64(BASE)).isEqualTo(7);
            // and a shrinking move may cross it too
            mm.mmap(BASE + p, 3 * p, Prot.READ, ANON | MapFlags.FIXED);
            long to = BASE + 32 * p;
            assertThat(mm.mremap(BASE, 4 * p, p, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, to)).isEqualTo(to);
            assertThat(mm.load64(to)).isEqualTo(7);
            assertThat(mm.vmas()).extracting(VmaInfo::start).containsExactly(to);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void fixedNoreplaceWinsOverFixed(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            mm.mmap(BASE, 2 * p, RW, ANON | MapFlags.FIXED);
            mm.store64(BASE + p, 5);
            assertErrno(() -> mm.mmap(BASE + p, 2 * p, RW, ANON | MapFlags.FIXED | MapFlags.FIXED_NOREPLACE), Errno.EEXIST);
            assertThat(mm.load64(BASE + p)).isEqualTo(5);
            assertThat(mm.mmap(BASE + 2 * p, p, RW, ANON | MapFlags.FIXED | MapFlags.FIXED_NOREPLACE)).isEqualTo(BASE + 2 * p);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void aHintIsRoundedDownAndRaisedToMmapMinAddr(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            assertThat(mm.mmap(BASE + 5 * p + 123, p, RW, ANON)).isEqualTo(BASE + 5 * p);
            // below vm.mmap_min_addr (but not below one page): placed at mmap_min_addr itself
            long low = Math.max(p, AddressSpace.MMAP_MIN_ADDR / 2);
            assertThat(mm.mmap(low, p, RW, ANON)).isEqualTo(AddressSpace.MMAP_MIN_ADDR);
            // an occupied hint falls back to the top-down search
            long elsewhere = mm.mmap(BASE + 5 * p, p, RW, ANON);
            assertThat(elsewhere).isNotEqualTo(BASE + 5 * p);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void sharedAnonymousMemoryIgnoresTheOffsetAndRefusesSharedValidate(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long s = mm.mmap(0, 2 * p, RW, MapFlags.SHARED | MapFlags.ANONYMOUS, null, 16 * p);
            mm.store64(s + p, 9);
            assertThat(mm.load64(s + p)).isEqualTo(9);
            assertThat(mm.vmas().stream().filter(v -> v.start() == s).findFirst().orElseThrow().fileOffset()).isZero();
            assertErrno(() -> mm.mmap(0, p, RW, MapFlags.SHARED_VALIDATE | MapFlags.ANONYMOUS), Errno.EINVAL);
            Memfd fd = mm.memfdCreate("validated", p);
            long m = mm.mmap(0, p, RW, MapFlags.SHARED_VALIDATE, fd, 0);
            mm.store8(m, 1);
            assertThat(mm.load8(m)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void mmapIgnoresProtBitsItDoesNotKnowAndMprotectChecksThemAsArm64Does(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 2 * p, Prot.READ | 0x40, ANON);
            assertThat(mm.vmas().getFirst().prot()).isEqualTo(Prot.READ);
            assertThatThrownBy(() -> mm.store8(a, 1)).isInstanceOf(SegmentationFault.class);
            mm.mprotect(a, p, RW | Prot.SEM);
            mm.store8(a, 1);
            assertThat(mm.vmas().getFirst().prot()).isEqualTo(RW);
            // PROT_BTI (0x10): this CPU has no BTI
            assertErrno(() -> mm.mprotect(a, p, Prot.READ | 0x10), Errno.EINVAL);
            // an empty range succeeds before the prot bits are looked at
            mm.mprotect(a, 0, 0x10);
            assertErrno(() -> mm.mprotect(a, p, Prot.READ | Prot.GROWSUP), Errno.EINVAL);
            assertErrno(() -> mm.mprotect(a, p, Prot.READ | Prot.GROWSDOWN), Errno.EINVAL);
            assertErrno(() -> mm.mprotect(a, p, Prot.READ | Prot.GROWSDOWN | Prot.GROWSUP), Errno.EINVAL);
            assertThat(mm.vmas().getFirst().prot()).as("refused calls change nothing").isEqualTo(RW);
            long stack = mm.mmap(BASE, 4 * p, RW, ANON | MapFlags.FIXED | MapFlags.GROWSDOWN);
            mm.mprotect(stack + 2 * p, p, Prot.READ | Prot.GROWSDOWN);
            assertThat(mm.vmas().stream().filter(v -> v.start() >= BASE && v.start() < BASE + 4 * p).map(VmaInfo::prot).toList())
                    .as("PROT_GROWSDOWN reaches down to the stack's start").containsExactly(Prot.READ, RW);
        }
    }
    @ParameterizedTest
    @EnumSource(Granule.class)
    void madviseRemoveWantsAnUnlockedSharedMappingThatMayBeWritten(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            Memfd fd = mm.memfdCreate("punch", 2 * p);
            long rw = mm.mmap(0, 2 * p, RW, MapFlags.SHARED, fd, 0);
            mm.store64(rw, 11);
            mm.store64(rw + p, 12);
            long privRead = mm.mmap(0, p, Prot.READ, MapFlags.PRIVATE, fd, 0);
            assertThat(mm.load64(privRead)).isEqualTo(11);
            long privCow = mm.mmap(0, p, RW, MapFlags.PRIVATE, fd, 0);
            mm.store64(privCow + 8, 5);
            // read-only now, but VM_MAYWRITE: Linux 6.7+ lets it punch the hole
            long ro = mm.mmap(0, p, Prot.READ, MapFlags.SHARED, fd, 0);
            mm.madvise(ro, p, Madvise.REMOVE);
            // every mapping of the punched page lets go of it (unmap_mapping_range), not only ro
            assertThat(mm.load64(rw)).isZero();
            assertThat(mm.load64(privRead)).isZero();
            assertThat(mm.load64(privCow)).as("a private copy is the mapping's own").isEqualTo(11);
            assertThat(mm.load64(rw + p)).isEqualTo(12);
            long priv = mm.mmap(0, p, RW, MapFlags.PRIVATE, fd, p);
            assertErrno(() -> mm.madvise(priv, p, Madvise.REMOVE), Errno.EACCES);
            long anon = mm.mmap(0, p, RW, ANON);
            assertErrno(() -> mm.madvise(anon, p, Madvise.REMOVE), Errno.EINVAL);
            long locked = mm.mmap(0, p, RW, MapFlags.SHARED | MapFlags.LOCKED, fd, p);
            assertErrno(() -> mm.madvise(locked, p, Madvise.REMOVE), Errno.EINVAL);
            assertThat(mm.load64(rw + p)).as("refused calls punch nothing").isEqualTo(12);
        }
    }
    @ParameterizedTest
    @EnumSource(Granule.class)
    void fixedAddressChecksComeInGetUnmappedAreasOrder(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long top = 1L << Granule.VA_BITS;
            assertErrno(() -> mm.mmap(top - p + 1, 2 * p, RW, ANON | MapFlags.FIXED), Errno.ENOMEM);
            assertErrno(() -> mm.mmap(BASE + 1, p, RW, ANON | MapFlags.FIXED), Errno.EINVAL);
            assertErrno(() -> mm.mmap(0, p, RW, ANON | MapFlags.FIXED), Errno.EPERM);
            assertThat(mm.vmas()).isEmpty();
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void brkDoesNotShrinkAHeapThatIsNoLongerMapped(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long start = mm.brkStart();
            assertThat(mm.brk(start + 4 * p)).isEqualTo(start + 4 * p);
            mm.munmap(start, 4 * p);
            assertThat(mm.brk(start + p)).as("refused: the old break stays").isEqualTo(start + 4 * p);
            assertThat(mm.brk(start + 8 * p)).isEqualTo(start + 8 * p);
            mm.store64(start + 7 * p, 1);
            assertThat(mm.brk(start + 2 * p)).isEqualTo(start + 2 * p);
            assertThat(mm.vmas()).isEmpty();
        }
    }
    @ParameterizedTest
    @EnumSource(Granule.class)
    void dontunmapWithoutFixedTakesTheNewAddressAsAHint(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            mm.mmap(BASE, 2 * p, RW, ANON | MapFlags.FIXED);
            mm.store64(BASE + p, 42);
            int flags = MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_DONTUNMAP;
            assertErrno(() -> mm.mremap(BASE, 2 * p, 2 * p, flags, BASE + 16 * p + 1), Errno.EINVAL);
            assertErrno(() -> mm.mremap(BASE, 2 * p, 2 * p, flags, BASE + p), Errno.EINVAL);
            assertThat(mm.mremap(BASE, 2 * p, 2 * p, flags, BASE + 16 * p)).isEqualTo(BASE + 16 * p);
            assertThat(mm.load64(BASE + 17 * p)).isEqualTo(42);
            assertThat(mm.load64(BASE + p)).as("left mapped and empty").isZero();
        }
    }
}
