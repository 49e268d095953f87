package dev.pagehop.mm;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One thread's view of one address space: a direct-mapped software TLB (separate read and
 * write arrays keyed by virtual page number) and the thread's side of TLB shootdown.
 *
 * <p>Shootdown protocol (the emulator's answer to the IPI a real kernel sends): every change
 * that takes access away or replaces a frame bumps {@link AddressSpace#tlbGen} under the mm lock
 * and then waits until each other thread that is {@link #running} in this address space has
 * acknowledged the new generation, or is provably not inside a store (not RUNNABLE). A thread
 * acknowledges on its next access, whose fast path sees its cached generation is stale. So a
 * store that passed the generation check just before the change lands before the changer
 * proceeds (to report dirty pages, free frames, ...), exactly like a store that retired before
 * the IPI. The fast path itself is one volatile read (a plain load on x86 and arm64) and no
 * fence.
 */
final class Mmu {
    static final int TLB_BITS = 9;
    static final int TLB_SIZE = 1 << TLB_BITS;
    static final int TLB_MASK = TLB_SIZE - 1;

    final Thread owner;
    final AddressSpace mm;
    /** Generation of the TLB contents; -1 forces the slow path. Owner thread only. */
    long gen = -1;
    /** Last generation this thread has seen (and flushed for). */
    volatile long ackGen = -1;
    /** Set before the first access after a flush; cleared when the thread leaves user mode here. */
    volatile boolean running;

    final long[] rtag = new long[TLB_SIZE];
    /** Native address of the frame behind rtag[i]: accessed through {@link AddressSpace#RAW}. */
    final long[] radr = new long[TLB_SIZE];
    final long[] wtag = new long[TLB_SIZE];
    final long[] wadr = new long[TLB_SIZE];

    Mmu(Thread owner, AddressSpace mm) {
        this.owner = owner;
        this.mm = mm;
        Arrays.fill(rtag, -1);
        Arrays.fill(wtag, -1);
    }

    void flush() {
        Arrays.fill(rtag, -1);
        Arrays.fill(wtag, -1);
    }

    /** The owner leaves user mode in this address space (sleeps, enters another mm, does a syscall). */
    void leave() {
        gen = -1;
        running = false;
    }

    void fillRead(long vpn, MemorySegment seg) {
        int i = (int) vpn & TLB_MASK;
        rtag[i] = vpn;
        radr[i] = seg.address();
    }

    void fillWrite(long vpn, MemorySegment seg) {
        int i = (int) vpn & TLB_MASK;
        long a = seg.address();
        wtag[i] = vpn;
        wadr[i] = a;
        rtag[i] = vpn;
        radr[i] = a;
    }
}
