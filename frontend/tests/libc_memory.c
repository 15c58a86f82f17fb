/*
 * libc_memory.c -- malloc, calloc, realloc, free, run natively and on tvm
 * by engine/tests/libc_differential.rs, which compares the output.
 *
 *   libc_memory OP ...   a sequence of operations on 64 numbered blocks:
 *     aI,N    block I = malloc(N)       (I's old block, if any, is freed)
 *     cI,K,N  block I = calloc(K, N)
 *     rI,N    block I = realloc(block I, N)
 *     fI      free(block I)
 *     dI,N    block I = strndup(pattern, N)
 *     big     5 MB allocated and freed in 100 KB blocks (only with reuse)
 *
 * Every block is filled with a pattern of its own (block number and
 * generation); each operation first checks the patterns of the blocks it
 * touches (calloc's must be zero, realloc's must keep the old prefix) and
 * prints what it found.  At the end every live block is checked and freed.
 * Addresses are never printed: only what a program can rely on.
 */
#include <stdlib.h>
#include <string.h>

#include "libc_driver.h"

#define BLOCKS 64

static unsigned char *block[BLOCKS];
static size_t size[BLOCKS];
static unsigned gen[BLOCKS];

static unsigned char pattern(int i, size_t k) {
    return (unsigned char)(i * 37 + gen[i] * 11 + k * 7 + 1);
}

static void fill(int i) {
    size_t k;
    gen[i]++;
    for (k = 0; k < size[i]; k++)
        block[i][k] = pattern(i, k);
}

/* Bytes of block i (up to n) that differ from its pattern. */
static int check(int i, size_t n) {
    size_t k;
    int bad = 0;
    if (n > size[i])
        n = size[i];
    for (k = 0; k < n; k++)
        if (block[i][k] != pattern(i, k))
            bad++;
    return bad;
}

static void release(int i) {
    if (block[i] != NULL) {
        printf(" free%d:%d", i, check(i, size[i]));
        free(block[i]);
        block[i] = NULL;
        size[i] = 0;
    }
}

static int aligned(const void *p) { return (int)((unsigned long)p % 8 == 0); }

int main(int argc, char **argv) {
    int a;
    for (a = 1; a < argc; a++) {
        const char *op = argv[a];
        const char *p = op + 1;
        int i = (int)num(p) % BLOCKS;
        size_t n = 0, count = 0;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p == ',') {
            p++;
            n = (size_t)num(p);
            while (*p >= '0' && *p <= '9')
                p++;
            if (*p == ',') {
                p++;
                count = n;
                n = (size_t)num(p);
            }
        }
        printf("%s:", op);
        if (strcmp(op, "big") == 0) {
            int round, ok = 1;
            for (round = 0; round < 50; round++) {
                unsigned char *q = malloc(100000);
                if (q == NULL) {
                    ok = 0;
                    break;
                }
                q[0] = (unsigned char)round;
                q[99999] = (unsigned char)round;
                ok = ok && q[0] == q[99999];
                free(q);
            }
            printf(" %s\n", ok ? "ok" : "failed");
            continue;
        }
        if (op[0] == 'a' || op[0] == 'c' || op[0] == 'd')
            release(i);
        if (op[0] == 'a') {
            block[i] = malloc(n);
            size[i] = n;
            printf(" %s %d", block[i] != NULL ? "ok" : "null", aligned(block[i]));
            if (block[i] != NULL)
                fill(i);
        } else if (op[0] == 'c') {
            size_t k, zeros = 0;
            block[i] = calloc(count, n);
            size[i] = count * n;
            printf(" %s %d", block[i] != NULL ? "ok" : "null", aligned(block[i]));
            if (block[i] != NULL) {
                for (k = 0; k < size[i]; k++)
                    zeros += block[i][k] == 0;
                printf(" zero:%d", zeros == size[i]);
                fill(i);
            }
        } else if (op[0] == 'd') {
            static char text[] = "the quick brown fox jumps over the lazy dog";
            char *s = strndup(text, n);
            printf(" %s", s != NULL ? s : "null");
            block[i] = (unsigned char *)s;
            size[i] = s != NULL ? strlen(s) + 1 : 0;
            if (s != NULL)
                fill(i);
        } else if (op[0] == 'r') {
            int kept = -1;
            unsigned char *q;
            if (n == 0) {
                /* glibc frees and returns NULL; so does tvm */
                printf(" skipped");
            } else {
                q = realloc(block[i], n);
                printf(" %s", q != NULL ? "ok" : "null");
                if (q != NULL) {
                    block[i] = q;
                    kept = check(i, n);
                    size[i] = n;
                    fill(i);
                    printf(" kept:%d %d", kept, aligned(q));
                }
            }
        } else if (op[0] == 'f') {
            release(i);
        }
        printf("\n");
    }
    printf("end:");
    for (a = 0; a < BLOCKS; a++)
        release(a);
    printf("\n");
    return 0;
}
