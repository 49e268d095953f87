package dev.pagehop.mm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where the emulated machine's frames live on the host: 2 MiB chunks of private anonymous
 * {@code mmap} memory. A chunk whose machine ended goes to a bounded pool and is handed, zeroed,
 * to the next machine that needs one; past the bound it is unmapped.
 *
 * <p>Why not {@code Arena.allocate}: it zero-fills what it returns, so a chunk the C allocator
 * took fresh from the kernel was written twice, once by the JDK's fill (taking a host page fault
 * per 4 KiB page) and again by the emulated kernel. A fresh anonymous mapping is already zero,
 * and {@code MADV_POPULATE_WRITE} (Linux 5.14) faults a whole chunk in with one system call
 * instead of 512 page faults.
 *
 * <p>Why the pool: what the kernel charges for a page it hands out (allocation, zeroing,
 * memory-cgroup accounting) is several times a {@code memset} of memory the process already
 * holds, and an agent's machines come and go (a target frees a received process, a source the
 * one it migrated away). The C allocator behind {@code Arena.allocate} kept freed chunks for
 * reuse in the same way; dropping that made steady-state migrations slower
 * (BENCHMARKS.md, Migration). The pool is bounded ({@code pagehop.mm.hostPoolBytes}, default
 * 1 GiB), so an idle agent gives the rest back.
 *
 * <p>Not advised {@code MADV_HUGEPAGE}, though one fault per 2 MiB looks cheaper: on the
 * virtual machines measured here the kernel's huge pages came from memory the hypervisor had
 * taken back (free page reporting hands whole free 2 MiB blocks to the host), so every huge
 * page first faulted on the host, and receiving a migration took three times the CPU.
 *
 * <p>Where the native calls cannot be made (not Linux, or native access denied) this falls back
 * to {@code Arena.allocate}: slower, same contents.
 */
final class HostMemory {
    /**
     * 2 MiB: a fresh machine costs little, and chunks of one size can be pooled. Aligned to
     * {@link #CHUNK_ALIGNMENT} so a chunk serves any granule's frames.
     */
    static final long CHUNK_BYTES = 2L << 20;
    static final long CHUNK_ALIGNMENT = 64L << 10;
    private static final long POOL_BYTES = Long.getLong("pagehop.mm.hostPoolBytes", 1L << 30);

    // Linux UAPI values, identical on x86-64 and arm64 (asm-generic/mman-common.h).
    private static final int PROT_READ = 0x1;
    private static final int PROT_WRITE = 0x2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    /** No swap reservation (as the JVM reserves its heap): pages are committed on touch. */
    private static final int MAP_NORESERVE = 0x4000;
    private static final int MADV_POPULATE_WRITE = 23;
    private static final long MAP_FAILED = -1L;
    private static final long HOST_PAGE = 4096;

    private static final Native NATIVE = Native.load();
    /** Bytes mapped by this class and not yet unmapped, over every machine in this JVM (pool included). */
    private static final AtomicLong MAPPED_BYTES = new AtomicLong();
    /** Addresses of pooled chunks (guarded by itself); their contents are stale until zeroed. */
    private static final ArrayDeque<Long> POOL = new ArrayDeque<>();

    private HostMemory() {
    }

    /** Whether frames come from mmap (true) or from the {@code Arena.allocate} fallback. */
    static boolean mapped() {
        return NATIVE != null;
    }

    /** Host memory mapped for frames and not yet given back (address space, not all of it committed). */
    static long mappedBytes() {
        return MAPPED_BYTES.get();
    }

    /** Chunks in the pool now. */
    static int pooledChunks() {
        synchronized (POOL) {
            return POOL.size();
        }
    }

    /**
     * A zeroed chunk of {@link #CHUNK_BYTES}, resident, valid until {@code arena} closes, when it
     * goes back to the pool (or to the kernel once the pool is full).
     */
    static MemorySegment chunk(Arena arena) {
        if (NATIVE == null) {
            return arena.allocate(CHUNK_BYTES, CHUNK_ALIGNMENT);
        }
        Long pooled;
        synchronized (POOL) {
            pooled = POOL.poll();
        }
        long address;
        if (pooled != null) {
            address = pooled;
            MemorySegment.ofAddress(address).reinterpret(CHUNK_BYTES).fill((byte) 0);
        } else {
            address = NATIVE.map(CHUNK_BYTES, CHUNK_ALIGNMENT);
            NATIVE.populate(address, CHUNK_BYTES);
        }
        return MemorySegment.ofAddress(address).reinterpret(CHUNK_BYTES, arena, s -> giveBack(s.address()));
    }

    private static void giveBack(long address) {
        synchronized (POOL) {
            if ((POOL.size() + 1) * CHUNK_BYTES <= POOL_BYTES) {
                POOL.push(address);
                return;
            }
        }
        NATIVE.unmap(address, CHUNK_BYTES);
    }

    /**
     * {@code bytes} of zeroed, resident memory aligned to {@code alignment}, valid until
     * {@code arena} closes (a THP's block: sizes vary with the granule, so it is not pooled).
     */
    static MemorySegment allocate(Arena arena, long bytes, long alignment) {
        if (NATIVE == null) {
            return arena.allocate(bytes, alignment);
        }
        long address = NATIVE.map(bytes, alignment);
        NATIVE.populate(address, bytes);
        return MemorySegment.ofAddress(address).reinterpret(bytes, arena, s -> NATIVE.unmap(s.address(), bytes));
    }

    /** The downcalls, looked up once. */
    private record Native(MethodHandle mmap, MethodHandle munmap, MethodHandle madvise) {
        static Native load() {
            if (!System.getProperty("os.name", "").startsWith("Linux")) {
                return null;
            }
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                MethodHandle mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                MethodHandle munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
                MethodHandle madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_INT));
                return new Native(mmap, munmap, madvise);
            } catch (IllegalCallerException | UnsupportedOperationException | java.util.NoSuchElementException e) {
                // Native access denied (a deny policy for restricted methods) or no C library found.
                return null;
            }
        }

        /** Maps {@code bytes} aligned to {@code alignment}; returns the address. */
        long map(long bytes, long alignment) {
            // mmap returns host-page (4 KiB) aligned memory; for a larger alignment (16K and 64K
            // granules' frames) map that much more and give the unaligned head and tail back.
            long extra = alignment > HOST_PAGE ? alignment : 0;
            long span = bytes + extra;
            long base;
            try {
                base = (long) mmap.invokeExact(0L, span, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
            } catch (Throwable t) {
                throw new IllegalStateException("mmap of " + span + " bytes for emulated frames failed: " + t, t);
            }
            if (base == MAP_FAILED) {
                // Out of host address space or memory: what Arena.allocate reports the same way.
                throw new OutOfMemoryError("mmap of " + span + " bytes for emulated frames failed");
            }
            long start = extra == 0 ? base : (base + alignment - 1) & -alignment;
            unmapRaw(base, start - base);
            unmapRaw(start + bytes, base + span - (start + bytes));
            MAPPED_BYTES.addAndGet(bytes);
            return start;
        }

        /**
         * Faults the range in for writing ahead of its first use. Advice only: on a kernel without
         * MADV_POPULATE_WRITE the pages fault in one by one when written, with the same contents.
         */
        void populate(long address, long bytes) {
            try {
                int ignored = (int) madvise.invokeExact(address, bytes, MADV_POPULATE_WRITE);
            } catch (Throwable t) {
                throw new IllegalStateException("madvise(MADV_POPULATE_WRITE) failed: " + t, t);
            }
        }

        /** Gives a mapped region back to the kernel. */
        void unmap(long address, long length) {
            unmapRaw(address, length);
            MAPPED_BYTES.addAndGet(-length);
        }

        private void unmapRaw(long address, long length) {
            if (length == 0) {
                return;
            }
            int rc;
            try {
                rc = (int) munmap.invokeExact(address, length);
            } catch (Throwable t) {
                throw new IllegalStateException("munmap failed: " + t, t);
            }
            if (rc != 0) {
                throw new IllegalStateException(String.format("munmap(0x%x, %d) of emulated frames failed", address,
                        length));
            }
        }
    }
}
