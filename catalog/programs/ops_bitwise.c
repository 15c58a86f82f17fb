/*
 * ops_bitwise.c -- the lowered bitwise operations: and, or, xor, shl,
 * shr_s, shr_u, rotl, rotr, clz, ctz, popcnt, printed in hex.
 *
 * Operands come from volatile arrays so nothing is constant-folded.  Shift
 * counts include 0, 31, 32 and larger: C only defines counts below 32, so
 * the count is written `n & 31`, which is exactly wasm's own rule (clang
 * drops the mask, so the wasm shifts really see counts >= 32).  Right
 * shifts of negative ints are arithmetic with both gcc and clang.
 * Rotations use the portable `(x << n) | (x >> ((32 - n) & 31))` idiom,
 * which clang turns into i32.rotl / i32.rotr.  clz and ctz are only
 * defined for non-zero arguments.
 */
#include <stdio.h>

static volatile unsigned values[] = {
    0x00000000u, 0xffffffffu, 0x80000000u, 0x7fffffffu,
    0x12345678u, 0xdeadbeefu, 0x00000001u, 0x0f0f00f0u,
};

/* Index pairs into values[] for and/or/xor. */
static volatile int logic_pairs[][2] = {
    {0, 1}, {1, 1}, {2, 3}, {4, 5}, {5, 7}, {6, 1},
};

#define NPAIRS ((int)(sizeof logic_pairs / sizeof logic_pairs[0]))

/* Values shifted by every count. */
static volatile unsigned shifted[] = {0x80000001u, 0x6db7d6efu};

#define NVALUES ((int)(sizeof values / sizeof values[0]))

static volatile int counts[] = {0, 1, 31, 32, -1};

#define NCOUNTS ((int)(sizeof counts / sizeof counts[0]))

#define NOINLINE __attribute__((noinline))
NOINLINE static unsigned rotl(unsigned x, int n) {
    return (x << (n & 31)) | (x >> ((32 - n) & 31));
}
NOINLINE static unsigned rotr(unsigned x, int n) {
    return (x >> (n & 31)) | (x << ((32 - n) & 31));
}

int main(void) {
    int i, j;

    printf("a        b        and      or       xor\n");
    for (i = 0; i < NPAIRS; i++) {
        unsigned a = values[logic_pairs[i][0]];
        unsigned b = values[logic_pairs[i][1]];
        printf("%08x %08x %08x %08x %08x\n", a, b, a & b, a | b, a ^ b);
    }

    printf("x        n   shl      shr_s    shr_u    rotl     rotr\n");
    for (i = 0; i < 2; i++) {
        for (j = 0; j < NCOUNTS; j++) {
            unsigned x = shifted[i];
            int n = counts[j];
            printf("%08x %3d %08x %08x %08x %08x %08x\n", x, n, x << (n & 31),
                   (unsigned)((int)x >> (n & 31)), x >> (n & 31), rotl(x, n), rotr(x, n));
        }
    }

    printf("x        clz ctz popcnt\n");
    for (i = 0; i < NVALUES; i++) {
        unsigned x = values[i];
        if (x != 0)
            printf("%08x %3d %3d %3d\n", x, __builtin_clz(x), __builtin_ctz(x),
                   __builtin_popcount(x));
        else /* (x is not passed: two known-zero arguments would be merged
              * into one 64-bit store by clang) */
            printf("00000000   -   - %3d\n", __builtin_popcount(x));
    }
    return 0;
}
