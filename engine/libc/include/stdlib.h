/*
 * stdlib.h -- tvm freestanding libc (wasm32).
 *
 * The tvm machine's conventions (fixed; see engine/libc/src/libc.c):
 *  - imports only from module "tvm": output (param i32) writes the low byte
 *    of its argument to the output; exit (param i32) ends the program with
 *    that status;
 *  - the module exports main, (result i32) or (param i32 i32) (result i32)
 *    = (argc, argv); main's return value is the exit status;
 *  - before main, memory at 256 holds argc, then argv[0..argc] (argv[0] is
 *    the program name), a NULL pointer and the strings, all below 4096;
 *  - one fixed 64 KiB page: data from 4096, a 16 KiB stack, then the heap;
 *  - only i32: no 64-bit integers, no floating point, no function pointers;
 *    multiply, divide, bitwise operations and shifts are slow (lowered into
 *    loops), additions, compares, loads and stores are fast.
 *
 * stdlib here:
 *  - exit(status) calls the "tvm" "exit" import and never returns; returning
 *    from main is equivalent to exit(main's return value).  abort() executes
 *    `unreachable` (a trap).
 *  - Memory is one 64 KiB page, fixed (no memory.grow).  malloc is a bump
 *    allocator from __heap_base (after data and the 16 KiB stack) up to
 *    65536, 8-byte aligned; free is a no-op; malloc returns NULL when the
 *    heap is exhausted.  Memory handed out is fresh, hence already zero.
 *  - atoi/atol/strtol/strtoul wrap modulo 2^32 on overflow (no errno).
 *  - No function pointers (no qsort/bsearch/atexit), no floating point, no
 *    rand, no environment.
 */
#ifndef TVM_STDLIB_H
#define TVM_STDLIB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

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
