/*
 * stddef.h -- tvm freestanding libc (wasm32).
 *
 * The types come from clang's predefined macros, so they are exactly the
 * compiler's own (size_t is `unsigned long`, 32 bits, on wasm32).
 */
#ifndef TVM_STDDEF_H
#define TVM_STDDEF_H

typedef __SIZE_TYPE__ size_t;
typedef __PTRDIFF_TYPE__ ptrdiff_t;
#ifndef __cplusplus
typedef __WCHAR_TYPE__ wchar_t;
#endif

/* The most strictly aligned type (16 bytes on wasm32, as clang says). */
typedef struct {
    long long __tvm_align __attribute__((aligned(__BIGGEST_ALIGNMENT__)));
} max_align_t;

#ifdef __cplusplus
#define NULL 0
#else
#define NULL ((void *)0)
#endif

#define offsetof(type, member) __builtin_offsetof(type, member)

#endif /* TVM_STDDEF_H */
