/*
 * stdlib.h -- tvm freestanding libc (wasm32).
 *
 * Conventions of the tvm machine (fixed):
 *  - exit(status) calls the "tvm" "exit" import and never returns; returning
 *    from main is equivalent to exit(main's return value).
 *  - Memory is one 64 KiB page, fixed (no memory.grow).  malloc is a bump
 *    allocator from __heap_base (after data and the 16 KiB stack) up to
 *    65536, 8-byte aligned; free is a no-op; malloc returns NULL when the
 *    heap is exhausted.  Memory handed out is fresh, hence already zero.
 *  - No function pointers (no qsort/bsearch/atexit), no floating point.
 */
#ifndef TVM_STDLIB_H
#define TVM_STDLIB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#define RAND_MAX 2147483647

void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);

int atoi(const char *s);
long atol(const char *s);
long strtol(const char *s, char **end, int base);
unsigned long strtoul(const char *s, char **end, int base);

int abs(int x);
long labs(long x);

void exit(int status) __attribute__((noreturn));
void abort(void) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* TVM_STDLIB_H */
