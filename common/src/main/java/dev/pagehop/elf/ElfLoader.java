package dev.pagehop.elf;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.Prot;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Maps a static executable into an address space and builds the initial stack the way
 * fs/binfmt_elf.c does (argc, argv, envp, auxv, then the strings and AT_RANDOM bytes above).
 * All writes go through the MMU as user-mode stores, so trackers count the loader's pages as
 * dirty like any other write the kernel makes on the process's behalf.
 */
public final class ElfLoader {
    /** Top of the stack mapping: just under the 48-bit user limit, aligned for every granule. */
    public static final long STACK_TOP = 0x0000_FFFF_FFFF_0000L;
    /** 8 MiB, the usual RLIMIT_STACK. */
    public static final long STACK_BYTES = 8L << 20;

    // auxv types (include/uapi/linux/auxvec.h)
    static final int AT_NULL = 0;
    static final int AT_PHDR = 3;
    static final int AT_PHENT = 4;
    static final int AT_PHNUM = 5;
    static final int AT_PAGESZ = 6;
    static final int AT_BASE = 7;
    static final int AT_FLAGS = 8;
    static final int AT_ENTRY = 9;
    static final int AT_UID = 11;
    static final int AT_EUID = 12;
    static final int AT_GID = 13;
    static final int AT_EGID = 14;
    static final int AT_PLATFORM = 15;
    static final int AT_HWCAP = 16;
    static final int AT_CLKTCK = 17;
    static final int AT_SECURE = 23;
    static final int AT_RANDOM = 25;
    static final int AT_HWCAP2 = 26;
    static final int AT_EXECFN = 31;
    static final int AT_MINSIGSTKSZ = 51;

    /**
     * HWCAP_FP | HWCAP_ASIMD | HWCAP_ATOMICS (arch/arm64/include/uapi/asm/hwcap.h): what the
     * interpreter implements. No CPUID, SVE, MTE or pointer authentication, so a libc picks its
     * generic string routines.
     */
    public static final long HWCAP = (1L << 0) | (1L << 1) | (1L << 8);

    private ElfLoader() {
    }

    /** The loaded program: its first register state and where its heap starts. */
    public record Loaded(CpuState initialState, long brkStart, long stackTop, long stackBottom, long randomAddress) {
    }

    public static Loaded load(MemoryManager mm, ElfImage image, List<String> argv, List<String> envp, byte[] random16) {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("argv needs at least the program name");
        }
        if (random16.length != 16) {
            throw new IllegalArgumentException("AT_RANDOM needs 16 bytes, got " + random16.length);
        }
        long pageSize = mm.pageSize();
        // Map and fill every segment writable first, then apply the final protections: two
        // segments may share a page when p_align is smaller than the page size.
        long prevEnd = 0;
        long highest = 0;
        for (ElfImage.Segment s : image.segments()) {
            long start = s.vaddr() & -pageSize;
            long end = (s.end() + pageSize - 1) & -pageSize;
            long mapStart = Math.max(start, prevEnd);
            if (mapStart < end) {
                mm.mmap(mapStart, end - mapStart, Prot.READ | Prot.WRITE,
                        MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
            }
            if (s.fileSize() > 0) {
                byte[] bytes = new byte[(int) s.fileSize()];
                System.arraycopy(image.file(), (int) s.offset(), bytes, 0, bytes.length);
                mm.write(s.vaddr(), bytes);
            }
            prevEnd = end;
            highest = Math.max(highest, end);
        }
        prevEnd = 0;
        int prevProt = 0;
        for (ElfImage.Segment s : image.segments()) {
            long start = s.vaddr() & -pageSize;
            long end = (s.end() + pageSize - 1) & -pageSize;
            int prot = prot(s.flags());
            mm.mprotect(start, end - start, prot);
            if (start < prevEnd) {
                mm.mprotect(start, pageSize, prot | prevProt);
            }
            prevEnd = end;
            prevProt = prot;
        }
        mm.setBrk(highest, highest);

        long stackBottom = STACK_TOP - STACK_BYTES;
        mm.mmap(stackBottom, STACK_BYTES, Prot.READ | Prot.WRITE,
                MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED | MapFlags.STACK);
        long p = STACK_TOP;
        p -= 16;
        long random = p;
        mm.write(random, random16);
        long platform = p = pushString(mm, p, "aarch64");
        long execfn = p = pushString(mm, p, argv.get(0));
        List<Long> argvAddrs = new ArrayList<>();
        for (String a : argv) {
            p = pushString(mm, p, a);
            argvAddrs.add(p);
        }
        List<Long> envAddrs = new ArrayList<>();
        for (String e : envp) {
            p = pushString(mm, p, e);
            envAddrs.add(p);
        }
        long[][] aux = {
            {AT_PHDR, image.phdrVaddr()}, {AT_PHENT, image.phentsize()}, {AT_PHNUM, image.phnum()},
            {AT_PAGESZ, pageSize}, {AT_BASE, 0}, {AT_FLAGS, 0}, {AT_ENTRY, image.entry()},
            {AT_UID, 0}, {AT_EUID, 0}, {AT_GID, 0}, {AT_EGID, 0}, {AT_HWCAP, HWCAP}, {AT_HWCAP2, 0},
            {AT_CLKTCK, 100}, {AT_SECURE, 0}, {AT_RANDOM, random}, {AT_PLATFORM, platform},
            {AT_EXECFN, execfn}, {AT_MINSIGSTKSZ, 5120}, {AT_NULL, 0},
        };
        int words = 1 + argv.size() + 1 + envp.size() + 1 + 2 * aux.length;
        long sp = (p - 8L * words) & -16L;
        ByteBuffer table = ByteBuffer.allocate(8 * words).order(ByteOrder.LITTLE_ENDIAN);
        table.putLong(argv.size());
        argvAddrs.forEach(table::putLong);
        table.putLong(0);
        envAddrs.forEach(table::putLong);
        table.putLong(0);
        for (long[] kv : aux) {
            table.putLong(kv[0]).putLong(kv[1]);
        }
        mm.write(sp, table.array());

        CpuState state = new CpuState();
        state.setPc(image.entry());
        state.setSp(sp);
        return new Loaded(state, highest, STACK_TOP, stackBottom, random);
    }

    private static long pushString(MemoryManager mm, long p, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, z, 0, bytes.length);
        long at = p - z.length;
        mm.write(at, z);
        return at;
    }

    static int prot(int pflags) {
        return ((pflags & ElfImage.PF_R) != 0 ? Prot.READ : 0) | ((pflags & ElfImage.PF_W) != 0 ? Prot.WRITE : 0)
                | ((pflags & ElfImage.PF_X) != 0 ? Prot.EXEC : 0);
    }
}
