/*
 * stdio.h -- tvm freestanding libc (wasm32).
 *
 * Streams:
 *  - stdout and stderr are unbuffered: every byte goes straight to the
 *    machine's one OUTPUT channel.  stderr is framed inside it: the byte
 *    0xFF escapes, `FF 01` switches to stderr, `FF 00` back to stdout,
 *    `FF FF` is a literal 0xFF.  A switch is written only when the stream
 *    changes, so a program that never writes to stderr nor prints 0xFF
 *    produces exactly the bytes it prints.  (tvm takes the two apart.)
 *  - stdin is the bytes tvm places at the top of memory (none without
 *    stdin: the first read returns EOF).  It is read in place through a
 *    cursor; ungetc pushes back at least 16 bytes.
 *  - FILE exists only as stdin, stdout and stderr (no fopen); fflush does
 *    nothing; writing to stdin or reading from stdout/stderr fails with
 *    EOF and errno EBADF.
 *
 * printf: conversions d i u o x X c s p n %, flags - + space # 0 ',
 * width and precision (numbers or *), length modifiers hh h l ll j q z t
 * (long, size_t and ptrdiff_t are 32-bit; ll, j and q mean 64-bit; L is
 * ignored for integers, as glibc does).  No floating point: a %f, %e, %g
 * or %a is printed as written, like any unknown conversion.  %p prints
 * "(nil)" for NULL, 0x... otherwise.
 *
 * scanf: conversions d i u o x X p c s [...] n %, `*` suppression, widths,
 * the same length modifiers (L also means 64-bit, as in glibc); returns the
 * number of assignments, or EOF when the input ends before the first one
 * (glibc's rule).  An out-of-range number takes the value glibc gives on a
 * 64-bit host: clamped to the 64-bit range, then cut to the argument's
 * width.  %lc, %ls and %l[ read bytes, as %c, %s and %[ do.
 */
#ifndef TVM_STDIO_H
#define TVM_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EOF (-1)
#define BUFSIZ 1024

typedef struct __tvm_file FILE;

extern FILE __tvm_stdin, __tvm_stdout, __tvm_stderr;
#define stdin (&__tvm_stdin)
#define stdout (&__tvm_stdout)
#define stderr (&__tvm_stderr)

int putchar(int c);
int puts(const char *s);
int fputc(int c, FILE *f);
int putc(int c, FILE *f);
int fputs(const char *s, FILE *f);
size_t fwrite(const void *p, size_t size, size_t count, FILE *f);
int fflush(FILE *f);

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sprintf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vprintf(const char *fmt, va_list ap);
int vfprintf(FILE *f, const char *fmt, va_list ap);
int vsprintf(char *buf, const char *fmt, va_list ap);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

int getchar(void);
int fgetc(FILE *f);
int getc(FILE *f);
char *fgets(char *buf, int size, FILE *f);
size_t fread(void *p, size_t size, size_t count, FILE *f);
int ungetc(int c, FILE *f);
int feof(FILE *f);
int ferror(FILE *f);
void clearerr(FILE *f);

int scanf(const char *fmt, ...) __attribute__((format(scanf, 1, 2)));
int fscanf(FILE *f, const char *fmt, ...) __attribute__((format(scanf, 2, 3)));
int sscanf(const char *s, const char *fmt, ...) __attribute__((format(scanf, 2, 3)));
int vscanf(const char *fmt, va_list ap);
int vfscanf(FILE *f, const char *fmt, va_list ap);
int vsscanf(const char *s, const char *fmt, va_list ap);

void perror(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* TVM_STDIO_H */
