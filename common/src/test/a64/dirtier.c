/*
 * Memory-heavy workload: dirties a buffer at a steady rate, page by page, round after round,
 * and prints a checksum after each round and at the end. Usage: dirtier [MiB] [rounds].
 * The output depends only on the arguments, so a run migrated mid-way must print the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 8;
    int rounds = argc > 2 ? atoi(argv[2]) : 4;
    /* One line per round as it happens (stdout is a pipe, not a terminal). */
    setvbuf(stdout, NULL, _IOLBF, 0);
    size_t bytes = mib << 20;
    size_t words = bytes / sizeof(uint64_t);
    uint64_t *buf = malloc(bytes);
    if (buf == NULL) {
        fprintf(stderr, "malloc of %zu bytes failed\n", bytes);
        return 1;
    }
    memset(buf, 0, bytes);
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    for (int r = 0; r < rounds; r++) {
        /* Touch one word in every 512-byte block: every page is written each round. */
        for (size_t i = 0; i < words; i += 64) {
            state = mix(state + i);
            size_t j = i + (state & 63);
            buf[j] ^= state;
        }
        uint64_t sum = 0;
        for (size_t i = 0; i < words; i += 8) {
            sum = mix(sum ^ buf[i]) + buf[i + 1];
        }
        printf("round %d checksum %016llx\n", r, (unsigned long long) sum);
    }
    uint64_t total = 0;
    for (size_t i = 0; i < words; i++) {
        total += buf[i] * (i | 1);
    }
    printf("final %016llx\n", (unsigned long long) total);
    free(buf);
    return 0;
}
