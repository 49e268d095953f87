package dev.pagehop.proc;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.workload.Ticker;
import dev.pagehop.workload.WorkloadSpec;
import java.util.ArrayList;
import java.util.List;

/** Shared set-up for process tests: deterministic runs, snapshots and an in-memory migration. */
final class ProcessTesting {
    static final int PID = 100;

    private ProcessTesting() {
    }

    /** Options whose pacing never waits for real time. */
    static ProcessOptions manualClock() {
        return ProcessOptions.defaults().withTicker(Ticker.manual());
    }

    /** The emulated kernel's memory manager. */
    static MemoryManager freshMemory(Granule g) {
        return MemoryManager.create(MmConfig.arm64(g));
    }

    /** The memory a workload runs on in these tests: the emulated kernel for every kind. */
    static MemoryManager memoryFor(String spec, Granule g) {
        return freshMemory(g);
    }

    /** What two runs must agree on: memory, registers and step counts. */
    record Snapshot(String digest, List<CpuState> registers, List<Long> steps) {
    }

    static Snapshot snapshot(EmulatedProcess p) {
        List<CpuState> regs = new ArrayList<>();
        List<Long> steps = new ArrayList<>();
        for (EmulatedThread t : p.threads()) {
            regs.add(t.cpu());
            steps.add(t.steps());
        }
        return new Snapshot(MemoryDigest.of(p.mm()), regs, steps);
    }

    /** Spawns, starts and freezes at exactly {@code steps} steps per thread. */
    static EmulatedProcess runTo(MemoryManager mm, WorkloadSpec spec, int threads, long steps) {
        EmulatedProcess p = EmulatedProcess.spawn(PID, mm, spec, threads, manualClock());
        p.freezeAt(steps);
        return p;
    }

    /**
     * What the migration does, without the network: image through bytes, layout rebuilt on
     * {@code target}, every non-zero page copied, threads restored (FROZEN).
     */
    static EmulatedProcess migrate(EmulatedProcess source, MemoryManager target) {
        ProcessImage image = ProcessImage.decode(source.saveImage().encode());
        AddressSpaceLayout.rebuild(image, target);
        copyMemory(source.mm(), target);
        return EmulatedProcess.restore(image, target, manualClock());
    }

    /** Copies every non-zero page, lifting write protection around the copy where needed. */
    static void copyMemory(MemoryManager from, MemoryManager to) {
        long ps = from.pageSize();
        byte[] page = new byte[(int) ps];
        for (VmaInfo v : from.vmas()) {
            boolean writable = (v.prot() & Prot.WRITE) != 0;
            if (!writable) {
                to.mprotect(v.start(), v.length(), Prot.READ | Prot.WRITE);
            }
            for (long a = v.start(); a < v.end(); a += ps) {
                from.peek(a, page, 0, page.length);
                if (!isZero(page)) {
                    to.write(a, page);
                }
            }
            if (!writable) {
                to.mprotect(v.start(), v.length(), v.prot());
            }
        }
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
