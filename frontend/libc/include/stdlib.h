/*
 * stdlib.h -- tvm freestanding libc (wasm32).
 *
 *  - exit(status) runs the atexit handlers (last registered first) and
 *    ends the program with that status.  Returning from main ends the
 *    program directly (the machine's entry halts with main's value):
 *    atexit handlers do NOT run then; call exit to have them run.
 *    abort() and _Exit() run no handler; abort traps (`unreachable`).
 *  - malloc/calloc/realloc/free: a first-fit allocator over a free list
 *    with immediate coalescing of neighbouring free blocks; blocks are
 *    8-byte aligned, 8 bytes of header each; the heap runs from
 *    __heap_base (after the data and the 64 KiB stack) to the end of
 *    memory, or to the start of stdin when there is one.  Out of memory:
 *    NULL and errno ENOMEM.  As in glibc, malloc(0) returns a block of its
 *    own and realloc(p, 0) frees p and returns NULL; calloc zeroes only
 *    memory that was handed out before (fresh memory is zero).
 *  - strtol/strtoul/strtoll/strtoull: bases 0 and 2..36, clamping with
 *    errno ERANGE on overflow (long is 32-bit); an invalid base gives 0
 *    and EINVAL.  atoi/atol/atoll are the strto* with base 10.
 *  - rand is the C standard's example generator (RAND_MAX 32767), not
 *    glibc's; srand(1) restarts it.
 *  - qsort is not stable (a quicksort); bsearch returns some match.
 *  - getenv always returns NULL (no environment).
 */
#ifndef TVM_STDLIB_H
#define TVM_STDLIB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#define RAND_MAX 32767
#define MB_CUR_MAX 1

typedef struct {
    int quot;
    int rem;
} div_t;
typedef struct {
    long quot;
    long rem;
} ldiv_t;
typedef struct {
    long long quot;
    long long rem;
} lldiv_t;

void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);

int atoi(const char *s);
long atol(const char *s);
long long atoll(const char *s);
long strtol(const char *s, char **end, int base);
unsigned long strtoul(const char *s, char **end, int base);
long long strtoll(const char *s, char **end, int base);
unsigned long long strtoull(const char *s, char **end, int base);

int abs(int x);
long labs(long x);
long long llabs(long long x);
div_t div(int numer, int denom);
ldiv_t ldiv(long numer, long denom);
lldiv_t lldiv(long long numer, long long denom);

int rand(void);
void srand(unsigned seed);

void qsort(void *base, size_t count, size_t size,
           int (*compare)(const void *, const void *));
void *bsearch(const void *key, const void *base, size_t count, size_t size,
              int (*compare)(const void *, const void *));

int atexit(void (*handler)(void));
void exit(int status) __attribute__((noreturn));
void _Exit(int status) __attribute__((noreturn));
void abort(void) __attribute__((noreturn));
char *getenv(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* TVM_STDLIB_H */
