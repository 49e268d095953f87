/*
 * Hash-table workload: open addressing with linear probing and tombstones, string keys built
 * with snprintf, inserts, lookups, deletes and a resize. Usage: hashtable [operations].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    char *key;
    uint64_t value;
    int state; /* 0 empty, 1 used, 2 deleted */
};

static struct entry *table;
static size_t capacity, used;

static uint64_t hash(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    while (*s) {
        h = (h ^ (unsigned char) *s++) * 1099511628211ULL;
    }
    return h;
}

static void put(char *key, uint64_t value);

static void grow(void) {
    struct entry *old = table;
    size_t oldcap = capacity;
    capacity = capacity ? capacity * 2 : 64;
    table = calloc(capacity, sizeof(struct entry));
    used = 0;
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].state == 1) {
            put(old[i].key, old[i].value);
        } else if (old[i].state == 2) {
            free(old[i].key);
        }
    }
    free(old);
}

static void put(char *key, uint64_t value) {
    if ((used + 1) * 4 > capacity * 3) {
        grow();
    }
    size_t i = hash(key) & (capacity - 1);
    while (table[i].state == 1) {
        if (strcmp(table[i].key, key) == 0) {
            table[i].value = value;
            free(key);
            return;
        }
        i = (i + 1) & (capacity - 1);
    }
    if (table[i].state == 2) {
        free(table[i].key);
    } else {
        used++;
    }
    table[i].key = key;
    table[i].value = value;
    table[i].state = 1;
}

static struct entry *find(const char *key) {
    if (capacity == 0) {
        return NULL;
    }
    size_t i = hash(key) & (capacity - 1);
    while (table[i].state != 0) {
        if (table[i].state == 1 && strcmp(table[i].key, key) == 0) {
            return &table[i];
        }
        i = (i + 1) & (capacity - 1);
    }
    return NULL;
}

int main(int argc, char **argv) {
    long ops = argc > 1 ? atol(argv[1]) : 50000;
    uint64_t x = 88172645463325252ULL, checksum = 0;
    long hits = 0, deletes = 0;
    char buf[48];
    for (long n = 0; n < ops; n++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        snprintf(buf, sizeof buf, "key-%llu", (unsigned long long) (x % (ops / 2 + 1)));
        switch (x % 4) {
        case 0:
        case 1:
            put(strdup(buf), x);
            break;
        case 2: {
            struct entry *e = find(buf);
            if (e) {
                hits++;
                checksum += e->value ^ strlen(e->key);
            }
            break;
        }
        default: {
            struct entry *e = find(buf);
            if (e) {
                e->state = 2;
                deletes++;
            }
        }
        }
    }
    size_t live = 0;
    for (size_t i = 0; i < capacity; i++) {
        if (table[i].state == 1) {
            live++;
            checksum = checksum * 31 + hash(table[i].key) + table[i].value;
        }
    }
    printf("ops=%ld hits=%ld deletes=%ld live=%zu capacity=%zu checksum=%016llx\n", ops, hits, deletes, live,
           capacity, (unsigned long long) checksum);
    return 0;
}
