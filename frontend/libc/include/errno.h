/*
 * errno.h -- tvm freestanding libc (wasm32).
 *
 * One global errno (there are no threads).  The values are Linux's, so
 * that strerror's messages and printed numbers match the host's.  Set by
 * strtol and friends (ERANGE, EINVAL), malloc (ENOMEM) and stdio calls on
 * the wrong stream (EBADF).
 */
#ifndef TVM_ERRNO_H
#define TVM_ERRNO_H

#ifdef __cplusplus
extern "C" {
#endif

extern int errno;

#define EBADF 9
#define ENOMEM 12
#define EINVAL 22
#define EDOM 33
#define ERANGE 34
#define EILSEQ 84

#ifdef __cplusplus
}
#endif

#endif /* TVM_ERRNO_H */
