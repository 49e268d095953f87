package dev.pagehop.syscall;

/** AArch64 Linux system call numbers (include/uapi/asm-generic/unistd.h) that the guest layer knows. */
final class Syscalls {
    static final int GETCWD = 17;
    static final int FCNTL = 25;
    static final int IOCTL = 29;
    static final int FACCESSAT = 48;
    static final int OPENAT = 56;
    static final int CLOSE = 57;
    static final int LSEEK = 62;
    static final int READ = 63;
    static final int WRITE = 64;
    static final int WRITEV = 66;
    static final int READLINKAT = 78;
    static final int NEWFSTATAT = 79;
    static final int FSTAT = 80;
    static final int EXIT = 93;
    static final int EXIT_GROUP = 94;
    static final int SET_TID_ADDRESS = 96;
    static final int FUTEX = 98;
    static final int SET_ROBUST_LIST = 99;
    static final int NANOSLEEP = 101;
    static final int CLOCK_GETTIME = 113;
    static final int CLOCK_GETRES = 114;
    static final int CLOCK_NANOSLEEP = 115;
    static final int SCHED_GETAFFINITY = 123;
    static final int SCHED_YIELD = 124;
    static final int KILL = 129;
    static final int TKILL = 130;
    static final int TGKILL = 131;
    static final int SIGALTSTACK = 132;
    static final int RT_SIGACTION = 134;
    static final int RT_SIGPROCMASK = 135;
    static final int UNAME = 160;
    static final int GETRLIMIT = 163;
    static final int PRCTL = 167;
    static final int GETTIMEOFDAY = 169;
    static final int GETPID = 172;
    static final int GETPPID = 173;
    static final int GETUID = 174;
    static final int GETEUID = 175;
    static final int GETGID = 176;
    static final int GETEGID = 177;
    static final int GETTID = 178;
    static final int SYSINFO = 179;
    static final int BRK = 214;
    static final int MUNMAP = 215;
    static final int MREMAP = 216;
    static final int CLONE = 220;
    static final int MMAP = 222;
    static final int MPROTECT = 226;
    static final int MADVISE = 233;
    static final int PRLIMIT64 = 261;
    static final int GETRANDOM = 278;
    static final int MEMBARRIER = 283;
    static final int RSEQ = 293;
    static final int CLONE3 = 435;

    private Syscalls() {
    }
}
