package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.mm.Errno;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.VmFlags;
import dev.pagehop.proc.AddressSpaceLayout;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.ProcessOptions;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import dev.pagehop.workload.WorkloadSpec;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * VMA flags a program can observe (MAP_LOCKED, MAP_NORESERVE, MADV_HUGEPAGE/NOHUGEPAGE,
 * MADV_DONTFORK) arrive with the process, in every mode. A locked VMA cannot be filled lazily:
 * MAP_LOCKED populates it, so no MISSING fault would ever fetch its pages (CRIU's lazy restore
 * leaves locked VMAs out for the same reason); its pages travel before the switchover.
 */
class VmaFlagsMigrationTest {

    @ParameterizedTest(name = "{0}")
    @Timeout(60)
    @EnumSource(value = MigrationMode.class, names = {"MIGRATION_MODE_PRECOPY", "MIGRATION_MODE_POSTCOPY",
            "MIGRATION_MODE_HYBRID"})
    void observableVmaFlagsAndTheirPagesArriveOnTheTarget(MigrationMode mode) throws Exception {
        try (InProcessAgents agents = new InProcessAgents()) {
            MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4));
            EmulatedProcess src = EmulatedProcess.spawn(4242, mm, WorkloadSpec.of("idle", 1).with("pagesPerThread", 16), 1,
                    ProcessOptions.defaults());
            long ps = mm.pageSize();
            int rw = Prot.READ | Prot.WRITE;
            int anon = MapFlags.PRIVATE | MapFlags.ANONYMOUS;
            long locked = mm.mmap(0, 8 * ps, rw, anon | MapFlags.LOCKED);
            long noreserve = mm.mmap(0, 8 * ps, rw, anon | MapFlags.NORESERVE);
            long advised = mm.mmap(0, 24 * ps, rw, anon);
            mm.madvise(advised, 8 * ps, Madvise.NOHUGEPAGE);
            mm.madvise(advised + 8 * ps, 8 * ps, Madvise.DONTFORK);
            mm.madvise(advised + 16 * ps, 8 * ps, Madvise.HUGEPAGE);
            for (long base : new long[] {locked, noreserve, advised, advised + 8 * ps, advised + 16 * ps}) {
                for (int i = 0; i < 8; i += 2) {
                    mm.store64(base + i * ps + 8, base ^ (0x5eed0000L + i));
                }
            }
            src.start();
            int pid = agents.source.adopt(src, Granule.K4, 64 * ps);

            MigrationInfo started = agents.stub.startMigration(StartMigrationRequest.newBuilder().setPid(pid)
                    .setTarget(agents.targetName).setMode(mode).setTracker(Tracker.TRACKER_UFFD_WP_ASYNC)
                    .setPolicy(MigrationPolicy.newBuilder().setPostcopyAfterRounds(1))
                    .setLeavePausedOnTarget(true).setKeepSource(true).build());
            MigrationInfo end = agents.awaitEnd(started.getMigrationId());
            assertThat(end.getSourcePhase()).as(end.getFailure()).isEqualTo(SourcePhase.SOURCE_PHASE_COMPLETED);

            EmulatedProcess dst = agents.target.receivedProcess(end.getPeerPid());
            assertThat(AddressSpaceLayout.userRanges(dst.mm().vmas()))
                    .isEqualTo(AddressSpaceLayout.userRanges(src.mm().vmas()));
            assertThat(AddressSpaceLayout.userRanges(dst.mm().vmas())).extracting(AddressSpaceLayout.UserRange::flags)
                    .contains(VmFlags.VM_LOCKED, VmFlags.VM_NORESERVE, VmFlags.VM_NOHUGEPAGE, VmFlags.VM_DONTCOPY,
                            VmFlags.VM_HUGEPAGE);
            InProcessAgents.assertSameMemory(src.mm(), dst.mm());
            assertThat(dst.mm().load64(locked + 2 * ps + 8)).isEqualTo(locked ^ 0x5eed0002L);
            assertThatThrownBy(() -> dst.mm().madvise(locked, ps, Madvise.DONTNEED)).isInstanceOf(ErrnoException.class)
                    .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.EINVAL));
        }
    }
}
