/*
 * libc_driver.h -- helpers shared by the libc test drivers (libc_*.c).
 *
 * Each driver is built twice, natively with the host's C library and for
 * tvm with tvm's libc, and run on the same arguments; the tests compare
 * what the two print.  These helpers use no libc function, so that what
 * they do is the same on both sides.  Bytes that arguments cannot carry
 * (NUL aside, anything) travel as hex.
 */
#ifndef LIBC_DRIVER_H
#define LIBC_DRIVER_H

#include <stdio.h>

/* Value of a hex digit, or -1. */
__attribute__((unused)) static int hex_digit(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the hex string `hex` into out (NUL-terminated); returns the byte
 * count.  out must hold strlen(hex) / 2 + 1 bytes. */
__attribute__((unused)) static int unhex(const char *hex, char *out) {
    int n = 0;
    while (hex[0] != 0 && hex[1] != 0) {
        out[n] = (char)(hex_digit(hex[0]) * 16 + hex_digit(hex[1]));
        n++;
        hex += 2;
    }
    out[n] = 0;
    return n;
}

/* A decimal number with an optional sign (no overflow checks). */
__attribute__((unused)) static long long num(const char *s) {
    unsigned long long v = 0;
    int neg = 0;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (unsigned long long)(*s - '0');
        s++;
    }
    return neg ? (long long)(0 - v) : (long long)v;
}

/* Prints n bytes as hex. */
__attribute__((unused)) static void dump(const void *p, int n) {
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = (const unsigned char *)p;
    int i;
    for (i = 0; i < n; i++) {
        putchar(digits[b[i] / 16]);
        putchar(digits[b[i] % 16]);
    }
}

/* -1, 0 or 1. */
__attribute__((unused)) static int sign(long long x) { return x < 0 ? -1 : x > 0 ? 1 : 0; }

#endif /* LIBC_DRIVER_H */
