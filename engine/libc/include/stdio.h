/*
 * stdio.h -- tvm freestanding libc (wasm32).
 *
 * Conventions of the tvm machine (fixed):
 *  - The module may import only from module "tvm":
 *      output: (func (param i32))  writes the low byte of its argument;
 *      exit:   (func (param i32))  ends the program with that status.
 *  - stdout is unbuffered: every byte goes straight to `output`.
 *    There is no stdin, no FILE, no stderr: output is one byte stream.
 *  - printf supports %d %i %u %x %X %c %s %% with flags `-` `0` `+` ` ` `#`,
 *    a width (or `*`), a precision (or `.*`) and the length modifiers
 *    `l` and `z`, which are no-ops because long and size_t are 32-bit on
 *    wasm32.  No floating point, no 64-bit integers.
 */
#ifndef TVM_STDIO_H
#define TVM_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EOF (-1)

int putchar(int c);
int puts(const char *s);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int sprintf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vprintf(const char *fmt, va_list ap);
int vsprintf(char *buf, const char *fmt, va_list ap);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#ifdef __cplusplus
}
#endif

#endif /* TVM_STDIO_H */
