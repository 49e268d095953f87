package dev.pagehop.migrate;

import com.google.protobuf.ByteString;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.EmulatedThread;
import dev.pagehop.proc.ProcessState;
import dev.pagehop.proto.control.v1.MappedRange;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.ProcessInspection;
import dev.pagehop.workload.IntegrityReport;
import dev.pagehop.workload.WorkloadStats;
import dev.pagehop.xfer.MemoryDigest;
import dev.pagehop.xfer.VmaSpec;

/** Describes a process for AgentControl (listing and inspection), on either agent. */
public final class ProcessWire {
    private ProcessWire() {
    }

    public static ProcessInfo info(EmulatedProcess p, long memoryBytes, dev.pagehop.proto.control.v1.ProcessState state,
            String migrationId) {
        MemoryManager mm = p.mm();
        long mapped = mappedBytes(mm);
        WorkloadStats ws = p.stats();
        ProcessInfo.Builder b = ProcessInfo.newBuilder().setPid(p.pid()).setWorkload(p.workloadSpec().toString())
                .setMemoryBytes(memoryBytes).setGranule(PolicyWire.granule(mm.config().granule())).setState(state)
                .setThreads(p.threads().size()).setMappedBytes(mapped).setResidentBytes(residentBytes(mm))
                .setProgress(ws.steps())
                .setWriteRateBytesPerSec((long) ws.bytesPerSecond()).setMigrationId(migrationId);
        p.stopReason().ifPresent(r -> b.setStopReason(r.toString()));
        return b.build();
    }

    /**
     * A process a target received: its memory is what it maps, VMA by VMA, as migrated and as it
     * has changed since (the source's spawn-time size does not travel, and would go stale).
     */
    public static ProcessInfo received(EmulatedProcess p, dev.pagehop.proto.control.v1.ProcessState state,
            String migrationId) {
        return info(p, mappedBytes(p.mm()), state, migrationId);
    }

    private static long mappedBytes(MemoryManager mm) {
        long mapped = 0;
        try {
            for (VmaInfo v : mm.vmas()) {
                mapped += v.length();
            }
        } catch (IllegalStateException closed) {
            return 0;
        }
        return mapped;
    }

    /** RSS, or 0 once the address space is closed (a process killed while being listed). */
    public static long residentBytes(MemoryManager mm) {
        try {
            return mm.residentBytes();
        } catch (IllegalStateException closed) {
            return 0;
        }
    }

    public static dev.pagehop.proto.control.v1.ProcessState state(ProcessState s) {
        return switch (s) {
            case NEW, FROZEN -> dev.pagehop.proto.control.v1.ProcessState.PROCESS_STATE_FROZEN;
            case RUNNING, FREEZING -> dev.pagehop.proto.control.v1.ProcessState.PROCESS_STATE_RUNNING;
            case STOPPED, EXITED -> dev.pagehop.proto.control.v1.ProcessState.PROCESS_STATE_STOPPED;
        };
    }

    /**
     * Digest, registers, layout and (if asked) the workload's self-check. A running process is
     * frozen for the moment memory is read and thawed after, so the digest and the registers
     * belong to one instant.
     */
    public static ProcessInspection inspect(EmulatedProcess p, ProcessInfo info, boolean checkIntegrity) {
        boolean wasRunning = p.state() == ProcessState.RUNNING;
        if (wasRunning) {
            p.freeze();
        }
        try {
            ProcessInspection.Builder b = ProcessInspection.newBuilder().setProcess(info)
                    .setMemoryDigest(ByteString.copyFrom(MemoryDigest.of(p.mm())));
            for (EmulatedThread t : p.threads()) {
                b.addCpuStates(ByteString.copyFrom(t.cpu().toBytes()));
            }
            for (VmaInfo v : p.mm().vmas()) {
                b.addLayout(MappedRange.newBuilder().setStart(v.start()).setEnd(v.end()).setProt(v.prot())
                        .setShared((v.vmFlags() & VmaSpec.VM_SHARED) != 0));
            }
            if (checkIntegrity) {
                IntegrityReport r = p.verify();
                b.setIntegrityChecked(r.checked()).setIntegrityOk(r.ok()).setIntegrityDetail(r.toString());
            }
            return b.build();
        } finally {
            if (wasRunning) {
                p.thaw();
            }
        }
    }
}
