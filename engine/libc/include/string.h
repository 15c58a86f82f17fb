/*
 * string.h -- tvm freestanding libc (wasm32).
 *
 * Conventions of the tvm machine (fixed): only i32 arithmetic; the machine
 * has no bulk-memory instructions, so these are byte loops built from
 * loads, stores, adds and compares only (no multiply, shift or bitwise op).
 * clang may emit calls to memcpy/memmove/memset/memcmp itself (struct copies,
 * zero initialisers), so they must exist.
 */
#ifndef TVM_STRING_H
#define TVM_STRING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
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
