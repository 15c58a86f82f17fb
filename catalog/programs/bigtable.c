/* More than one 64 KiB page of memory, through every engine: a 256 KiB
 * open-addressing hash table and a 200,000-byte array, touched sparsely so
 * the run stays short. */
#include <stdio.h>

#define SLOTS 65536u /* 256 KiB of unsigned */
static unsigned table[SLOTS];
static unsigned char spread[200000];

/* Fibonacci hashing: the top 16 bits of k times 2^32 / phi. */
static unsigned hash(unsigned k) { return (k * 2654435769u) >> 16; }

/* Inserts k (nonzero); returns the probes it took. */
static unsigned insert(unsigned k) {
    unsigned i = hash(k), probes = 1;
    while (table[i] != 0 && table[i] != k) {
        i = (i + 1) & (SLOTS - 1);
        probes++;
    }
    table[i] = k;
    return probes;
}

static int contains(unsigned k) {
    unsigned i = hash(k);
    while (table[i] != 0) {
        if (table[i] == k) return 1;
        i = (i + 1) & (SLOTS - 1);
    }
    return 0;
}

int main(void) {
    unsigned x = 12345, probes = 0, found = 0, lowest = 0xffffffffu, highest = 0;
    for (int n = 0; n < 100; n++) {
        x = x * 1103515245u + 12345u;
        unsigned k = x * 2 + 3; /* odd, never 0 */
        probes += insert(k);
        unsigned slot = hash(k);
        if (slot < lowest) lowest = slot;
        if (slot > highest) highest = slot;
    }
    x = 12345;
    for (int n = 0; n < 100; n++) {
        x = x * 1103515245u + 12345u;
        found += contains(x * 2 + 3);
        found += contains(x * 2 + 4); /* even keys were never inserted */
    }
    unsigned sum = 0;
    for (unsigned i = 0; i < sizeof spread; i += 4999) spread[i] = (unsigned char)(i % 251);
    for (unsigned i = 0; i < sizeof spread; i += 4999) sum += spread[i];
    printf("inserted 100 keys with %u probes; found %u of 100\n", probes, found);
    printf("slots used from %u to %u of %u\n", lowest, highest, SLOTS);
    printf("spread: %u bytes touched, sum %u, last %u\n", (unsigned)(sizeof spread / 4999 + 1), sum,
           (unsigned)spread[199960]);
    return 0;
}
