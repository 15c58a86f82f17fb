/*
 * libc_scanf.c -- sscanf and vsscanf, run natively and on tvm by
 * engine/tests/libc_differential.rs, which compares the output.
 *
 *   libc_scanf T F S ...   for each triple: the targets' types T, format F
 *                          (hex), input S (hex)
 *
 * Each conversion that assigns gets the next of eight 200-byte slots
 * (filled with 0xAA before the call); T says, per slot, how many bytes to
 * print after the call: 1, 2, 4 or 8 for the integer sizes (long, size_t
 * and pointers are 4 bytes on tvm: the low 4 bytes of the host's 8 are
 * printed), s for a string (up to its NUL), c1..c9 for chars.  The driver
 * prints sscanf's return value and the slots, then does the same with
 * vsscanf.
 */
#include <stdarg.h>
#include <string.h>

#include "libc_driver.h"

static unsigned char slot[8][200];

static int v_sscanf(const char *s, const char *fmt, ...) {
    va_list ap;
    int r;
    va_start(ap, fmt);
    r = vsscanf(s, fmt, ap);
    va_end(ap);
    return r;
}

static void show(const char *types) {
    int k = 0;
    const char *t = types;
    while (*t != 0 && k < 8) {
        int n;
        if (*t == 's') {
            n = 0;
            while (n < 199 && slot[k][n] != 0 && slot[k][n] != 0xAA)
                n++;
            n++;
            t++;
        } else if (*t == 'c') {
            n = t[1] - '0';
            t += 2;
        } else {
            n = *t - '0';
            t++;
        }
        printf(" ");
        dump(slot[k], n);
        k++;
    }
    printf("\n");
}

#define SLOTS slot[0], slot[1], slot[2], slot[3], slot[4], slot[5], slot[6], slot[7]

int main(int argc, char **argv) {
    static char fmt[600], in[600];
    int i, r;
    for (i = 1; i + 2 < argc; i += 3) {
        unhex(argv[i + 1], fmt);
        unhex(argv[i + 2], in);
        memset(slot, 0xAA, sizeof slot);
        r = sscanf(in, fmt, SLOTS);
        printf("%d", r);
        show(argv[i]);
        memset(slot, 0xAA, sizeof slot);
        r = v_sscanf(in, fmt, SLOTS);
        printf("%d", r);
        show(argv[i]);
    }
    return 0;
}
