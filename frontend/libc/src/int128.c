/*
 * int128.c -- the compiler helpers clang calls for 128-bit integers on
 * wasm32 (there is no compiler-rt in a tvm build):
 *
 *   __multi3   a * b            (low 128 bits; signed and unsigned alike)
 *   __udivti3  a / b  unsigned  __umodti3  a % b  unsigned
 *   __divti3   a / b  signed    __modti3   a % b  signed (sign of a)
 *   __ashlti3  a << n           __lshrti3  a >> n logical
 *   __ashrti3  a >> n arithmetic                      (0 <= n < 128)
 *
 * They are reached by C such as `(unsigned __int128)a * b % m` with 64-bit
 * a, b, m (the usual mulmod), or any `__int128` multiply, divide or
 * variable shift.  64-bit `*`, `/`, `%` and shifts are single wasm
 * instructions (i64.mul, i64.div_u, ...) and need no helper.
 *
 * ABI (wasm32, as clang emits it): a `__int128` argument is passed as two
 * i64 values (low half first) and a `__int128` result is returned through
 * a pointer passed as a hidden first argument.  Defining the helpers in C
 * with `__int128` parameters and results yields exactly that ABI, so the
 * functions below only use `__int128` at their boundary and compute over
 * 64-bit halves: no `__int128` multiply, divide or variable shift appears
 * inside (it would call the helper itself).
 *
 * Cost: multiplication is four 32x32->64 products (plus two 64-bit products
 * when a high half is non-zero); division is restoring shift-subtract with
 * additions and compares only, 64 steps when the quotient fits in 64 bits
 * (always when the divisor does not fit in 64 bits, and for mulmod) and
 * 128 at most.  Division by zero traps (`unreachable`); INT128_MIN / -1
 * wraps to INT128_MIN (both are undefined behaviour in C).
 *
 * The differential test engine/tests/int128_helpers.rs compiles this file
 * with the host C compiler (the helpers renamed with -D) and compares every
 * helper with the host's native `__int128` operators.
 */

typedef unsigned long long tvm_u64;
typedef long long tvm_i64;
typedef unsigned int tvm_u32;
typedef unsigned __int128 tvm_u128;
typedef __int128 tvm_i128;

_Static_assert(sizeof(tvm_u64) == 8 && sizeof(tvm_u32) == 4, "word sizes");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "the halves below are laid out little-endian");

/* A 128-bit value as its two 64-bit halves. */
typedef struct {
    tvm_u64 lo;
    tvm_u64 hi;
} tvm_pair;

typedef union {
    tvm_u128 whole;
    tvm_pair half;
} tvm_split;

static inline tvm_pair tvm_halves(tvm_u128 v) {
    tvm_split s;
    s.whole = v;
    return s.half;
}

static inline tvm_u128 tvm_join(tvm_pair p) {
    tvm_split s;
    s.half = p;
    return s.whole;
}

/* No unrolling or vectorising of the loops below (clang; the host test
 * build may use another compiler). */
#ifdef __clang__
#define TVM_LOOP                                                              \
    _Pragma("clang loop unroll(disable) vectorize(disable) interleave(disable)")
#else
#define TVM_LOOP
#endif

/* Hide a value from the optimiser (an empty volatile asm statement), so
 * that clang keeps additions and compares instead of rewriting them into
 * shifts, masks and selects, which cost more on the tvm machine. */
static inline tvm_u64 tvm_opaque64(tvm_u64 x) {
    __asm__ volatile("" : "+r"(x));
    return x;
}

static inline tvm_u32 tvm_opaque32(tvm_u32 x) {
    __asm__ volatile("" : "+r"(x));
    return x;
}

/* Bit 63.  Loaded through tvm_opaque64 once per loop, so that "x >= top"
 * stays one unsigned compare instead of becoming a shift by 63. */
#define TVM_TOP_BIT 0x8000000000000000ull

/* a - b modulo 2^128. */
static inline tvm_pair tvm_sub(tvm_pair a, tvm_pair b) {
    tvm_pair r;
    r.lo = a.lo - b.lo;
    r.hi = a.hi - b.hi - (a.lo < b.lo);
    return r;
}

/* -v modulo 2^128. */
static inline tvm_pair tvm_negate(tvm_pair v) {
    tvm_pair r;
    r.lo = 0 - v.lo;
    r.hi = 0 - v.hi - (v.lo != 0);
    return r;
}

/* a >= b, unsigned. */
static inline int tvm_ge(tvm_pair a, tvm_pair b) {
    if (a.hi != b.hi)
        return a.hi > b.hi;
    return tvm_opaque64(a.lo) >= b.lo;
}

/* The low half of x, zero-extended.  Through tvm_opaque32, so that it
 * stays a wrap and an extension (which move words) instead of becoming an
 * AND with 0xffffffff (a routine on the machine). */
static inline tvm_u64 tvm_low32(tvm_u64 x) { return tvm_opaque32((tvm_u32)x); }

/*
 * The full 128-bit product of two 64-bit values, from four 32x32->64
 * products of zero-extended halves (none of which can overflow 64 bits).
 */
static tvm_pair tvm_mul_wide(tvm_u64 a, tvm_u64 b) {
    tvm_u64 a0 = tvm_low32(a), a1 = tvm_low32(a >> 32);
    tvm_u64 b0 = tvm_low32(b), b1 = tvm_low32(b >> 32);
    tvm_u64 p00 = a0 * b0;
    tvm_u64 p01 = a0 * b1;
    tvm_u64 p10 = a1 * b0;
    tvm_u64 p11 = a1 * b1;
    /* Bits 32..95 of the product: at most 3 * (2^32 - 1), no overflow. */
    tvm_u64 mid = (p00 >> 32) + tvm_low32(p01) + tvm_low32(p10);
    tvm_pair r;
    /* Opaque: with the bits known disjoint, clang would make this + an
     * OR (a routine on the machine). */
    r.lo = tvm_opaque64(mid << 32) + tvm_low32(p00);
    r.hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return r;
}

tvm_i128 __multi3(tvm_i128 a, tvm_i128 b) {
    tvm_pair x = tvm_halves((tvm_u128)a);
    tvm_pair y = tvm_halves((tvm_u128)b);
    tvm_pair r = tvm_mul_wide(x.lo, y.lo);
    /* The cross terms only reach the high half (modulo 2^64); the product
     * of the high halves lies entirely above bit 127. */
    if (y.hi != 0)
        r.hi += x.lo * y.hi;
    if (x.hi != 0)
        r.hi += x.hi * y.lo;
    return (tvm_i128)tvm_join(r);
}

/*
 * Divides the 128-bit value (r:n) by the 64-bit d, given r < d (so the
 * quotient fits in 64 bits).  Restoring division, one quotient bit per
 * step: the remainder doubles and takes in the next bit of n, which shifts
 * left as the quotient enters it from below.  The doubled remainder can
 * exceed 64 bits (`carry`); then it is certainly >= d, and the subtraction
 * modulo 2^64 gives the true remainder, which is < d again.
 */
static tvm_u64 tvm_div_64(tvm_u64 r, tvm_u64 n, tvm_u64 d, tvm_u64 *rem) {
    tvm_u64 top = tvm_opaque64(TVM_TOP_BIT);
    int i;
    TVM_LOOP
    for (i = 0; i < 64; i++) {
        tvm_u32 carry = r >= top;
        tvm_u32 bit = n >= top;
        n = tvm_opaque64(n) + n;
        r = tvm_opaque64(r) + r + bit;
        if (carry != 0) {
            r -= d;
            n += 1;
        } else if (tvm_opaque64(r) >= d) {
            r -= d;
            n += 1;
        }
    }
    *rem = r;
    return n;
}

/*
 * The same for a divisor d >= 2^64 and a dividend n >= d: the quotient is
 * below 2^64, so the remainder starts as the high half of n and takes in
 * the 64 bits of the low half; the remainder is 128 bits wide.
 */
static tvm_u64 tvm_div_128(tvm_pair n, tvm_pair d, tvm_pair *rem) {
    tvm_pair r;
    tvm_u64 q = n.lo;
    tvm_u64 top = tvm_opaque64(TVM_TOP_BIT);
    int i;
    r.hi = 0;
    r.lo = n.hi;
    TVM_LOOP
    for (i = 0; i < 64; i++) {
        tvm_u32 carry = r.hi >= top;
        tvm_u32 mid = r.lo >= top;
        tvm_u32 bit = q >= top;
        q = tvm_opaque64(q) + q;
        r.hi = tvm_opaque64(r.hi) + r.hi + mid;
        r.lo = tvm_opaque64(r.lo) + r.lo + bit;
        if (carry == 0) {
            if (!tvm_ge(r, d))
                continue;
        }
        r = tvm_sub(r, d);
        q += 1;
    }
    *rem = r;
    return q;
}

/* Unsigned n / d and n % d; traps when d is 0. */
static tvm_pair tvm_udivmod(tvm_pair n, tvm_pair d, tvm_pair *rem) {
    tvm_pair q;
    if (d.hi == 0) {
        tvm_u64 r;
        if (d.lo == 0)
            __builtin_trap();
        if (n.hi < d.lo) {
            q.hi = 0;
            if (n.hi == 0 && n.lo < d.lo) {
                q.lo = 0;
                r = n.lo;
            } else {
                q.lo = tvm_div_64(n.hi, n.lo, d.lo, &r);
            }
        } else {
            /* Long division by 64-bit digits: the high digit, then the
             * low digit with the high digit's remainder on top. */
            tvm_u64 r1;
            q.hi = tvm_div_64(0, n.hi, d.lo, &r1);
            q.lo = tvm_div_64(r1, n.lo, d.lo, &r);
        }
        rem->hi = 0;
        rem->lo = r;
        return q;
    }
    if (!tvm_ge(n, d)) {
        q.hi = 0;
        q.lo = 0;
        *rem = n;
        return q;
    }
    q.hi = 0;
    q.lo = tvm_div_128(n, d, rem);
    return q;
}

tvm_u128 __udivti3(tvm_u128 a, tvm_u128 b) {
    tvm_pair r;
    return tvm_join(tvm_udivmod(tvm_halves(a), tvm_halves(b), &r));
}

tvm_u128 __umodti3(tvm_u128 a, tvm_u128 b) {
    tvm_pair r;
    tvm_udivmod(tvm_halves(a), tvm_halves(b), &r);
    return tvm_join(r);
}

/* |v| as an unsigned pair (INT128_MIN maps to 2^127) and whether v < 0. */
static inline tvm_pair tvm_magnitude(tvm_i128 v, int *negative) {
    tvm_pair p = tvm_halves((tvm_u128)v);
    *negative = (tvm_i64)p.hi < 0;
    return *negative ? tvm_negate(p) : p;
}

tvm_i128 __divti3(tvm_i128 a, tvm_i128 b) {
    int na, nb;
    tvm_pair x = tvm_magnitude(a, &na);
    tvm_pair y = tvm_magnitude(b, &nb);
    tvm_pair r;
    tvm_pair q = tvm_udivmod(x, y, &r);
    /* Truncation toward zero: negative exactly when the signs differ. */
    if (na != nb)
        q = tvm_negate(q);
    return (tvm_i128)tvm_join(q);
}

tvm_i128 __modti3(tvm_i128 a, tvm_i128 b) {
    int na, nb;
    tvm_pair x = tvm_magnitude(a, &na);
    tvm_pair y = tvm_magnitude(b, &nb);
    tvm_pair r;
    tvm_udivmod(x, y, &r);
    /* The remainder takes the sign of the dividend. */
    if (na)
        r = tvm_negate(r);
    return (tvm_i128)tvm_join(r);
}

/* Shifts: the count is in 0..127 (anything else is undefined in C).  A
 * count of 0 returns the value unchanged, so no 64-bit shift by 64 (which
 * wasm would take modulo 64) is ever needed. */

tvm_i128 __ashlti3(tvm_i128 a, int n) {
    tvm_pair v = tvm_halves((tvm_u128)a);
    tvm_pair r;
    if (n == 0)
        return a;
    if (n >= 64) {
        r.hi = v.lo << (n - 64);
        r.lo = 0;
    } else {
        r.hi = (v.hi << n) + (v.lo >> (64 - n));
        r.lo = v.lo << n;
    }
    return (tvm_i128)tvm_join(r);
}

tvm_i128 __lshrti3(tvm_i128 a, int n) {
    tvm_pair v = tvm_halves((tvm_u128)a);
    tvm_pair r;
    if (n == 0)
        return a;
    if (n >= 64) {
        r.lo = v.hi >> (n - 64);
        r.hi = 0;
    } else {
        r.lo = (v.lo >> n) + (v.hi << (64 - n));
        r.hi = v.hi >> n;
    }
    return (tvm_i128)tvm_join(r);
}

tvm_i128 __ashrti3(tvm_i128 a, int n) {
    tvm_pair v = tvm_halves((tvm_u128)a);
    tvm_pair r;
    if (n == 0)
        return a;
    if (n >= 64) {
        r.lo = (tvm_u64)((tvm_i64)v.hi >> (n - 64));
        r.hi = (tvm_u64)((tvm_i64)v.hi >> 63);
    } else {
        r.lo = (v.lo >> n) + (v.hi << (64 - n));
        r.hi = (tvm_u64)((tvm_i64)v.hi >> n);
    }
    return (tvm_i128)tvm_join(r);
}
