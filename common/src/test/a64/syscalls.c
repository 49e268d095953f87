/*
 * Exercises the syscall layer and its failure paths; prints one line per check. With an
 * argument it dies instead: "segv" (store to NULL), "ill" (undefined instruction), "abort",
 * "mprotect" (write to a page made read-only).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 1) {
        if (strcmp(argv[1], "segv") == 0) {
            *(volatile int *) 0 = 1;
        } else if (strcmp(argv[1], "ill") == 0) {
            __asm__ volatile(".inst 0x00001234");
        } else if (strcmp(argv[1], "abort") == 0) {
            abort();
        } else if (strcmp(argv[1], "mprotect") == 0) {
            char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            p[0] = 1;
            mprotect(p, 65536, PROT_READ);
            p[1] = 2;
        }
        return 99;
    }
    long r = syscall(999, 1, 2, 3);
    printf("unknown syscall: %ld errno=%d\n", r, errno);
    r = write(77, "x", 1);
    printf("write to fd 77: %ld errno=%d\n", r, errno);
    struct utsname u;
    uname(&u);
    printf("uname: %s %s\n", u.sysname, u.machine);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("realtime: %lld.%09ld\n", (long long) ts.tv_sec, ts.tv_nsec);
    unsigned char rnd[64];
    printf("getrandom: %ld\n", (long) syscall(SYS_getrandom, rnd, sizeof rnd, 0));
    char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(p, 0xAB, 1 << 20);
    printf("mmap 1 MiB: %s, munmap: %d\n", p == MAP_FAILED ? "failed" : "ok", munmap(p, 1 << 20));
    void *bad = mmap((void *) 0x1001, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("mmap unaligned fixed: %s errno=%d\n", bad == MAP_FAILED ? "failed" : "ok", errno);
    void *b0 = sbrk(0);
    sbrk(3 * 4096);
    printf("brk grew by %ld\n", (long) ((char *) sbrk(0) - (char *) b0));
    printf("getpid=%d gettid=%ld\n", getpid(), (long) syscall(SYS_gettid));
    printf("pagesize=%ld\n", sysconf(_SC_PAGESIZE));
    fflush(stdout);
    fprintf(stderr, "to stderr\n");
    return 3;
}
