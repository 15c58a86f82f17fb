/*
 * assert.h -- tvm freestanding libc (wasm32).
 *
 * A failed assert prints, on stderr, what glibc prints
 *     PROGRAM: FILE:LINE: FUNCTION: Assertion `EXPRESSION' failed.
 * (PROGRAM is argv[0]) and then aborts (the machine traps).  With NDEBUG
 * defined before the include, assert(e) does nothing and does not
 * evaluate e.  This header may be included again with NDEBUG changed.
 */
#undef assert

#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#ifdef __cplusplus
extern "C"
#endif
void __tvm_assert_fail(const char *expression, const char *file, unsigned line,
                       const char *function) __attribute__((noreturn));
#define assert(e) ((e) ? (void)0 : __tvm_assert_fail(#e, __FILE__, __LINE__, __func__))
#endif

#if !defined(__cplusplus) && !defined(static_assert)
#define static_assert _Static_assert
#endif
