package dev.pagehop.mm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Where the emulated machine's frames live on the host: private anonymous {@code mmap} regions,
 * unmapped when the owning arena closes, and populated 2 MiB at a time as frames are carved.
 *
 * <p>Why not {@code Arena.allocate}: it zero-fills what it returns, so every fresh chunk was
 * written twice, once by the JDK's fill (which takes the host page faults) and again by the
 * emulated kernel. A fresh anonymous mapping is already zero. {@code MADV_POPULATE_WRITE}
 * (Linux 5.14) then faults a 2 MiB window in with one system call instead of one page fault
 * per 4 KiB page. A target receiving a migration writes every frame once, so this is most of
 * what it pays for memory it never had ({@code FreshFramesCpuRunner}: 0.47 s of CPU per GiB
 * with {@code Arena.allocate}, 0.45 s with a plain mapping, 0.37 s populated; BENCHMARKS.md).
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
    /** The populate window: a host huge page, a step small enough not to commit much ahead. */
    static final long WINDOW_BYTES = 2L << 20;

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
    /** Bytes mapped by this class and not yet unmapped, over every machine in this JVM. */
    private static final java.util.concurrent.atomic.AtomicLong MAPPED_BYTES = new java.util.concurrent.atomic.AtomicLong();

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

    /** {@code bytes} of zeroed memory aligned to {@code alignment}, valid until {@code arena} closes. */
    static MemorySegment allocate(Arena arena, long bytes, long alignment) {
        if (NATIVE == null) {
            return arena.allocate(bytes, alignment);
        }
        return NATIVE.map(arena, bytes, alignment);
    }

    /**
     * Faults {@code s} in for writing, ahead of its first use. Advice only: on a kernel without
     * MADV_POPULATE_WRITE the pages fault in one by one when written, with the same contents.
     */
    static void populate(MemorySegment s) {
        if (NATIVE != null) {
            NATIVE.populate(s);
        }
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

        MemorySegment map(Arena arena, long bytes, long alignment) {
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
            unmap(base, start - base);
            unmap(start + bytes, base + span - (start + bytes));
            MAPPED_BYTES.addAndGet(bytes);
            return MemorySegment.ofAddress(start).reinterpret(bytes, arena, s -> {
                unmap(s.address(), bytes);
                MAPPED_BYTES.addAndGet(-bytes);
            });
        }

        void populate(MemorySegment s) {
            try {
                int ignored = (int) madvise.invokeExact(s.address(), s.byteSize(), MADV_POPULATE_WRITE);
            } catch (Throwable t) {
                throw new IllegalStateException("madvise(MADV_POPULATE_WRITE) failed: " + t, t);
            }
        }

        private void unmap(long address, long length) {
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
