/*
 * libc_strings.c -- string.h and ctype.h, run natively and on tvm by
 * engine/tests/libc_differential.rs, which compares the output.
 *
 *   libc_strings ctype            every ctype function on EOF and 0..255
 *   libc_strings A B K ...        for each triple: strings A and B (hex),
 *                                 a small number K; every string function
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "libc_driver.h"

static void check_ctype(void) {
    int c;
    for (c = -1; c < 256; c++) {
        printf("%d:%d%d%d%d%d%d%d%d%d%d%d%d %d %d\n", c, !!isalnum(c), !!isalpha(c),
               !!isblank(c), !!iscntrl(c), !!isdigit(c), !!isgraph(c), !!islower(c),
               !!isprint(c), !!ispunct(c), !!isspace(c), !!isupper(c), !!isxdigit(c),
               tolower(c), toupper(c));
    }
}

/* The offset of p in s, or -1 for NULL. */
static long off(const char *p, const char *s) { return p == NULL ? -1 : (long)(p - s); }

static void check(const char *a, int la, const char *b, int lb, int k) {
    char buf[700], copy[400];
    char *tok, *state, *d;
    int c = (unsigned char)b[0], i, n;
    size_t min = (size_t)(la < lb ? la : lb);

    printf("len %d %d %d %d\n", (int)strlen(a), (int)strnlen(a, (size_t)k), (int)strlen(b),
           (int)strnlen(b, 1000));
    printf("cmp %d %d %d %d %d\n", sign(strcmp(a, b)), sign(strncmp(a, b, (size_t)k)),
           sign(memcmp(a, b, min + 1)), sign(memcmp(a, b, min < (size_t)k ? min : (size_t)k)),
           sign(strcoll(a, b)));
    printf("chr %ld %ld %ld %ld %ld %ld\n", off(strchr(a, c), a), off(strrchr(a, c), a),
           off(memchr(a, c, (size_t)la), a), off(strchr(a, 0), a), off(strchr(a, k + 'a'), a),
           off(strrchr(a, k + 'a'), a));
    printf("chr-wide %ld %ld %ld\n", off(strchr(a, c + 256), a), off(strrchr(a, c - 256), a),
           off(memchr(a, c + 512, (size_t)la), a));
    printf("str %ld %ld %d %d %ld\n", off(strstr(a, b), a), off(strstr(a, b + (lb > 1)), a),
           (int)strspn(a, b), (int)strcspn(a, b), off(strpbrk(a, b), a));

    strcpy(buf, a);
    strcat(buf, b);
    printf("cat ");
    dump(buf, (int)strlen(buf) + 1);
    strcpy(buf, a);
    strncat(buf, b, (size_t)k);
    printf("\nncat ");
    dump(buf, (int)strlen(buf) + 1);
    memset(buf, 'x', sizeof buf);
    d = strncpy(buf, a, (size_t)k);
    printf("\nncpy %d ", d == buf);
    dump(buf, k + 2);
    d = strdup(a);
    printf("\ndup ");
    dump(d, la + 1);
    free(d);
    d = strndup(a, (size_t)k);
    printf("\nndup ");
    dump(d, (int)strlen(d) + 1);
    free(d);

    strcpy(copy, a);
    printf("\ntok");
    for (tok = strtok(copy, b); tok != NULL; tok = strtok(NULL, b)) {
        printf(" %ld:", off(tok, copy));
        dump(tok, (int)strlen(tok));
    }
    strcpy(copy, a);
    printf("\ntok_r");
    for (tok = strtok_r(copy, b, &state); tok != NULL; tok = strtok_r(NULL, b, &state)) {
        printf(" %ld:", off(tok, copy));
        dump(tok, (int)strlen(tok));
    }

    /* memmove both ways, memcpy, memset inside a + b */
    n = la + lb;
    memcpy(buf, a, (size_t)la);
    memcpy(buf + la, b, (size_t)lb);
    if (n > 0) {
        int from = k % n, len = n - from;
        memmove(buf, buf + from, (size_t)len);
        printf("\nmove-down ");
        dump(buf, n);
        memmove(buf + from, buf, (size_t)len);
        printf("\nmove-up ");
        dump(buf, n);
        memset(buf + from / 2, c, (size_t)(len / 2));
        printf("\nset ");
        dump(buf, n);
        memcpy(buf + n, buf, (size_t)n);
        printf("\ncpy ");
        dump(buf, n + n);
    }
    printf("\ncase ");
    for (i = 0; i < la; i++) {
        unsigned char x = (unsigned char)a[i];
        printf("%02x%02x", (unsigned)toupper(x) & 255, (unsigned)tolower(x) & 255);
    }
    printf("\n");
}

int main(int argc, char **argv) {
    static char a[400], b[400];
    int i;
    if (argc > 1 && strcmp(argv[1], "ctype") == 0) {
        check_ctype();
        return 0;
    }
    for (i = 1; i + 2 < argc; i += 3) {
        int la = unhex(argv[i], a);
        int lb = unhex(argv[i + 1], b);
        /* a and b end at their first NUL (hex may hold one) */
        la = (int)strlen(a);
        lb = (int)strlen(b);
        check(a, la, b, lb, (int)num(argv[i + 2]));
    }
    return 0;
}
