/*
 * Threads: workers created with pthread_create (clone + futex) update a shared counter under a
 * mutex and an atomic sum, each also filling its own slice of an array; main joins and prints.
 * Usage: threads [workers] [iterations].
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t counter;
static uint64_t atomic_sum;
static uint64_t *slots;
static long iterations;

static void *worker(void *arg) {
    long id = (long) arg;
    uint64_t local = 0;
    for (long i = 0; i < iterations; i++) {
        local += (uint64_t) (id + 1) * (uint64_t) i;
        slots[id * iterations + i] = local;
        if (i % 64 == 0) {
            pthread_mutex_lock(&lock);
            counter += id + 1;
            pthread_mutex_unlock(&lock);
        }
        __atomic_fetch_add(&atomic_sum, (uint64_t) i, __ATOMIC_SEQ_CST);
    }
    return (void *) local;
}

int main(int argc, char **argv) {
    int workers = argc > 1 ? atoi(argv[1]) : 4;
    iterations = argc > 2 ? atol(argv[2]) : 20000;
    pthread_t tids[64];
    slots = calloc((size_t) workers * iterations, sizeof(uint64_t));
    for (long w = 0; w < workers; w++) {
        if (pthread_create(&tids[w], NULL, worker, (void *) w) != 0) {
            fprintf(stderr, "pthread_create %ld failed\n", w);
            return 1;
        }
    }
    uint64_t results = 0;
    for (int w = 0; w < workers; w++) {
        void *ret;
        pthread_join(tids[w], &ret);
        results += (uint64_t) ret;
    }
    uint64_t check = 0;
    for (long i = 0; i < workers * iterations; i++) {
        check = check * 1000003 + slots[i];
    }
    printf("workers=%d counter=%llu atomic=%llu results=%llu check=%016llx\n", workers,
           (unsigned long long) counter, (unsigned long long) atomic_sum, (unsigned long long) results,
           (unsigned long long) check);
    return 0;
}
