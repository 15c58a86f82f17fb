/*
 * libc_stdio.c -- stdin, stdout and stderr, exit and atexit, assert,
 * run natively and on tvm by engine/tests/libc_differential.rs, which
 * compares stdout, stderr and the exit status.
 *
 *   libc_stdio read OP ...    operations on stdin:
 *       gN     N x getchar        kN   N x getc(stdin)    FN  N x fgetc
 *       fN     fgets(buf, N)      rS,C fread(buf, S, C)   uC  ungetc(C)
 *       s<hex> scanf with that format into eight slots (see libc_scanf.c;
 *              the slots are printed as 8 hex bytes each, and strings up to
 *              their NUL); S<hex> the same with fscanf(stdin), v<hex> with
 *              vscanf, V<hex> with vfscanf
 *       e      feof and ferror        c  clearerr
 *   libc_stdio write OP ...   output: o<hex> fputs to stdout, e<hex> to
 *       stderr, O<n> putchar, E<n> fputc to stderr, c<n> putc to stdout,
 *       p<hex> printf("%s"), P<hex> fprintf(stderr, "%s|%d"),
 *       v<hex> vprintf("%s|%d"), V<hex> vfprintf(stderr, "%s|%d"),
 *       w<hex> fwrite to stdout, W<hex> to stderr, u<hex> puts,
 *       x<n> perror("x") with errno n
 *   libc_stdio exit N S       N atexit handlers (the first registers one
 *                             more when it runs), then exit(S)
 *   libc_stdio quick S        a handler, then _Exit(S): no handler runs
 *   libc_stdio assert         prints, then fails an assert
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "libc_driver.h"

/* The same file name in both builds (assert prints it). */
#line 40 "libc_stdio.c"

static unsigned char slot[8][100];

static int v_scanf(int which, const char *fmt, ...) {
    va_list ap;
    int r;
    va_start(ap, fmt);
    r = which == 0 ? vscanf(fmt, ap) : vfscanf(stdin, fmt, ap);
    va_end(ap);
    return r;
}

static int v_printf(int to_stderr, const char *fmt, ...) {
    va_list ap;
    int r;
    va_start(ap, fmt);
    r = to_stderr ? vfprintf(stderr, fmt, ap) : vprintf(fmt, ap);
    va_end(ap);
    return r;
}

static void show_slots(void) {
    int k;
    for (k = 0; k < 8; k++) {
        printf(" ");
        if (slot[k][0] != 0xAA && memchr(slot[k], 0, 99) != NULL && slot[k][8] != 0xAA)
            printf("s:%s", (const char *)slot[k]);
        else
            dump(slot[k], 8);
    }
    printf("\n");
}

static void read_ops(int argc, char **argv) {
    static char buf[5000], fmt[500];
    int a;
    for (a = 2; a < argc; a++) {
        const char *op = argv[a];
        long n = num(op + 1);
        printf("%s:", op);
        if (op[0] == 'g' || op[0] == 'k' || op[0] == 'F') {
            long k;
            for (k = 0; k < n; k++) {
                int c = op[0] == 'g' ? getchar() : op[0] == 'k' ? getc(stdin) : fgetc(stdin);
                printf(" %d", c);
            }
        } else if (op[0] == 'f') {
            char *r;
            memset(buf, 0xAA, 100);
            r = fgets(buf, (int)n, stdin);
            if (r == NULL) {
                printf(" NULL ");
                dump(buf, 4);
            } else {
                printf(" %d ", r == buf);
                dump(buf, (int)strlen(buf) + 1);
            }
        } else if (op[0] == 'r') {
            const char *comma = strchr(op, ',');
            long count = comma != NULL ? num(comma + 1) : 1;
            size_t got;
            memset(buf, 0xAA, sizeof buf);
            got = fread(buf, (size_t)n, (size_t)count, stdin);
            printf(" %d ", (int)got);
            dump(buf, (int)(got * (size_t)n) + 1);
        } else if (op[0] == 'u') {
            printf(" %d", ungetc((int)n, stdin));
        } else if (op[0] == 's' || op[0] == 'S' || op[0] == 'v' || op[0] == 'V') {
            int r;
            unhex(op + 1, fmt);
            memset(slot, 0xAA, sizeof slot);
#define SLOTS slot[0], slot[1], slot[2], slot[3], slot[4], slot[5], slot[6], slot[7]
            if (op[0] == 's')
                r = scanf(fmt, SLOTS);
            else if (op[0] == 'S')
                r = fscanf(stdin, fmt, SLOTS);
            else
                r = v_scanf(op[0] == 'V', fmt, SLOTS);
            printf(" %d", r);
            show_slots();
            continue;
        } else if (op[0] == 'e') {
            printf(" %d %d", feof(stdin) != 0, ferror(stdin) != 0);
        } else if (op[0] == 'c') {
            clearerr(stdin);
        }
        printf("\n");
    }
    printf("end %d\n", feof(stdin) != 0);
}

static void write_ops(int argc, char **argv) {
    static char text[2000];
    int a;
    for (a = 2; a < argc; a++) {
        const char *op = argv[a];
        long n = num(op + 1);
        int len = unhex(op + 1, text), r = 0;
        switch (op[0]) {
        case 'o': r = fputs(text, stdout) >= 0; break;
        case 'e': r = fputs(text, stderr) >= 0; break;
        case 'O': r = putchar((int)n); break;
        case 'E': r = fputc((int)n, stderr); break;
        case 'c': r = putc((int)n, stdout); break;
        case 'p': r = printf("%s", text); break;
        case 'P': r = fprintf(stderr, "%s|%d", text, len); break;
        case 'v': r = v_printf(0, "%s|%d", text, len); break;
        case 'V': r = v_printf(1, "%s|%d", text, len); break;
        case 'w': r = (int)fwrite(text, 1, (size_t)len, stdout); break;
        case 'W': r = (int)fwrite(text, (size_t)len, 1, stderr); break;
        case 'u': r = puts(text) >= 0; break;
        case 'x':
            errno = (int)n;
            perror("x");
            break;
        }
        fflush(stdout);
        fprintf(stderr, "(%d)", r);
    }
}

static void handler0(void);
static void handler1(void) { printf("handler 1\n"); }
static void handler2(void) { printf("handler 2\n"); }
static void handler3(void) { printf("handler 3\n"); }
static void late(void) { printf("late handler\n"); }
static void handler0(void) {
    printf("handler 0\n");
    atexit(late);
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 1;
    if (strcmp(argv[1], "read") == 0) {
        read_ops(argc, argv);
    } else if (strcmp(argv[1], "write") == 0) {
        write_ops(argc, argv);
    } else if (strcmp(argv[1], "exit") == 0) {
        static void (*handlers[])(void) = {handler0, handler1, handler2, handler3};
        int i, n = (int)num(argv[2]);
        for (i = 0; i < n; i++)
            printf("atexit %d\n", atexit(handlers[i % 4]));
        printf("exiting\n");
        exit((int)num(argv[3]));
    } else if (strcmp(argv[1], "quick") == 0) {
        atexit(handler1);
        printf("quick exit\n");
        fflush(stdout);
        _Exit((int)num(argv[2]));
    } else if (strcmp(argv[1], "assert") == 0) {
        printf("before\n");
        fflush(stdout);
        assert(argc > 1);
        assert(argc == 99);
        printf("after\n");
    }
    return 0;
}
