package dev.pagehop.proc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.Errno;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Memfd;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.VmFlags;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.workload.RateLimit;
import dev.pagehop.workload.WorkloadSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AddressSpaceLayoutTest {

    @ParameterizedTest
    @EnumSource(Granule.class)
    void aLayoutWithHeapMemfdAndEveryProtectionIsRebuiltExactly(Granule g) {
        MemoryManager src = MemoryManager.create(MmConfig.arm64(g));
        long ps = src.pageSize();
        long heap = src.brkStart();
        src.brk(heap + 3 * ps + 100);
        long text = src.mmap(0, 2 * ps, Prot.READ | Prot.EXEC, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        long guard = src.mmap(0, ps, Prot.NONE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        long huge = src.mmap(0, 4 * ps, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        src.madvise(huge, 4 * ps, Madvise.HUGEPAGE);
        Memfd fd = src.memfdCreate("shared-state", 4 * ps);
        long shared = src.mmap(0, 2 * ps, Prot.READ | Prot.WRITE, MapFlags.SHARED, fd, ps);
        long sharedAnon = src.mmap(0, ps, Prot.READ, MapFlags.SHARED | MapFlags.ANONYMOUS);

        ProcessImage image = ProcessImage.decode(AddressSpaceLayout.capture(7, src, WorkloadSpec.of("idle", 1),
                RateLimit.unlimited(), List.of(new ProcessImage.ThreadImage(7, 0, new CpuState(), List.of(), false, -1))).encode());
        assertThat(image.brkStart()).isEqualTo(heap);
        assertThat(image.brk()).isEqualTo(heap + 3 * ps + 100);
        assertThat(image.memfds()).containsExactly(new ProcessImage.MemfdImage(0, "shared-state", 4 * ps));
        assertThat(image.vmas()).extracting(ProcessImage.VmaImage::start).contains(text, guard, huge, shared, sharedAnon);

        MemoryManager dst = MemoryManager.create(image.mmConfig());
        Map<Integer, Memfd> fds = AddressSpaceLayout.rebuild(image, dst);
        assertThat(fds).hasSize(1);
        assertThat(fds.get(0).size()).isEqualTo(4 * ps);
        assertThat(comparable(dst.vmas())).isEqualTo(comparable(src.vmas()));
        assertThat(dst.brkStart()).isEqualTo(heap);
        assertThat(dst.brk(0)).isEqualTo(heap + 3 * ps + 100);
        VmaInfo rebuiltHuge = dst.vmas().stream().filter(v -> v.start() == huge).findFirst().orElseThrow();
        assertThat(rebuiltHuge.vmFlags() & VmFlags.VM_HUGEPAGE).isNotZero();
        // brk continues from where the source left it.
        assertThat(dst.brk(heap + 5 * ps)).isEqualTo(heap + 5 * ps);
    }

    /**
     * A locked VMA (MAP_LOCKED) must come back locked: the lock is visible to the program, which
     * gets EINVAL from MADV_DONTNEED on it, so a target that dropped it would run differently.
     */
    @ParameterizedTest
    @EnumSource(Granule.class)
    void aLockedVmaIsRebuiltLockedAndStillRefusesDontneed(Granule g) {
        MemoryManager src = MemoryManager.create(MmConfig.arm64(g));
        long ps = src.pageSize();
        long locked = src.mmap(0, 3 * ps, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.LOCKED);
        src.store64(locked + ps, 0x10cc);
        ProcessImage image = ProcessImage.decode(AddressSpaceLayout.capture(7, src, WorkloadSpec.of("idle", 1),
                RateLimit.unlimited(), List.of(new ProcessImage.ThreadImage(7, 0, new CpuState(), List.of(), false, -1))).encode());
        assertThat(image.vmas()).singleElement().satisfies(v -> assertThat(v.vmFlags() & VmFlags.VM_LOCKED).isNotZero());

        MemoryManager dst = MemoryManager.create(image.mmConfig());
        AddressSpaceLayout.rebuild(image, dst);
        ProcessTesting.copyMemory(src, dst);
        assertThat(comparable(dst.vmas())).isEqualTo(comparable(src.vmas()));
        assertThat(dst.load64(locked + ps)).isEqualTo(0x10cc);
        for (MemoryManager mm : List.of(src, dst)) {
            assertThatThrownBy(() -> mm.madvise(locked, ps, Madvise.DONTNEED)).isInstanceOf(ErrnoException.class)
                    .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.EINVAL));
        }
        assertThat(MemoryDigest.of(dst)).isEqualTo(MemoryDigest.of(src));
    }

    /**
     * The check that closes a restore compares the flags a program can observe, not only
     * ranges and protection: a target that mapped a VMA without its THP or fork advice (or its
     * lock) would run differently, so the restore must refuse it and name the flags.
     */
    @ParameterizedTest
    @EnumSource(Granule.class)
    void checkRefusesAVmaRebuiltWithoutTheFlagsTheProgramCanObserve(Granule g) {
        MemoryManager src = MemoryManager.create(MmConfig.arm64(g));
        long ps = src.pageSize();
        long a = src.mmap(0, 6 * ps, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.NORESERVE);
        src.madvise(a, 2 * ps, Madvise.NOHUGEPAGE);
        src.madvise(a + 4 * ps, 2 * ps, Madvise.DONTFORK);
        ProcessImage image = AddressSpaceLayout.capture(7, src, WorkloadSpec.of("idle", 1), RateLimit.unlimited(),
                List.of(new ProcessImage.ThreadImage(7, 0, new CpuState(), List.of(), false, -1)));
        MemoryManager dst = MemoryManager.create(image.mmConfig());
        AddressSpaceLayout.rebuild(image, dst);
        assertThat(comparable(dst.vmas())).isEqualTo(comparable(src.vmas()));

        MemoryManager plain = MemoryManager.create(image.mmConfig());
        for (ProcessImage.VmaImage v : image.vmas()) {
            plain.mmap(v.start(), v.length(), v.prot(), MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
        }
        plain.setBrk(image.brkStart(), image.brk());
        assertThatThrownBy(() -> AddressSpaceLayout.check(image, plain)).hasMessageContaining(String.format(
                "mapped [0x%x, 0x%x) rw-, the image has [0x%x, 0x%x) rw- flags 0x%x", a, a + 6 * ps, a, a + 2 * ps,
                VmFlags.VM_NORESERVE | VmFlags.VM_NOHUGEPAGE));
    }

    /** VMA fields a rebuild must reproduce (the memfd object differs, its offset must not). */
    private static List<String> comparable(List<VmaInfo> vmas) {
        return vmas.stream().map(v -> String.format("%x-%x %d %x %s %x", v.start(), v.end(), v.prot(), v.vmFlags(),
                v.memfd() == null ? "-" : v.memfd().name(), v.fileOffset())).toList();
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void vmasSplitOnlyByKernelFlagsAreRebuiltAsOneRangeAndStillMatch(Granule g) {
        MemoryManager src = MemoryManager.create(MmConfig.arm64(g));
        long ps = src.pageSize();
        long a = src.mmap(0, 8 * ps, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        try (var uffd = src.userfaultfd(0)) {
            uffd.api(dev.pagehop.uffd.Uffd.FEATURE_WP_ASYNC | dev.pagehop.uffd.Uffd.FEATURE_WP_UNPOPULATED);
            uffd.register(a, 3 * ps, dev.pagehop.uffd.Uffd.REGISTER_MODE_WP);
            assertThat(src.vmas()).hasSize(2);
            ProcessImage image = AddressSpaceLayout.capture(7, src, WorkloadSpec.of("idle", 1), RateLimit.unlimited(),
                    List.of(new ProcessImage.ThreadImage(7, 0, new CpuState(), List.of(), false, -1)));
            MemoryManager dst = MemoryManager.create(image.mmConfig());
            AddressSpaceLayout.rebuild(image, dst);
            assertThat(dst.vmas()).hasSize(1);
            AddressSpaceLayout.check(image, dst);

            dst.mprotect(a + ps, ps, Prot.READ);
            assertThatThrownBy(() -> AddressSpaceLayout.check(image, dst)).hasMessageContaining(String.format(
                    "mapped [0x%x, 0x%x) rw-, the image has [0x%x, 0x%x) rw-", a, a + ps, a, a + 8 * ps));
        }
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void anMremappedVmaThatStaysUnmergedDigestsLikeItsMergedRebuild(Granule g) {
        MemoryManager src = MemoryManager.create(MmConfig.arm64(g));
        long ps = src.pageSize();
        long a = src.mmap(0, 16 * ps, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        src.munmap(a + 8 * ps, 8 * ps);
        src.store64(a, 0x1111);
        src.store64(a + 7 * ps, 0x7777);
        // Move the first page just past the end: it keeps its old page offset, so Linux (and the
        // emulated kernel) cannot merge it with its new neighbour.
        src.mremap(a, ps, ps, MapFlags.MREMAP_MAYMOVE | MapFlags.MREMAP_FIXED, a + 8 * ps);
        assertThat(src.vmas()).hasSize(2);
        assertThat(AddressSpaceLayout.userRanges(src.vmas())).containsExactly(
                new AddressSpaceLayout.UserRange(a + ps, a + 9 * ps, Prot.READ | Prot.WRITE, false, null, 0, 0));

        ProcessImage image = AddressSpaceLayout.capture(7, src, WorkloadSpec.of("idle", 1), RateLimit.unlimited(),
                List.of(new ProcessImage.ThreadImage(7, 0, new CpuState(), List.of(), false, -1)));
        MemoryManager dst = MemoryManager.create(image.mmConfig());
        AddressSpaceLayout.rebuild(image, dst);
        ProcessTesting.copyMemory(src, dst);
        assertThat(dst.vmas()).hasSize(1);
        assertThat(dst.load64(a + 8 * ps)).isEqualTo(0x1111);
        assertThat(MemoryDigest.of(dst)).isEqualTo(MemoryDigest.of(src));
        dst.store64(a + 2 * ps, 1);
        assertThat(MemoryDigest.of(dst)).isNotEqualTo(MemoryDigest.of(src));
    }

    @ParameterizedTest
    @EnumSource(Granule.class)
    void rebuildRefusesAnotherKernelConfiguration(Granule g) {
        MemoryManager src = MemoryManager.create(MmConfig.arm64(g));
        ProcessImage image = AddressSpaceLayout.capture(7, src, WorkloadSpec.of("idle", 1), RateLimit.unlimited(),
                List.of(new ProcessImage.ThreadImage(7, 0, new CpuState(), List.of(), false, -1)));
        MemoryManager other = MemoryManager.create(MmConfig.arm64(g).withSoftDirty(true));
        assertThatThrownBy(() -> AddressSpaceLayout.rebuild(image, other))
                .hasMessageContaining("image was taken on").hasMessageContaining("softDirty=false");
    }
}
