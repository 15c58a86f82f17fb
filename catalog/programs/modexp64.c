/*
 * modexp64.c -- modular arithmetic with 64-bit moduli: every product goes
 * through unsigned __int128 ((unsigned __int128)a * b % m), so the
 * compiler calls the 128-bit helpers of tvm's libc (__multi3, __umodti3).
 *
 * Computes a^e mod p by square-and-multiply for the Mersenne prime
 * p = 2^61 - 1 and cross-checks a product with the Mersenne reduction
 * (shifts and adds only); multiplies modulo m > 2^63, where (m - 1)^2 = 1;
 * and ends with signed 128-bit division, remainder and shifts (__divti3,
 * __modti3, __ashrti3, __ashlti3, __lshrti3) checked by q * d + r = n.
 *
 * The operands are read from volatile variables, so that the compiler
 * cannot fold the arithmetic away.  On the machine each 128-bit product
 * and remainder is a routine of thousands of steps: the exponents are
 * small.
 */
#include <stdio.h>

typedef unsigned long long u64;
typedef long long i64;
typedef unsigned __int128 u128;
typedef __int128 i128;

#define MERSENNE61 ((1ull << 61) - 1)

static int products;

static u64 mulmod(u64 a, u64 b, u64 m) {
    products++;
    return (u64)((u128)a * b % m);
}

static u64 powmod(u64 a, u64 e, u64 m) {
    u64 r = 1;
    a %= m;
    while (e != 0) {
        if (e & 1)
            r = r == 1 ? a : mulmod(r, a, m);
        e >>= 1;
        if (e != 0)
            a = mulmod(a, a, m);
    }
    return r;
}

/* x mod 2^61 - 1 for x < 2^122: 2^61 = 1, so fold the high bits down. */
static u64 mersenne_reduce(u128 x) {
    u64 r = (u64)(x & MERSENNE61) + (u64)(x >> 61);
    r = (r & MERSENNE61) + (r >> 61);
    return r >= MERSENNE61 ? r - MERSENNE61 : r;
}

/* Opaque operands: the compiler must not fold the arithmetic. */
static volatile u64 base_v = 0x123456789abcdefull;
static volatile u64 modulus_v = 0xfffffffffffffe95ull; /* above 2^63 */
static volatile u64 factor_v = 0xfedcba9876543210ull;
static volatile i64 scale_v = 1000000007;
static volatile i64 divisor_v = -1000003;
static volatile int shift_v = 70;

int main(void) {
    u64 a = base_v;
    u64 m = modulus_v;
    u64 x, y;

    printf("p = 2^61 - 1 = %llu, a = %#llx\n", MERSENNE61, a);
    x = powmod(a, 5, MERSENNE61);
    printf("  a^5 mod p = %llu\n", x);
    y = mulmod(x, a, MERSENNE61);
    printf("  a^6 mod p = %llu (Mersenne reduction: %s)\n", y,
           mersenne_reduce((u128)x * a) == y ? "agrees" : "DISAGREES");

    printf("m = %llu = %#llx\n", m, m);
    x = mulmod(factor_v, a, m);
    printf("  %#llx * a mod m = %llu\n", factor_v, x);
    x = mulmod(m - 1, m - 1, m);
    printf("  (m - 1)^2 mod m = %llu\n", x);
    printf("%d products\n", products);

    {
        i128 n = -(i128)a * scale_v; /* about -2^86 */
        i128 d = divisor_v;
        /* d read again: a separate value, so that the remainder is its own
         * __modti3 call rather than n - q * d */
        i128 q = n / d, r = n % (i128)divisor_v;
        i128 s = n >> shift_v;
        u128 t = (u128)d << shift_v;
        u128 u = (u128)n >> shift_v;
        printf("n = -a * %lld, d = %lld\n", (i64)scale_v, (i64)d);
        printf("  n / d = %lld, n %% d = %lld: q * d + r == n: %s\n", (i64)q,
               (i64)r, q * d + r == n ? "yes" : "NO");
        printf("  n >> 70 = %lld, (unsigned) n >> 70 = %#llx\n", (i64)s,
               (u64)u);
        printf("  d << 70 = %#llx:%016llx\n", (u64)(t >> 64), (u64)t);
    }
    return 0;
}
