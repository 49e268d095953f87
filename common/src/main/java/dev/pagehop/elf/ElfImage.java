package dev.pagehop.elf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A parsed static AArch64 ELF64 executable: entry point, program headers and the PT_LOAD
 * segments (elf.h; the loader follows fs/binfmt_elf.c). Only what a static program needs is
 * accepted: little-endian ELF64, e_machine EM_AARCH64, ET_EXEC, no PT_INTERP.
 */
public record ElfImage(long entry, long phoff, int phnum, int phentsize, long phdrVaddr, List<Segment> segments,
        byte[] file) {

    public static final int EM_AARCH64 = 183;
    public static final int ET_EXEC = 2;
    public static final int ET_DYN = 3;
    public static final int PT_LOAD = 1;
    public static final int PT_INTERP = 3;
    public static final int PT_PHDR = 6;
    public static final int PT_TLS = 7;
    public static final int PF_X = 1;
    public static final int PF_W = 2;
    public static final int PF_R = 4;

    /** One PT_LOAD: {@code fileSize} bytes from {@code offset} at {@code vaddr}, zero up to {@code memSize}. */
    public record Segment(long vaddr, long offset, long fileSize, long memSize, int flags, long align) {
        public long end() {
            return vaddr + memSize;
        }
    }

    public static ElfImage parse(byte[] file) {
        if (file.length < 64) {
            throw new ElfFormatException("file is " + file.length + " bytes, shorter than an ELF64 header (64)");
        }
        if (file[0] != 0x7F || file[1] != 'E' || file[2] != 'L' || file[3] != 'F') {
            throw new ElfFormatException(String.format("bad ELF magic %02x %02x %02x %02x",
                    file[0], file[1], file[2], file[3]));
        }
        if (file[4] != 2) {
            throw new ElfFormatException("EI_CLASS " + file[4] + " is not ELFCLASS64 (2)");
        }
        if (file[5] != 1) {
            throw new ElfFormatException("EI_DATA " + file[5] + " is not little-endian (1)");
        }
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int type = Short.toUnsignedInt(b.getShort(16));
        int machine = Short.toUnsignedInt(b.getShort(18));
        if (machine != EM_AARCH64) {
            throw new ElfFormatException("e_machine " + machine + " is not EM_AARCH64 (183)");
        }
        if (type != ET_EXEC) {
            throw new ElfFormatException("e_type " + type + (type == ET_DYN
                    ? " (ET_DYN: PIE or shared object) is not supported; link the program with -static -no-pie"
                    : " is not ET_EXEC (2)"));
        }
        long entry = b.getLong(24);
        long phoff = b.getLong(32);
        int phentsize = Short.toUnsignedInt(b.getShort(54));
        int phnum = Short.toUnsignedInt(b.getShort(56));
        if (phentsize != 56) {
            throw new ElfFormatException("e_phentsize " + phentsize + " is not 56");
        }
        if (phnum == 0 || phoff < 0 || phoff + (long) phnum * phentsize > file.length) {
            throw new ElfFormatException(String.format("program headers at 0x%x x %d run past the file end (%d bytes)",
                    phoff, phnum, file.length));
        }
        List<Segment> loads = new ArrayList<>();
        long phdrVaddr = 0;
        for (int i = 0; i < phnum; i++) {
            int p = (int) (phoff + (long) i * phentsize);
            int ptype = b.getInt(p);
            int flags = b.getInt(p + 4);
            long offset = b.getLong(p + 8);
            long vaddr = b.getLong(p + 16);
            long filesz = b.getLong(p + 32);
            long memsz = b.getLong(p + 40);
            long align = b.getLong(p + 48);
            switch (ptype) {
                case PT_INTERP -> throw new ElfFormatException(
                        "program header " + i + " is PT_INTERP: dynamically linked programs are not supported; link with -static");
                case PT_PHDR -> phdrVaddr = vaddr;
                case PT_LOAD -> {
                    if (filesz > memsz) {
                        throw new ElfFormatException(String.format(
                                "PT_LOAD %d has p_filesz 0x%x larger than p_memsz 0x%x", i, filesz, memsz));
                    }
                    if (offset < 0 || offset + filesz > file.length) {
                        throw new ElfFormatException(String.format(
                                "PT_LOAD %d file range 0x%x+0x%x runs past the file end (%d bytes)", i, offset, filesz,
                                file.length));
                    }
                    if (!loads.isEmpty() && vaddr < loads.get(loads.size() - 1).end()) {
                        throw new ElfFormatException(String.format(
                                "PT_LOAD %d at 0x%x overlaps or precedes the previous segment ending at 0x%x", i, vaddr,
                                loads.get(loads.size() - 1).end()));
                    }
                    if (vaddr < 0 || vaddr + memsz < vaddr || vaddr + memsz > (1L << 48)) {
                        throw new ElfFormatException(String.format(
                                "PT_LOAD %d at 0x%x+0x%x is outside the 48-bit user address space", i, vaddr, memsz));
                    }
                    loads.add(new Segment(vaddr, offset, filesz, memsz, flags, align));
                }
                default -> {
                }
            }
        }
        if (loads.isEmpty()) {
            throw new ElfFormatException("no PT_LOAD segment");
        }
        if (phdrVaddr == 0) {
            // No PT_PHDR (usual for static executables): the headers are mapped wherever the
            // segment holding file offset e_phoff put them (binfmt_elf does the same).
            for (Segment s : loads) {
                if (phoff >= s.offset() && phoff + (long) phnum * phentsize <= s.offset() + s.fileSize()) {
                    phdrVaddr = s.vaddr() + (phoff - s.offset());
                }
            }
        }
        return new ElfImage(entry, phoff, phnum, phentsize, phdrVaddr, List.copyOf(loads), file);
    }
}
