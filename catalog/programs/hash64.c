/*
 * hash64.c -- 64-bit integer arithmetic: FNV-1a 64 of two strings, the
 * first output of splitmix64 and of xorshift64*, each printed in decimal
 * (%llu) and hex (%016llx, %#llx, %016llX), the hashes reinterpreted as
 * signed (%lld, %+lld), and the extremes of the 64-bit types.
 *
 * Needs i64 (xor, multiply, shifts, add) and printf's ll conversions.
 * Short strings and few outputs keep it quick on the machine, where 64-bit
 * xor and multiply are routines.
 */
#include <stdio.h>

typedef unsigned long long u64;
typedef long long i64;

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

/* FNV-1a: for each byte, xor it in, then multiply by the prime. */
static u64 fnv1a(const char *s) {
    u64 h = FNV_OFFSET;
    while (*s) {
        h ^= (unsigned char)*s++;
        h *= FNV_PRIME;
    }
    return h;
}

/* splitmix64 (Steele, Lea, Flood): a Weyl sequence through a mixer. */
static u64 splitmix_state;

static u64 splitmix64(void) {
    u64 z = (splitmix_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* xorshift64* (Vigna): three xorshifts, then a multiply. */
static u64 xorshift_state;

static u64 xorshift64star(void) {
    u64 x = xorshift_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    xorshift_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

int main(void) {
    static const char *const words[2] = {"", "tvm"};
    u64 h[2];
    u64 r;
    int i;

    for (i = 0; i < 2; i++) {
        h[i] = fnv1a(words[i]);
        printf("fnv1a64(\"%s\") = %llu = %016llx\n", words[i], h[i], h[i]);
    }
    /* The same bits as signed numbers: a high bit makes one negative. */
    printf("as signed: %lld %+lld\n", (i64)h[0], (i64)h[1]);

    splitmix_state = 0;
    r = splitmix64();
    printf("splitmix64 #1 = %llu = %#llx\n", r, r);

    xorshift_state = 1;
    r = xorshift64star();
    printf("xorshift64* #1 = %llu = %016llX\n", r, r);

    printf("extremes: %llu %lld\n", ~0ull, -(i64)(~0ull >> 1) - 1);
    return 0;
}
