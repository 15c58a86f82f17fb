/*
 * ops_mul_div.c -- the lowered multiplicative operations: i32.mul, div_s,
 * div_u, rem_s, rem_u, on edge operands (zero, ±1, INT_MIN, INT_MAX,
 * negative divisors and dividends, results that wrap).
 *
 * Operands come from a volatile array, so nothing is constant-folded.
 * Division by zero and INT_MIN / -1 trap in wasm and are undefined in C,
 * so they are skipped here (the trap programs cover them); INT_MIN / -1 is
 * still exercised unsigned.  C's / and % truncate toward zero, exactly like
 * i32.div_s / i32.rem_s (the remainder takes the dividend's sign).
 */
#include <limits.h>
#include <stdio.h>

static volatile int pairs[][2] = {
    {0, 5},
    {7, 3},
    {-7, 3},
    {7, -3},
    {-7, -3},
    {1, 1},
    {-1, -1},
    {INT_MAX, 2},
    {INT_MIN, 2},
    {INT_MIN, -1},
    {INT_MAX, INT_MAX},
    {INT_MIN, INT_MIN},
    {65536, 65536},
    {0x12345678, 0x100},
    {-1000000, 999},
    {123456789, -10},
    {5, 0},
};

#define COUNT ((int)(sizeof pairs / sizeof pairs[0]))

/* One function per operation: kept out of line so that clang emits each
 * wasm instruction (inlined, `a % b` next to `a / b` becomes a - (a/b)*b). */
#define NOINLINE __attribute__((noinline))
NOINLINE static unsigned mul(unsigned a, unsigned b) { return a * b; }
NOINLINE static int div_s(int a, int b) { return a / b; }
NOINLINE static int rem_s(int a, int b) { return a % b; }
NOINLINE static unsigned div_u(unsigned a, unsigned b) { return a / b; }
NOINLINE static unsigned rem_u(unsigned a, unsigned b) { return a % b; }

int main(void) {
    int i;
    printf("a b: a*b | a/b a%%b (signed) | a/b a%%b (unsigned)\n");
    for (i = 0; i < COUNT; i++) {
        int a = pairs[i][0];
        int b = pairs[i][1];
        unsigned ua = (unsigned)a;
        unsigned ub = (unsigned)b;
        /* Wrapping product: multiply as unsigned. */
        printf("%d %d: %d |", a, b, (int)mul(ua, ub));
        if (b == 0)
            printf(" skipped (division by zero) |");
        else if (a == INT_MIN && b == -1)
            printf(" skipped (overflow) |");
        else
            printf(" %d %d |", div_s(a, b), rem_s(a, b));
        if (b == 0)
            printf(" skipped\n");
        else
            printf(" %u %u\n", div_u(ua, ub), rem_u(ua, ub));
    }
    return 0;
}
