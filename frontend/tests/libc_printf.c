/*
 * libc_printf.c -- the printf family, run natively and on tvm by
 * engine/tests/libc_differential.rs, which compares the output.
 *
 *   libc_printf T F V N ...   for each group: argument types T, format F
 *                             (hex), value V, buffer size N
 *
 * T lists the arguments: a '*' for each int that a `*` width or precision
 * takes (they come from V + 1 and V + 2... as small numbers, see below),
 * then the type of the converted value: i int, l long, m unsigned long,
 * q long long, s string (V is hex), c char, p pointer (from V), n int *
 * (for %n; its value is printed after).  For each group the driver prints
 * snprintf's return value and buffer, sprintf's, vsnprintf's and
 * vsprintf's, then the same through printf.
 *
 * long is 32-bit on tvm and 64-bit on the host: l takes V as a 32-bit int
 * (sign-extended on the host) and m as a 32-bit unsigned (zero-extended),
 * so that %ld, %lu, %lx print the same digits on both.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libc_driver.h"

static char buf[600], buf2[600], buf3[600];

/* vsnprintf, or vsprintf when n is 0 (b is then big enough) */
static int v_snprintf(char *b, size_t n, const char *fmt, ...) {
    va_list ap;
    int r;
    va_start(ap, fmt);
    r = n == 0 ? vsprintf(b, fmt, ap) : vsnprintf(b, n, fmt, ap);
    va_end(ap);
    return r;
}

/* Calls F(b, ...) with the stars and the value of the group. */
#define CALL_ALL(F, ...)                                                      \
    do {                                                                      \
        switch (type) {                                                       \
        case 'i': r = F(__VA_ARGS__, (int)v); break;                          \
        case 'l': r = F(__VA_ARGS__, (long)(int32_t)v); break;                \
        case 'm': r = F(__VA_ARGS__, (unsigned long)(uint32_t)v); break;      \
        case 'q': r = F(__VA_ARGS__, (long long)v); break;                    \
        case 's': r = F(__VA_ARGS__, str); break;                             \
        case 'c': r = F(__VA_ARGS__, (int)v); break;                          \
        case 'p': r = F(__VA_ARGS__, (void *)(uintptr_t)(uint32_t)v); break;  \
        case 'n': r = F(__VA_ARGS__, &count); break;                          \
        default: r = -99; break;                                              \
        }                                                                     \
    } while (0)

#define WITH_STARS(F, ...)                                                    \
    do {                                                                      \
        if (stars == 0)                                                       \
            CALL_ALL(F, __VA_ARGS__);                                         \
        else if (stars == 1)                                                  \
            CALL_ALL(F, __VA_ARGS__, s1);                                     \
        else                                                                  \
            CALL_ALL(F, __VA_ARGS__, s1, s2);                                 \
    } while (0)

int main(int argc, char **argv) {
    static char fmt[600], str[600];
    int i;
    for (i = 1; i + 3 < argc; i += 4) {
        const char *t = argv[i];
        int stars = 0, r, count = -1;
        char type;
        long long v = num(argv[i + 2]);
        size_t n = (size_t)num(argv[i + 3]);
        /* the stars' values: small, some negative (a negative width means
         * '-', a negative precision none) */
        int s1 = (int)(v % 23) - 3, s2 = (int)(v % 17) - 4;
        while (t[stars] == '*')
            stars++;
        type = t[stars];
        unhex(argv[i + 1], fmt);
        if (type == 's')
            unhex(argv[i + 2], str);
        memset(buf, '#', sizeof buf);
        WITH_STARS(snprintf, buf, n, fmt);
        printf("%d [", r);
        dump(buf, n < 590 ? (int)n + 2 : 590);
        if (type == 'n')
            printf("] n=%d", count);
        WITH_STARS(sprintf, buf2, fmt);
        printf("] %d [%s]", r, buf2);
        WITH_STARS(v_snprintf, buf3, sizeof buf3, fmt);
        printf(" %d %d", r, strcmp(buf2, buf3));
        WITH_STARS(v_snprintf, buf3, 0, fmt);
        printf(" %d %d\n", r, strcmp(buf2, buf3));
        WITH_STARS(printf, fmt);
        printf("| %d\n", r);
    }
    return 0;
}
