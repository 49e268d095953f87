package dev.pagehop.syscall;

import dev.pagehop.cpu.CodeCache;
import dev.pagehop.elf.ElfLoader;
import dev.pagehop.mm.Errno;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import java.nio.charset.StandardCharsets;

/**
 * The system calls every guest answers the same way, whoever keeps the per-thread and output
 * state ({@link Host}). Threads (clone, futex), exit and signals are the caller's.
 * Mapping changes invalidate the decoded-code cache.
 */
final class SyscallTable {
    private SyscallTable() {
    }

    /** What a syscall needs from the guest that owns the calling thread. */
    interface Host {
        int tid();

        /** Appends to stdout (1) or stderr (2); returns the count written or -errno. */
        long write(int fd, byte[] bytes);

        void randomBytes(byte[] into);

        void setClearChildTid(long addr);

        void setRobustList(long head);

        /** Records an unknown syscall number (answered -ENOSYS). */
        void unknown(long number, long pc);
    }

    static long dispatch(Host h, MemoryManager mm, CodeCache code, GuestClock clock, long pc, long nr, long a0, long a1,
            long a2, long a3, long a4) {
        switch ((int) nr) {
            case Syscalls.WRITE:
                return write(h, mm, (int) a0, a1, a2);
            case Syscalls.WRITEV: {
                long total = 0;
                for (int i = 0; i < a2; i++) {
                    long base = mm.load64(a1 + 16L * i);
                    long len = mm.load64(a1 + 16L * i + 8);
                    long n = write(h, mm, (int) a0, base, len);
                    if (n < 0) {
                        return total > 0 ? total : n;
                    }
                    total += n;
                }
                return total;
            }
            case Syscalls.READ:
                return a0 == 0 ? 0 : -Errno.EBADF;
            case Syscalls.OPENAT, Syscalls.FACCESSAT, Syscalls.READLINKAT:
                return -Errno.ENOENT;
            case Syscalls.CLOSE:
                return a0 >= 0 && a0 <= 2 ? 0 : -Errno.EBADF;
            case Syscalls.LSEEK:
                return a0 >= 0 && a0 <= 2 ? -29 /* ESPIPE */ : -Errno.EBADF;
            case Syscalls.IOCTL:
                return a0 >= 0 && a0 <= 2 ? -25 /* ENOTTY */ : -Errno.EBADF;
            case Syscalls.FCNTL:
                return a0 >= 0 && a0 <= 2 ? (a1 == 3 /* F_GETFL */ ? 2 /* O_RDWR */ : 0) : -Errno.EBADF;
            case Syscalls.FSTAT:
                return fstat(mm, (int) a0, a1);
            case Syscalls.NEWFSTATAT:
                return mm.load8(a1) == 0 && (a3 & 0x1000) != 0 ? fstat(mm, (int) a0, a2) : -Errno.ENOENT;
            case Syscalls.GETCWD: {
                if (a1 < 2) {
                    return -34; // ERANGE
                }
                mm.store16(a0, '/');
                return 2;
            }
            case Syscalls.SET_TID_ADDRESS:
                h.setClearChildTid(a0);
                return h.tid();
            case Syscalls.SET_ROBUST_LIST:
                if (a1 != 24) {
                    return -Errno.EINVAL;
                }
                h.setRobustList(a0);
                return 0;
            case Syscalls.CLOCK_GETTIME: {
                long ns = (a0 == 0 || a0 == 5) ? clock.realtimeNs() : clock.monotonicNs();
                mm.store64(a1, ns / 1_000_000_000L);
                mm.store64(a1 + 8, ns % 1_000_000_000L);
                return 0;
            }
            case Syscalls.CLOCK_GETRES:
                if (a1 != 0) {
                    mm.store64(a1, 0);
                    mm.store64(a1 + 8, 1);
                }
                return 0;
            case Syscalls.GETTIMEOFDAY: {
                long ns = clock.realtimeNs();
                if (a0 != 0) {
                    mm.store64(a0, ns / 1_000_000_000L);
                    mm.store64(a0 + 8, (ns % 1_000_000_000L) / 1000);
                }
                return 0;
            }
            case Syscalls.GETRANDOM: {
                byte[] bytes = new byte[(int) Math.min(a1, 1 << 20)];
                h.randomBytes(bytes);
                mm.write(a0, bytes);
                return bytes.length;
            }
            case Syscalls.UNAME:
                return uname(mm, a0);
            case Syscalls.RT_SIGACTION:
                if (a2 != 0) {
                    mm.write(a2, new byte[32]);
                }
                return 0;
            case Syscalls.RT_SIGPROCMASK:
                if (a2 != 0) {
                    mm.store64(a2, 0);
                }
                return 0;
            case Syscalls.SIGALTSTACK:
                return 0;
            case Syscalls.GETRLIMIT:
                return rlimit(mm, (int) a0, a1);
            case Syscalls.PRLIMIT64:
                return a3 == 0 ? 0 : rlimit(mm, (int) a1, a3);
            case Syscalls.PRCTL:
                return a0 == 15 || a0 == 16 ? 0 : -Errno.EINVAL; // PR_SET_NAME, PR_GET_NAME
            case Syscalls.SCHED_GETAFFINITY: {
                if (a1 < 8) {
                    return -Errno.EINVAL;
                }
                mm.store64(a2, 1);
                return 8;
            }
            case Syscalls.GETPID:
                return LinuxGuest.PID;
            case Syscalls.GETPPID:
                return 1;
            case Syscalls.GETTID:
                return h.tid();
            case Syscalls.GETUID, Syscalls.GETEUID, Syscalls.GETGID, Syscalls.GETEGID:
                return 0;
            case Syscalls.BRK: {
                long r = mm.brk(a0);
                code.invalidate();
                return r;
            }
            case Syscalls.MMAP: {
                if ((a3 & MapFlags.ANONYMOUS) == 0) {
                    return -Errno.EBADF; // no files in this guest
                }
                long r = mm.mmap(a0, a1, (int) a2, (int) a3);
                code.invalidate();
                return r;
            }
            case Syscalls.MUNMAP:
                mm.munmap(a0, a1);
                code.invalidate();
                return 0;
            case Syscalls.MPROTECT:
                mm.mprotect(a0, a1, (int) a2);
                code.invalidate();
                return 0;
            case Syscalls.MREMAP: {
                long r = mm.mremap(a0, a1, a2, (int) a3, a4);
                code.invalidate();
                return r;
            }
            case Syscalls.MADVISE:
                mm.madvise(a0, a1, (int) a2);
                code.invalidate();
                return 0;
            default:
                h.unknown(nr, pc);
                return -Errno.ENOSYS;
        }
    }

    private static long write(Host h, MemoryManager mm, int fd, long buf, long len) {
        if (fd != 1 && fd != 2) {
            return -Errno.EBADF;
        }
        if (len < 0) {
            return -Errno.EINVAL;
        }
        byte[] bytes = new byte[(int) Math.min(len, 1 << 20)];
        mm.read(buf, bytes);
        return h.write(fd, bytes);
    }

    private static long fstat(MemoryManager mm, int fd, long statbuf) {
        if (fd < 0 || fd > 2) {
            return -Errno.EBADF;
        }
        // struct stat of asm-generic (128 bytes): a character device, like a terminal or /dev/null.
        byte[] st = new byte[128];
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(st).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(16, 0020000 | 0620);
        b.putInt(20, 1);
        b.putInt(56, 4096);
        mm.write(statbuf, st);
        return 0;
    }

    private static long rlimit(MemoryManager mm, int resource, long addr) {
        long inf = -1L;
        long cur = inf;
        long max = inf;
        if (resource == 3) { // RLIMIT_STACK
            cur = ElfLoader.STACK_BYTES;
        } else if (resource == 7) { // RLIMIT_NOFILE
            cur = 1024;
            max = 4096;
        }
        mm.store64(addr, cur);
        mm.store64(addr + 8, max);
        return 0;
    }

    private static long uname(MemoryManager mm, long addr) {
        String[] fields = {"Linux", "pagehop", "6.18.0-pagehop", "#1 SMP PREEMPT", "aarch64", "(none)"};
        byte[] buf = new byte[65 * fields.length];
        for (int i = 0; i < fields.length; i++) {
            byte[] f = fields[i].getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(f, 0, buf, 65 * i, f.length);
        }
        mm.write(addr, buf);
        return 0;
    }

}
