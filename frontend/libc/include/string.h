/*
 * string.h -- tvm freestanding libc (wasm32).
 *
 * string here: loops of loads, stores, adds and compares only (no
 * multiply, shift or bitwise op: the tvm machine lowers those into slow
 * routines); copies and fills move four unaligned bytes at a time where
 * they can.  strdup/strndup allocate with malloc; strtok keeps its place
 * in a static (strtok_r in the caller's pointer); strcoll is strcmp (the
 * "C" locale); strerror knows the errno.h values.
 *
 * clang may emit calls to memcpy/memmove/memset/memcmp itself (struct
 * copies, zero initialisers), so they exist under those names.
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
char *strncat(char *dst, const char *src, size_t n);
size_t strnlen(const char *s, size_t max);
size_t strspn(const char *s, const char *accept);
size_t strcspn(const char *s, const char *reject);
char *strpbrk(const char *s, const char *accept);
char *strtok(char *s, const char *delimiters);
char *strtok_r(char *s, const char *delimiters, char **state);
char *strdup(const char *s);
char *strndup(const char *s, size_t n);
int strcoll(const char *a, const char *b);
char *strerror(int errnum);

#ifdef __cplusplus
}
#endif

#endif /* TVM_STRING_H */
