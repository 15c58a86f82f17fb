/*
 * stdio.h -- tvm freestanding libc (wasm32).
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
 * stdio here:
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
