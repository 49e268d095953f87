/*
 * Differential workload: integer and floating-point operations on edge values, 128-bit
 * multiplies, bit tricks, atomics, and glibc's string and memory functions (its SIMD variants)
 * on every alignment. Prints one line per group; the test compares it with qemu-aarch64's.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int64_t edges[] = {0, 1, -1, 2, -2, 7, -7, 255, 256, 65535, 65536, INT32_MAX, INT32_MIN,
                                (int64_t) UINT32_MAX, INT64_MAX, INT64_MIN, 0x5555555555555555LL,
                                0x0123456789abcdefLL};
#define N (sizeof edges / sizeof edges[0])

static uint64_t h = 1469598103934665603ULL;
static void mixin(uint64_t v) {
    h = (h ^ v) * 1099511628211ULL;
}

__attribute__((noinline)) static void integer_ops(void) {
    for (unsigned i = 0; i < N; i++) {
        for (unsigned j = 0; j < N; j++) {
            int64_t a = edges[i], b = edges[j];
            uint64_t ua = (uint64_t) a, ub = (uint64_t) b;
            int32_t wa = (int32_t) a, wb = (int32_t) b;
            mixin(ua + ub);
            mixin(ua - ub);
            mixin(ua * ub);
            mixin(b != 0 && !(a == INT64_MIN && b == -1) ? (uint64_t) (a / b) : 1);
            mixin(b != 0 && !(a == INT64_MIN && b == -1) ? (uint64_t) (a % b) : 2);
            mixin(ub != 0 ? ua / ub : 3);
            mixin(ub != 0 ? ua % ub : 4);
            mixin((uint64_t) ((unsigned __int128) ua * ub >> 64));
            mixin((uint64_t) ((__int128) a * b >> 64));
            mixin(ua << (ub & 63));
            mixin(ua >> (ub & 63));
            mixin((uint64_t) (a >> (ub & 63)));
            mixin((ua >> (ub & 63)) | (ua << ((64 - (ub & 63)) & 63)));
            mixin((uint32_t) (wa + wb));
            mixin((uint32_t) ((uint32_t) wa * (uint32_t) wb));
            mixin(wb != 0 && !(wa == INT32_MIN && wb == -1) ? (uint32_t) (wa / wb) : 5);
            mixin((uint32_t) wa >> (wb & 31));
            mixin((uint32_t) (wa >> (wb & 31)));
            mixin(a < b);
            mixin(ua < ub);
            mixin(wa <= wb);
            mixin(a == b ? ua : ub + 1);
            int64_t r;
            mixin(__builtin_add_overflow(a, b, &r));
            mixin((uint64_t) r);
            mixin(__builtin_mul_overflow(a, b, &r));
            mixin((uint64_t) r);
            mixin((uint64_t) (int8_t) a + (uint64_t) (uint16_t) b + (uint64_t) (int16_t) a);
            mixin((ua & 0xff00ff) | ((ub >> 3) & ~0xff00ffULL));
        }
        uint64_t ua = (uint64_t) edges[i];
        mixin(ua ? (uint64_t) __builtin_clzll(ua) : 64);
        mixin(ua ? (uint64_t) __builtin_ctzll(ua) : 64);
        mixin((uint64_t) __builtin_popcountll(ua));
        mixin(__builtin_bswap64(ua));
        mixin(__builtin_bswap32((uint32_t) ua));
        mixin(__builtin_bswap16((uint16_t) ua));
        mixin((uint64_t) __builtin_clrsbll((long long) ua));
    }
    printf("integer %016llx\n", (unsigned long long) h);
}

__attribute__((noinline)) static void float_ops(void) {
    static const double ds[] = {0.0, -0.0, 1.0, -1.5, 2.5, 3.5, 1e300, -1e-300, 123456789.987654321, 0.1,
                                9.2e18, -9.3e18, 4294967296.5};
    h = 0;
    for (unsigned i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        for (unsigned j = 0; j < sizeof ds / sizeof ds[0]; j++) {
            double a = ds[i], b = ds[j];
            double s = a + b, d = a - b, m = a * b, q = b != 0 ? a / b : 0;
            uint64_t bits;
            memcpy(&bits, &s, 8);
            mixin(bits);
            memcpy(&bits, &d, 8);
            mixin(bits);
            memcpy(&bits, &m, 8);
            mixin(bits);
            memcpy(&bits, &q, 8);
            mixin(bits);
            mixin(a < b);
            mixin(a == b);
            float fa = (float) a, fb = (float) b, fs = fa * fb + fa;
            uint32_t fbits;
            memcpy(&fbits, &fs, 4);
            mixin(fbits);
            mixin((uint64_t) fma(a, b, 1.0) == 0);
        }
        double a = ds[i];
        mixin((uint64_t) (int64_t) (a > 9e18 || a < -9e18 ? 0 : a));
        mixin((uint64_t) (int32_t) (a > 2e9 || a < -2e9 ? 0 : a));
        mixin((uint64_t) (a >= 0 && a < 1.8e19 ? (uint64_t) a : 7));
        double r = sqrt(fabs(a));
        uint64_t bits;
        memcpy(&bits, &r, 8);
        mixin(bits);
        mixin((uint64_t) (int64_t) floor(a > 9e18 || a < -9e18 ? 0 : a));
        mixin((uint64_t) (int64_t) round(a > 9e18 || a < -9e18 ? 0 : a));
    }
    for (int64_t k = -5; k < 5; k++) {
        double d = (double) (k * 1000003);
        float f = (float) (uint64_t) (k * 977);
        uint64_t bits;
        memcpy(&bits, &d, 8);
        mixin(bits);
        uint32_t fb;
        memcpy(&fb, &f, 4);
        mixin(fb);
    }
    printf("float %016llx\n", (unsigned long long) h);
}

__attribute__((noinline)) static void string_ops(void) {
    static char buf[512], dst[512];
    h = 0;
    for (int i = 0; i < 512; i++) {
        buf[i] = (char) ('a' + (i * 7) % 26);
    }
    for (int off = 0; off < 33; off++) {
        for (int len = 0; len < 100; len += 3) {
            char save = buf[off + len];
            buf[off + len] = 0;
            mixin(strlen(buf + off));
            mixin(strnlen(buf + off, (size_t) len / 2));
            char *c = strchr(buf + off, 'q');
            mixin(c ? (uint64_t) (c - buf) : 999);
            c = strrchr(buf + off, 'e');
            mixin(c ? (uint64_t) (c - buf) : 998);
            c = memchr(buf + off, 'z', (size_t) len);
            mixin(c ? (uint64_t) (c - buf) : 997);
            memset(dst, 0x5a, sizeof dst);
            memcpy(dst + (off & 15), buf + off, (size_t) len);
            mixin((uint64_t) memcmp(dst + (off & 15), buf + off, (size_t) len));
            strcpy(dst + 3, buf + off);
            mixin((uint64_t) (int64_t) strcmp(dst + 3, buf + off));
            mixin((uint64_t) (int64_t) strncmp(dst + 3, "hov", 3));
            memmove(dst + 1, dst + 5, (size_t) len);
            memmove(dst + 9, dst + 2, (size_t) len);
            for (int k = 0; k < 128; k++) {
                mixin((unsigned char) dst[k]);
            }
            buf[off + len] = save;
        }
    }
    memset(dst, 0, sizeof dst);
    memset(dst + 7, 0xff, 300);
    for (int k = 0; k < 512; k++) {
        mixin((unsigned char) dst[k]);
    }
    printf("string %016llx\n", (unsigned long long) h);
}

static int cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

__attribute__((noinline)) static void library_ops(void) {
    int64_t v[200];
    uint64_t s = 1;
    for (int i = 0; i < 200; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        v[i] = (int64_t) s >> (s & 31);
    }
    qsort(v, 200, sizeof v[0], cmp);
    h = 0;
    for (int i = 0; i < 200; i++) {
        mixin((uint64_t) v[i]);
    }
    char out[256];
    snprintf(out, sizeof out, "%d %ld %x %o %s %c %5.2f %e %g", -42, 1234567890123L, 0xbeef, 0755, "str", 'Z',
             3.14159, 6.02e23, 1e-5);
    printf("library %016llx %s\n", (unsigned long long) h, out);
    mixin(strtoull("18446744073709551615", NULL, 10));
    mixin((uint64_t) strtol("-0x7fff", NULL, 16));
    mixin((uint64_t) (atof("2.5e3") * 4));
    static uint64_t counter;
    for (int i = 0; i < 1000; i++) {
        __atomic_fetch_add(&counter, (uint64_t) i, __ATOMIC_SEQ_CST);
        uint64_t expected = counter;
        __atomic_compare_exchange_n(&counter, &expected, expected ^ 0xf0, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    }
    mixin(counter);
    printf("atomics %016llx\n", (unsigned long long) h);
}

int main(void) {
    integer_ops();
    float_ops();
    string_ops();
    library_ops();
    return 0;
}
