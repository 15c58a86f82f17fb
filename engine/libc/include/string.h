/*
 * string.h -- tvm freestanding libc (wasm32).
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
 * string here: the machine has no bulk-memory instructions, so these are
 * loops of loads, stores, adds and compares only (no multiply, shift or
 * bitwise op); copies and fills move four unaligned bytes at a time where
 * they can.  clang may emit calls to memcpy/memmove/memset/memcmp itself (struct copies,
 * zero initialisers), so they exist under those names.
 *
 * clang treats those four as builtins even with -ffreestanding and expands
 * calls with a constant size inline, with 64-bit loads and stores (which the
 * machine lacks) when the size is 8 or more.  Declaring them with an asm
 * label makes a call in C code an ordinary call to the libc's i32-only
 * implementation (symbols __tvm_memcpy, ...; the plain names are aliases).
 */
#ifndef TVM_STRING_H
#define TVM_STRING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__clang__) && defined(__wasm__)
#define TVM_NOT_BUILTIN(name) __asm__(name)
#else
#define TVM_NOT_BUILTIN(name)
#endif

void *memcpy(void *dst, const void *src, size_t n) TVM_NOT_BUILTIN("__tvm_memcpy");
void *memmove(void *dst, const void *src, size_t n) TVM_NOT_BUILTIN("__tvm_memmove");
void *memset(void *dst, int c, size_t n) TVM_NOT_BUILTIN("__tvm_memset");
int memcmp(const void *a, const void *b, size_t n) TVM_NOT_BUILTIN("__tvm_memcmp");
void *memchr(const void *s, int c, size_t n);

size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *dst, const char *src);
char *strncpy(char *dst, const char *src, size_t n);
char *strcat(char *dst, const char *src);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);

#ifdef __cplusplus
}
#endif

#endif /* TVM_STRING_H */
