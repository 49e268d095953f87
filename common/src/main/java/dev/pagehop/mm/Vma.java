package dev.pagehop.mm;

/** A vm_area_struct: [start, end) with VM_* flags, backing file and page offset, uffd context. */
final class Vma {
    long start;
    long end;
    long flags;
    /** null for private anonymous memory; shared anonymous memory gets an internal shmem file. */
    MemfdFile file;
    /** vm_pgoff in pages: the file offset, or for anonymous memory the address it was created at. */
    long pgoff;
    UffdContext uffd;

    Vma(long start, long end, long flags, MemfdFile file, long pgoff) {
        this.start = start;
        this.end = end;
        this.flags = flags;
        this.file = file;
        this.pgoff = pgoff;
    }

    Vma copy() {
        Vma v = new Vma(start, end, flags, file, pgoff);
        v.uffd = uffd;
        return v;
    }

    boolean contains(long addr) {
        return addr >= start && addr < end;
    }

    boolean isShared() {
        return (flags & VmFlags.VM_SHARED) != 0;
    }

    boolean isAnonPrivate() {
        return file == null;
    }

    boolean readable() {
        return (flags & (VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_EXEC)) != 0;
    }

    boolean writable() {
        return (flags & VmFlags.VM_WRITE) != 0;
    }

    boolean uffdWp() {
        return uffd != null && (flags & VmFlags.VM_UFFD_WP) != 0;
    }

    boolean uffdMissing() {
        return uffd != null && (flags & VmFlags.VM_UFFD_MISSING) != 0;
    }

    int prot() {
        int p = 0;
        if ((flags & VmFlags.VM_READ) != 0) {
            p |= Prot.READ;
        }
        if ((flags & VmFlags.VM_WRITE) != 0) {
            p |= Prot.WRITE;
        }
        if ((flags & VmFlags.VM_EXEC) != 0) {
            p |= Prot.EXEC;
        }
        return p;
    }

    /** File page index of {@code addr}. */
    long filePage(long addr, int pageShift) {
        return pgoff + ((addr - start) >>> pageShift);
    }

    VmaInfo info(int pageShift) {
        return new VmaInfo(start, end, prot(), flags, file == null || file.internal ? null : file,
                file == null ? 0 : pgoff << pageShift);
    }

    @Override
    public String toString() {
        return String.format("%x-%x %s", start, end, VmFlags.mnemonics(flags));
    }
}
