/*
 * Differential driver for frontend/libc/src/int128.c, built with the host C
 * compiler together with that file compiled with its helpers renamed
 * (-D__multi3=tvm_multi3 ...), so the host's own compiler-rt/libgcc
 * helpers behind the native operators stay untouched.
 *
 * For edge operands (0, +-1, INT128_MIN/MAX, +-2^k, 2^k +- 1, values whose
 * high half is zero or all ones, ...) and pseudo-random ones of every
 * magnitude, it compares each helper with the native __int128 operator and
 * prints one line per helper, "NAME CHECKED MISMATCHES", after up to ten
 * "mismatch ..." lines per helper.  Undefined cases are skipped: division
 * by zero, INT128_MIN / -1 and INT128_MIN % -1, shift counts outside 0..127.
 */
#include <stdio.h>
#include <string.h>

typedef unsigned long long u64;
typedef unsigned __int128 u128;
typedef __int128 i128;

i128 tvm_multi3(i128 a, i128 b);
u128 tvm_udivti3(u128 a, u128 b);
u128 tvm_umodti3(u128 a, u128 b);
i128 tvm_divti3(i128 a, i128 b);
i128 tvm_modti3(i128 a, i128 b);
i128 tvm_ashlti3(i128 a, int n);
i128 tvm_lshrti3(i128 a, int n);
i128 tvm_ashrti3(i128 a, int n);

#define MAX_EDGES 1024
static u128 edges[MAX_EDGES];
static int n_edges;

static u128 make(u64 hi, u64 lo) { return ((u128)hi << 64) | lo; }

static void add_edge(u128 v) {
    if (n_edges < MAX_EDGES)
        edges[n_edges++] = v;
}

static u64 rng_state = 0x9e3779b97f4a7c15ull;

static u64 splitmix(void) {
    u64 z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A random operand of a random shape: full width, below 2^k for a random
 * k (so quotients of every size occur), high half zero, high half all
 * ones, low half zero, or an edge value. */
static u128 random_operand(void) {
    u128 v = make(splitmix(), splitmix());
    switch (splitmix() % 7) {
    case 0:
        return v;
    case 1: {
        int k = (int)(splitmix() % 128);
        return v >> k;
    }
    case 2:
        return make(0, splitmix());
    case 3:
        return make(~0ull, splitmix());
    case 4:
        return make(splitmix(), 0);
    case 5:
        return -(v >> (splitmix() % 128));
    default:
        return edges[splitmix() % (u64)n_edges];
    }
}

struct tally {
    const char *name;
    long checked;
    long mismatches;
};

static void report(struct tally *t, u128 a, u128 b, u128 got, u128 want) {
    t->mismatches++;
    if (t->mismatches <= 10)
        printf("mismatch %s a=%016llx%016llx b=%016llx%016llx got=%016llx%016llx "
               "want=%016llx%016llx\n",
               t->name, (u64)(a >> 64), (u64)a, (u64)(b >> 64), (u64)b,
               (u64)(got >> 64), (u64)got, (u64)(want >> 64), (u64)want);
}

static struct tally t_mul = {"__multi3", 0, 0};
static struct tally t_udiv = {"__udivti3", 0, 0};
static struct tally t_umod = {"__umodti3", 0, 0};
static struct tally t_div = {"__divti3", 0, 0};
static struct tally t_mod = {"__modti3", 0, 0};
static struct tally t_shl = {"__ashlti3", 0, 0};
static struct tally t_lshr = {"__lshrti3", 0, 0};
static struct tally t_ashr = {"__ashrti3", 0, 0};

static const u128 I128_MIN = (u128)1 << 127;

static void check(struct tally *t, u128 a, u128 b, u128 got, u128 want) {
    t->checked++;
    if (got != want)
        report(t, a, b, got, want);
}

static void check_pair(u128 a, u128 b) {
    i128 sa = (i128)a, sb = (i128)b;
    check(&t_mul, a, b, (u128)tvm_multi3(sa, sb), a * b);
    if (b != 0) {
        check(&t_udiv, a, b, tvm_udivti3(a, b), a / b);
        check(&t_umod, a, b, tvm_umodti3(a, b), a % b);
        if (!(a == I128_MIN && sb == -1)) {
            check(&t_div, a, b, (u128)tvm_divti3(sa, sb), (u128)(sa / sb));
            check(&t_mod, a, b, (u128)tvm_modti3(sa, sb), (u128)(sa % sb));
        }
    }
}

static void check_shift(u128 a, int n) {
    i128 sa = (i128)a;
    check(&t_shl, a, (u128)n, (u128)tvm_ashlti3(sa, n), a << n);
    check(&t_lshr, a, (u128)n, (u128)tvm_lshrti3(sa, n), a >> n);
    check(&t_ashr, a, (u128)n, (u128)tvm_ashrti3(sa, n), (u128)(sa >> n));
}

int main(void) {
    int i, j, k;
    u128 one = 1;

    add_edge(0);
    add_edge(1);
    add_edge(2);
    add_edge(3);
    add_edge(7);
    add_edge(10);
    add_edge(~(u128)0);     /* -1 */
    add_edge(~(u128)0 - 1); /* -2 */
    add_edge(I128_MIN);
    add_edge(I128_MIN + 1);
    add_edge(I128_MIN - 1); /* INT128_MAX */
    add_edge(make(0, ~0ull));
    add_edge(make(1, 0));
    add_edge(make(1, ~0ull));
    add_edge(make(~0ull, 0));
    add_edge(make(~0ull, 1ull << 63));
    add_edge(make(0x7fffffffffffffffull, ~0ull));
    add_edge(make(0, 0xffffffffull));
    add_edge(make(0xffffffffull, 0));
    add_edge(make(0, 0x1fffffffffffffffull)); /* a 61-bit modulus shape */
    for (k = 0; k < 128; k++) {
        add_edge(one << k);
        add_edge((one << k) - 1);
        add_edge((one << k) + 1);
        add_edge(-(one << k));
    }

    /* Every pair of edges. */
    for (i = 0; i < n_edges; i++)
        for (j = 0; j < n_edges; j++)
            check_pair(edges[i], edges[j]);
    /* Random pairs of every shape. */
    for (i = 0; i < 200000; i++)
        check_pair(random_operand(), random_operand());
    /* Products of two 64-bit values modulo a 64-bit value (the mulmod
     * shape: a high half below the divisor). */
    for (i = 0; i < 20000; i++) {
        u64 m = splitmix() >> (splitmix() % 64);
        u64 x = splitmix(), y = splitmix();
        if (m == 0)
            m = 1;
        x %= m;
        y %= m;
        check_pair((u128)x * y, m);
    }

    /* Shifts: every count on every edge, and random operands. */
    for (i = 0; i < n_edges; i++)
        for (k = 0; k < 128; k++)
            check_shift(edges[i], k);
    for (i = 0; i < 50000; i++)
        check_shift(random_operand(), (int)(splitmix() % 128));

    {
        struct tally *all[] = {&t_mul, &t_udiv, &t_umod, &t_div,
                               &t_mod, &t_shl,  &t_lshr, &t_ashr};
        for (i = 0; i < 8; i++)
            printf("%s %ld %ld\n", all[i]->name, all[i]->checked,
                   all[i]->mismatches);
    }
    return 0;
}
