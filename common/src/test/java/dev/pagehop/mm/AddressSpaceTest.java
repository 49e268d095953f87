package dev.pagehop.mm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AddressSpaceTest {

    private static final int RW = Prot.READ | Prot.WRITE;
    private static final int ANON = MapFlags.PRIVATE | MapFlags.ANONYMOUS;

    /**
     * A hole punched in a memfd (MADV_REMOVE) through the parent's mapping reaches a forked
     * child's mappings too, as unmap_mapping_range walks every mapping of the file: the child's
     * shared mapping and its private one that never copied the page read zeros after it; a
     * private page the child had copied on write keeps its copy.
     */
    @ParameterizedTest
    @EnumSource(Granule.class)
    void aHolePunchedInAMemfdReachesAForkedChildsMappings(Granule g) {
        try (MemoryManager parent = MemoryManager.create(MmConfig.arm64(g))) {
            long p = parent.pageSize();
            Memfd fd = parent.memfdCreate("shared", 2 * p);
            long shared = parent.mmap(0, 2 * p, RW, MapFlags.SHARED, fd, 0);
            long priv = parent.mmap(0, 2 * p, RW, MapFlags.PRIVATE, fd, 0);
            parent.store8(shared, 7);
            parent.store8(shared + p, 8);
            try (MemoryManager child = parent.fork()) {
                assertThat(child.load8(shared)).isEqualTo(7);
                assertThat(child.load8(priv)).as("the private mapping reads the file").isEqualTo(7);
                child.store8(priv + p, 9);

                parent.madvise(shared, 2 * p, Madvise.REMOVE);

                assertThat(child.load8(shared)).as("child's shared mapping after the punch").isZero();
                assertThat(child.load8(shared + p)).isZero();
                assertThat(child.load8(priv)).as("child's private mapping, page never copied").isZero();
                assertThat(child.load8(priv + p)).as("child's own copy on write survives").isEqualTo(9);
                child.store8(shared, 5);
                assertThat(parent.load8(shared)).as("the file's new page is shared again").isEqualTo(5);
            }
        }
    }

    /**
     * mprotect over a range with a hole fails ENOMEM, as in Linux, but the VMAs before the hole
     * keep the new protection (do_mprotect_pkey changes VMA by VMA and stops at the hole); an
     * unmapped start changes nothing.
     */
    @ParameterizedTest
    @EnumSource(Granule.class)
    void mprotectOverAHoleChangesTheMappedPartBeforeIt(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 5 * p, RW, ANON);
            mm.munmap(a + 2 * p, p);
            mm.write(a, new byte[] {1});
            mm.write(a + 3 * p, new byte[] {2});

            ErrnoException e = catchErrno(() -> mm.mprotect(a, 5 * p, Prot.READ));

            assertThat(e.errno()).isEqualTo(Errno.ENOMEM);
            assertThat(e.getMessage()).contains("is not mapped (the mapped part before it was changed)");
            assertThat(mm.vmas()).extracting(VmaInfo::start, VmaInfo::end, VmaInfo::prot).containsExactly(
                    org.assertj.core.groups.Tuple.tuple(a, a + 2 * p, Prot.READ),
                    org.assertj.core.groups.Tuple.tuple(a + 3 * p, a + 5 * p, RW));
            assertThatThrownBy(() -> mm.write(a + p, new byte[] {3})).isInstanceOf(SegmentationFault.class);
            mm.write(a + 4 * p, new byte[] {4});

            assertErrno(() -> mm.mprotect(a + 2 * p, 3 * p, Prot.NONE), Errno.ENOMEM);
            assertThat(mm.vmas()).extracting(VmaInfo::prot).containsExactly(Prot.READ, RW);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void writeFromADirectBufferCrossesPagesAndLeavesTheBufferAsItWas(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 4 * p, RW, ANON);
            java.nio.ByteBuffer src = java.nio.ByteBuffer.allocateDirect((int) (2 * p + 7));
            for (int i = 0; i < src.capacity(); i++) {
                src.put(i, (byte) (i * 31 + 1));
            }
            src.position(3);
            mm.write(a + p - 11, src);
            assertThat(src.position()).isEqualTo(3);
            byte[] back = new byte[src.remaining()];
            mm.read(a + p - 11, back);
            for (int i = 0; i < back.length; i++) {
                assertThat(back[i]).as("byte %d", i).isEqualTo((byte) ((i + 3) * 31 + 1));
            }
            assertThat(mm.load8(a + p - 12)).isZero();
            assertThat(mm.load8(a + p - 11 + back.length)).isZero();
            assertThatThrownBy(() -> mm.write(a + 4 * p - 2, java.nio.ByteBuffer.allocate(4)))
                    .isInstanceOf(SegmentationFault.class);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void storesAndLoadsRoundTripAtEverySize(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 4 * p, RW, ANON);
            assertThat(a % p).isZero();
            mm.store8(a, 0x1ff);
            mm.store16(a + 2, 0xbeef);
            mm.store32(a + 4, 0xcafebabeL);
            mm.store64(a + 8, 0x0123456789abcdefL);
            assertThat(mm.load8(a)).isEqualTo(0xff);
            assertThat(mm.load16(a + 2)).isEqualTo(0xbeef);
            assertThat(mm.load32(a + 4)).isEqualTo(0xcafebabe);
            assertThat(mm.load64(a + 8)).isEqualTo(0x0123456789abcdefL);
            // unaligned and crossing a page boundary
            mm.store64(a + p - 3, 0x1122334455667788L);
            assertThat(mm.load64(a + p - 3)).isEqualTo(0x1122334455667788L);
            assertThat(mm.load8(a + p)).isEqualTo(0x55);
            byte[] buf = new byte[(int) p + 10];
            for (int i = 0; i < buf.length; i++) {
                buf[i] = (byte) i;
            }
            mm.write(a + 2 * p - 5, buf);
            byte[] back = new byte[buf.length];
            mm.read(a + 2 * p - 5, back);
            assertThat(back).isEqualTo(buf);
            byte[] peeked = new byte[buf.length];
            mm.peek(a + 2 * p - 5, peeked, 0, peeked.length);
            assertThat(peeked).isEqualTo(buf);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void readFaultMapsTheZeroPageAndWriteAllocates(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long a = mm.mmap(0, mm.pageSize(), RW, ANON);
            assertThat(mm.rawPte(a)).isZero();
            assertThat(mm.pagemapEntry(a)).isZero();
            assertThat(mm.load64(a)).isZero();
            long zero = mm.rawPte(a);
            // PAGE_READONLY | SPECIAL over the zero page: VALID|PAGE|SH|AF|USER|RDONLY|nG|PXN|UXN|SPECIAL
            assertThat(zero & ~Pte.OA_MASK_48).isEqualTo(0x0160_0000_0000_0FC3L);
            long zeroPm = mm.pagemapEntry(a);
            assertThat(zeroPm & Pagemap.PM_PRESENT).isNotZero();
            assertThat(zeroPm & (Pagemap.PM_MMAP_EXCLUSIVE | Pagemap.PM_FILE)).isZero();
            mm.store64(a, 42);
            long d = mm.rawPte(a);
            // PAGE_READONLY + mkwrite(mkdirty): RDONLY cleared, DBM and DIRTY set
            assertThat(d & ~Pte.OA_MASK_48).isEqualTo(0x00E8_0000_0000_0F43L);
            assertThat(Pte.pa(d)).isNotEqualTo(Pte.pa(zero));
            long pm = mm.pagemapEntry(a);
            assertThat(pm & Pagemap.PM_PFRAME_MASK).isEqualTo(Pte.pa(d) >>> g.pageShift());
            assertThat(pm & (Pagemap.PM_PRESENT | Pagemap.PM_MMAP_EXCLUSIVE))
                    .isEqualTo(Pagemap.PM_PRESENT | Pagemap.PM_MMAP_EXCLUSIVE);
            assertThat(pm & Pagemap.PM_SOFT_DIRTY).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void accessesOutsideMappingsOrPermissionsRaiseSegv(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 2 * p, RW, ANON);
            mm.store64(a, 7);
            mm.munmap(a + p, p);
            assertThatThrownBy(() -> mm.store64(a + p, 1)).isInstanceOfSatisfying(SegmentationFault.class,
                    f -> {
                        assertThat(f.code()).isEqualTo(SegmentationFault.SEGV_MAPERR);
                        assertThat(f.address()).isEqualTo(a + p);
                        assertThat(f.isWrite()).isTrue();
                    });
            mm.mprotect(a, p, Prot.READ);
            assertThat(mm.load64(a)).isEqualTo(7);
            assertThatThrownBy(() -> mm.store64(a, 1)).isInstanceOfSatisfying(SegmentationFault.class,
                    f -> assertThat(f.code()).isEqualTo(SegmentationFault.SEGV_ACCERR));
            mm.mprotect(a, p, Prot.NONE);
            long none = mm.rawPte(a);
            assertThat(Pte.isValid(none)).isFalse();
            assertThat(Pte.isPresent(none)).isTrue();
            assertThat(Pte.isProtNone(none)).isTrue();
            assertThatThrownBy(() -> mm.load64(a)).isInstanceOf(SegmentationFault.class);
            mm.mprotect(a, p, RW);
            mm.store64(a, 9);
            assertThat(mm.load64(a)).isEqualTo(9);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void dontneedZeroesPrivateAnonymousMemory(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 3 * p, RW, ANON);
            for (int i = 0; i < 3; i++) {
                mm.store64(a + i * p, i + 1);
            }
            mm.madvise(a + p, p, Madvise.DONTNEED);
            assertThat(mm.rawPte(a + p)).isZero();
            assertThat(mm.load64(a)).isEqualTo(1);
            assertThat(mm.load64(a + p)).isZero();
            assertThat(mm.load64(a + 2 * p)).isEqualTo(3);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void vmasSplitAndMergeLikeLinux(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long a = mm.mmap(0, 4 * p, RW, ANON);
            assertThat(mm.vmas()).hasSize(1);
            mm.mprotect(a + p, p, Prot.READ);
            assertThat(mm.vmas()).extracting(VmaInfo::start).containsExactly(a, a + p, a + 2 * p);
            mm.mprotect(a + p, p, RW);
            assertThat(mm.vmas()).hasSize(1);
            assertThat(mm.vmas().getFirst().vmFlags() & (VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_MAYWRITE))
                    .isEqualTo(VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_MAYWRITE);
            mm.munmap(a + p, p);
            assertThat(mm.vmas()).hasSize(2);
            long b = mm.mmap(a + p, p, RW, ANON | MapFlags.FIXED);
            assertThat(b).isEqualTo(a + p);
            assertThat(mm.vmas()).hasSize(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void badArgumentsFailWithLinuxErrnos(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            assertErrno(() -> mm.mmap(0, 0, RW, ANON), Errno.EINVAL);
            assertErrno(() -> mm.mmap(0, p, RW, MapFlags.ANONYMOUS), Errno.EINVAL);
            assertErrno(() -> mm.mmap(0, p, RW, MapFlags.PRIVATE), Errno.EBADF);
            assertErrno(() -> mm.mmap(0x100001, p, RW, ANON | MapFlags.FIXED), Errno.EINVAL);
            assertErrno(() -> mm.mmap(0x1000L * p, p, RW, ANON | MapFlags.FIXED | MapFlags.HUGETLB), Errno.ENOMEM);
            long a = mm.mmap(0, p, RW, ANON);
            assertErrno(() -> mm.mmap(a, p, RW, ANON | MapFlags.FIXED_NOREPLACE), Errno.EEXIST);
            assertErrno(() -> mm.munmap(a + 1, p), Errno.EINVAL);
            assertErrno(() -> mm.munmap(a, 0), Errno.EINVAL);
            assertErrno(() -> mm.mprotect(a + 1, p, Prot.READ), Errno.EINVAL);
            assertErrno(() -> mm.mprotect(a + p, p, Prot.READ), Errno.ENOMEM);
            assertErrno(() -> mm.madvise(a, p, 77), Errno.EINVAL);
            assertErrno(() -> mm.madvise(a + p, p, Madvise.DONTNEED), Errno.ENOMEM);
            assertErrno(() -> mm.clearRefs(6), Errno.EINVAL);
            assertThat(mm.vmas()).hasSize(1);
            ErrnoException e = catchErrno(() -> mm.munmap(a + 1, p));
            assertThat(e.getMessage()).contains("munmap").contains(Long.toHexString(a + 1)).contains("EINVAL");
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void brkGrowsAndShrinksTheHeap(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            long start = mm.brkStart();
            assertThat(mm.brk(0)).isEqualTo(start);
            assertThat(mm.brk(start + 3 * p + 5)).isEqualTo(start + 3 * p + 5);
            mm.store64(start + 3 * p, 5);
            assertThat(mm.load64(start + 3 * p)).isEqualTo(5);
            assertThat(mm.brk(start + p)).isEqualTo(start + p);
            assertThatThrownBy(() -> mm.load64(start + 3 * p)).isInstanceOf(SegmentationFault.class);
            mm.setBrk(start + 64 * p, start + 64 * p);
            assertThat(mm.brkStart()).isEqualTo(start + 64 * p);
            assertErrno(() -> mm.setBrk(start + 1, start + 1), Errno.EINVAL);
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void sharedAnonymousAndMemfdMappingsSharePages(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            Memfd fd = mm.memfdCreate("guest", 4 * p);
            long a = mm.mmap(0, 4 * p, RW, MapFlags.SHARED, fd, 0);
            long b = mm.mmap(0, 2 * p, RW, MapFlags.SHARED, fd, 2 * p);
            mm.store64(a + 2 * p + 8, 99);
            assertThat(mm.load64(b + 8)).isEqualTo(99);
            assertThat(mm.pagemapEntry(a + 2 * p) & Pagemap.PM_FILE).isNotZero();
            assertThat(mm.pagemapEntry(a + 2 * p) & Pagemap.PM_MMAP_EXCLUSIVE).isZero();
            mm.madvise(a + 2 * p, p, Madvise.DONTNEED);
            assertThat(mm.load64(b + 8)).isEqualTo(99);
            assertThat(mm.load64(a + 2 * p + 8)).isEqualTo(99);
            long s = mm.mmap(0, p, RW, MapFlags.SHARED | MapFlags.ANONYMOUS);
            mm.store32(s, 3);
            assertThat(mm.load32(s)).isEqualTo(3);
            assertThatThrownBy(() -> {
                long far = mm.mmap(0, 8 * p, RW, MapFlags.SHARED, fd, 0);
                mm.load8(far + 5 * p);
            }).isInstanceOfSatisfying(SegmentationFault.class,
                    f -> assertThat(f.signal()).isEqualTo(SegmentationFault.SIGBUS));
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void concurrentStoresFromManyThreadsAllLand(Granule g) throws Exception {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g))) {
            long p = mm.pageSize();
            int threads = 4;
            // One page past the writers' pages is re-protected while they store: the VMA splits and
            // merges under them, but no writer touches the read-only page (that would be a real SIGSEGV).
            long spare = threads * 8L * p;
            long a = mm.mmap(0, spare + p, RW, ANON);
            CyclicBarrier start = new CyclicBarrier(threads + 1);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    try {
                        start.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    for (int round = 0; round < 50; round++) {
                        for (int k = 0; k < 8; k++) {
                            mm.store64(a + (id * 8L + k) * p + 8L * (round % 16), round * 1000L + id);
                        }
                    }
                });
                th.start();
                ts.add(th);
            }
            start.await();
            for (int round = 0; round < 20; round++) {
                mm.mprotect(a, spare + p, RW);
                mm.mprotect(a + spare, p, Prot.READ);
                mm.mprotect(a + spare, p, RW);
            }
            for (Thread th : ts) {
                th.join();
            }
            for (int t = 0; t < threads; t++) {
                for (int k = 0; k < 8; k++) {
                    assertThat(mm.load64(a + (t * 8L + k) * p + 8L * (49 % 16))).isEqualTo(49 * 1000L + t);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void pokeWritesLikeTheKernelWithFollForce(Granule g) {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(g).withSoftDirty(true))) {
            long p = mm.pageSize();
            long ro = mm.mmap(0, 2 * p, Prot.READ | Prot.EXEC, ANON);
            mm.poke(ro + p - 2, new byte[] {1, 2, 3, 4}, 0, 4);
            assertThat(mm.load32(ro + p - 2)).isEqualTo(0x04030201);
            assertThat(Pte.isWrite(mm.rawPte(ro))).as("stays read-only").isFalse();
            assertThat(Pte.isDirty(mm.rawPte(ro))).as("kernel writes dirty the page").isTrue();
            assertThat(mm.pagemapEntry(ro) & Pagemap.PM_SOFT_DIRTY).isNotZero();
            assertThatThrownBy(() -> mm.store8(ro, 1)).isInstanceOf(SegmentationFault.class);
            long none = mm.mmap(0, p, Prot.NONE, ANON);
            assertErrno(() -> mm.poke(none, new byte[1], 0, 1), Errno.EFAULT);
            Memfd fd = mm.memfdCreate("ro", p);
            long shared = mm.mmap(0, p, Prot.READ, MapFlags.SHARED, fd, 0);
            assertErrno(() -> mm.poke(shared, new byte[1], 0, 1), Errno.EFAULT);
            assertErrno(() -> mm.poke(none + p * 1000, new byte[1], 0, 1), Errno.EFAULT);
            // copy-on-write is broken for the poker only
            long rw = mm.mmap(0, p, RW, ANON);
            mm.store64(rw, 7);
            try (MemoryManager child = mm.fork()) {
                child.poke(rw, new byte[] {9}, 0, 1);
                assertThat(child.load8(rw)).isEqualTo(9);
                assertThat(mm.load8(rw)).isEqualTo(7);
            }
        }
    }

    @org.junit.jupiter.api.Test
    void mapCountIsBoundedByMaxMapCount() {
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4))) {
            long p = mm.pageSize();
            for (int i = 0; i < AddressSpace.MAX_MAP_COUNT; i++) {
                mm.mmap(0, p, (i & 1) == 0 ? RW : Prot.READ, ANON);
            }
            assertThat(mm.vmas()).hasSize(AddressSpace.MAX_MAP_COUNT);
            ErrnoException e = catchErrno(() -> mm.mmap(0, p, RW, ANON));
            assertThat(e.errno()).isEqualTo(Errno.ENOMEM);
            assertThat(e.getMessage()).contains("max_map_count");
            mm.munmap(mm.vmas().getFirst().start(), p);
            // lands right below an RW page-sized VMA and must not merge with it: back to the limit
            long two = mm.mmap(0, 2 * p, Prot.READ, ANON);
            assertThat(mm.vmas()).hasSize(AddressSpace.MAX_MAP_COUNT);
            assertErrno(() -> mm.mprotect(two, p, RW), Errno.ENOMEM);
            assertThat(mm.vmas()).hasSize(AddressSpace.MAX_MAP_COUNT);
        }
    }

    static void assertErrno(Runnable r, int errno) {
        assertThat(catchErrno(r).errno()).as("errno").isEqualTo(errno);
    }

    static ErrnoException catchErrno(Runnable r) {
        try {
            r.run();
        } catch (ErrnoException e) {
            return e;
        }
        throw new AssertionError("expected an ErrnoException");
    }
}
