/*
 * stdarg.h -- tvm freestanding libc (wasm32): clang's builtins.
 *
 * On wasm32 a va_list is a pointer into the caller's buffer of arguments
 * (each argument at its natural alignment).
 */
#ifndef TVM_STDARG_H
#define TVM_STDARG_H

typedef __builtin_va_list va_list;
typedef __builtin_va_list __gnuc_va_list;

#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type) __builtin_va_arg(ap, type)
#define va_end(ap) __builtin_va_end(ap)
#define va_copy(dst, src) __builtin_va_copy(dst, src)
#define __va_copy(dst, src) __builtin_va_copy(dst, src)

#endif /* TVM_STDARG_H */
