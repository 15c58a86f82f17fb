/*
 * libc_numbers.c -- stdlib.h numbers, run natively and on tvm by
 * engine/tests/libc_differential.rs, which compares the output.
 *
 *   libc_numbers strto B S ...   for each pair: base B, string S (hex):
 *                                strtol, strtoul, strtoll, strtoull,
 *                                strtoimax, strtoumax (value, end, errno),
 *                                and atoi, atol, atoll
 *   libc_numbers div A B ...     abs, labs, llabs, div, ldiv, lldiv,
 *                                imaxabs, imaxdiv
 *   libc_numbers rand S ...      srand(S), then ten rand()
 *   libc_numbers sort N ...      qsort and bsearch over the numbers
 *
 * long is 32-bit on tvm (wasm32) and 64-bit on the host: the native build
 * takes strtol, strtoul, atoi and atol from a 32-bit model built on the
 * host's strtoll/strtoull (what glibc does with a 32-bit long), and rand
 * from the C standard's example generator (which tvm implements, glibc
 * does not).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libc_driver.h"

#ifdef __wasm__
#define strtol32 strtol
#define strtoul32 strtoul
#define atoi32 atoi
#define atol32 atol
#define std_rand rand
#define std_srand srand
#else
static long strtol32(const char *s, char **end, int base) {
    long long v = strtoll(s, end, base);
    if (v > INT32_MAX) {
        errno = ERANGE;
        return INT32_MAX;
    }
    if (v < INT32_MIN) {
        errno = ERANGE;
        return INT32_MIN;
    }
    return (long)v;
}

static unsigned long strtoul32(const char *s, char **end, int base) {
    unsigned long long v, mag;
    int neg, saved = errno;
    const char *p = s;
    errno = 0;
    v = strtoull(s, end, base);
    if (errno != 0)
        return errno == ERANGE ? 0xffffffffUL : 0;
    errno = saved;
    while (isspace((unsigned char)*p))
        p++;
    neg = *p == '-';
    mag = neg ? 0 - v : v;
    if (mag > 0xffffffffULL) {
        errno = ERANGE;
        return 0xffffffffUL;
    }
    return (uint32_t)(neg ? 0 - (uint32_t)mag : (uint32_t)mag);
}

static int atoi32(const char *s) { return (int)strtol32(s, NULL, 10); }
static long atol32(const char *s) { return strtol32(s, NULL, 10); }

/* The C standard's example generator. */
static unsigned long next = 1;
static int std_rand(void) {
    next = next * 1103515245 + 12345;
    return (unsigned)(next / 65536) % 32768;
}
static void std_srand(unsigned seed) { next = seed; }
#endif

static void check_strto(int base, const char *s) {
    char *end;
    errno = 0;
    long l = strtol32(s, &end, base);
    printf("l %ld %ld %d", l, (long)(end - s), errno);
    errno = 0;
    unsigned long ul = strtoul32(s, &end, base);
    printf(" ul %lu %ld %d", ul, (long)(end - s), errno);
    errno = 0;
    long long ll = strtoll(s, &end, base);
    printf(" ll %lld %ld %d", ll, (long)(end - s), errno);
    errno = 0;
    unsigned long long ull = strtoull(s, &end, base);
    printf(" ull %llu %ld %d", ull, (long)(end - s), errno);
    errno = 0;
    intmax_t im = strtoimax(s, &end, base);
    printf(" im %jd %ld %d", im, (long)(end - s), errno);
    errno = 0;
    uintmax_t um = strtoumax(s, &end, base);
    printf(" um %ju %ld %d", um, (long)(end - s), errno);
    if (base == 10) {
        errno = 0;
        printf(" atoi %d", atoi32(s));
        printf(" atol %ld", atol32(s));
        printf(" atoll %lld", atoll(s));
    }
    printf("\n");
}

static void check_div(long long a, long long b) {
    int ia = (int)a, ib = (int)b;
    if (ia != INT32_MIN) {
        printf("abs %d %ld", abs(ia), (long)labs(ia));
    }
    if (a != INT64_MIN)
        printf(" llabs %lld %jd", llabs(a), imaxabs(a));
    if (ib != 0 && !(ia == INT32_MIN && ib == -1)) {
        div_t d = div(ia, ib);
        ldiv_t ld = ldiv(ia, ib);
        printf(" div %d %d ldiv %ld %ld", d.quot, d.rem, (long)ld.quot, (long)ld.rem);
    }
    if (b != 0 && !(a == INT64_MIN && b == -1)) {
        lldiv_t lld = lldiv(a, b);
        imaxdiv_t imd = imaxdiv(a, b);
        printf(" lldiv %lld %lld imaxdiv %jd %jd", lld.quot, lld.rem, imd.quot, imd.rem);
    }
    printf("\n");
}

static int compare_ints(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

/* An element whose size is not a multiple of 4. */
struct rec {
    char tag[3];
    int key;
    char pad[2];
};

static int compare_recs(const void *a, const void *b) {
    const struct rec *x = (const struct rec *)a, *y = (const struct rec *)b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return memcmp(x->tag, y->tag, 3);
}

static int compare_bytes(const void *a, const void *b) {
    return (int)*(const unsigned char *)a - (int)*(const unsigned char *)b;
}

static void check_sort(int n, char **args) {
    static int v[600], u[600];
    static struct rec r[600];
    static unsigned char bytes[600];
    int i, m, probe;
    for (i = 0; i < n; i++) {
        v[i] = (int)num(args[i]);
        r[i].key = v[i] % 7;
        r[i].tag[0] = (char)('a' + i % 26);
        r[i].tag[1] = (char)('a' + i / 26 % 26);
        r[i].tag[2] = (char)i;
        bytes[i] = (unsigned char)v[i];
    }
    qsort(v, (size_t)n, sizeof v[0], compare_ints);
    printf("ints");
    for (i = 0; i < n; i++)
        printf(" %d", v[i]);
    qsort(r, (size_t)n, sizeof r[0], compare_recs);
    printf("\nrecs");
    for (i = 0; i < n; i++)
        printf(" %d%c%c", r[i].key, r[i].tag[0], r[i].tag[1]);
    qsort(bytes, (size_t)n, 1, compare_bytes);
    printf("\nbytes ");
    dump(bytes, n);
    /* bsearch in the distinct values (any match is right: print values) */
    m = 0;
    for (i = 0; i < n; i++)
        if (m == 0 || u[m - 1] != v[i])
            u[m++] = v[i];
    printf("\nfind");
    for (i = 0; i < n; i++) {
        int *hit = (int *)bsearch(&v[i], u, (size_t)m, sizeof u[0], compare_ints);
        printf(" %d", hit == NULL ? -1 : (int)(hit - u));
    }
    for (probe = -3; probe <= 3; probe++) {
        int key = (m > 0 ? u[(m - 1) / 2] : 0) + probe * 1000 + 1;
        int *hit = (int *)bsearch(&key, u, (size_t)m, sizeof u[0], compare_ints);
        printf(" %s", hit == NULL ? "none" : "hit");
    }
    printf(" %s\n", bsearch(&probe, u, 0, sizeof u[0], compare_ints) == NULL ? "empty" : "?");
}

int main(int argc, char **argv) {
    static char s[2000];
    int i;
    if (argc < 2)
        return 1;
    if (strcmp(argv[1], "strto") == 0) {
        for (i = 2; i + 1 < argc; i += 2) {
            unhex(argv[i + 1], s);
            check_strto((int)num(argv[i]), s);
        }
    } else if (strcmp(argv[1], "div") == 0) {
        for (i = 2; i + 1 < argc; i += 2)
            check_div(num(argv[i]), num(argv[i + 1]));
    } else if (strcmp(argv[1], "rand") == 0) {
        printf("unseeded %d", std_rand());
        printf(" %d\n", std_rand());
        for (i = 2; i < argc; i++) {
            int k;
            std_srand((unsigned)num(argv[i]));
            for (k = 0; k < 10; k++)
                printf(" %d", std_rand());
            printf("\n");
        }
    } else if (strcmp(argv[1], "sort") == 0) {
        check_sort(argc - 2, argv + 2);
    }
    return 0;
}
