package dev.pagehop.cpu;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import java.util.ArrayList;
import java.util.List;

/** One vCPU over the emulated MMU (4K granule): code at {@link #CODE}, data at {@link #DATA}, a stack page. */
final class Machine {
    static final long CODE = 0x10000;
    static final long DATA = 0x20000;
    static final long STACK_TOP = 0x32000;

    final MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4));
    final CpuState s = new CpuState();
    final List<Long> syscalls = new ArrayList<>();
    final Interpreter cpu;
    private final int length;

    Machine(int[] code) {
        this(code, Prot.READ | Prot.EXEC);
    }

    Machine(int[] code, int codeProt) {
        mm.mmap(CODE, 4096, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
        for (int i = 0; i < code.length; i++) {
            mm.store32(CODE + 4L * i, code[i]);
        }
        mm.mprotect(CODE, 4096, codeProt);
        mm.mmap(DATA, 4096, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
        mm.mmap(STACK_TOP - 8192, 8192, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
        s.setPc(CODE);
        s.setSp(STACK_TOP);
        length = code.length;
        cpu = Interpreter.create(mm, (state, imm) -> {
            syscalls.add(state.x(8));
            return SupervisorCall.Outcome.STOP;
        });
    }

    Machine x(int n, long v) {
        s.setX(n, v);
        return this;
    }

    long x(int n) {
        return s.x(n);
    }

    /** Runs until the PC leaves the snippet (falls off its end) or 10 000 instructions ran. */
    Machine run() {
        for (int i = 0; i < 10_000 && s.pc() >= CODE && s.pc() < CODE + 4L * length; i++) {
            cpu.run(s, 1);
        }
        return this;
    }

    /** NZCV as a 4-bit number (N=8, Z=4, C=2, V=1). */
    int nzcv() {
        return (int) (s.pstate() >>> 28);
    }

    long end() {
        return CODE + 4L * length;
    }
}
