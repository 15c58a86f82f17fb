/*
 * libc.c -- the tvm freestanding C library for wasm32 (one translation unit).
 *
 * Conventions of the tvm machine (fixed; the engine relies on them):
 *
 *  - Imports come only from module "tvm":
 *      output: (func (param i32))  writes the low byte of its argument to the
 *                                  program's output;
 *      exit:   (func (param i32))  ends the program with that exit status and
 *                                  never returns.
 *  - Entry: the module exports `main`, `(func (result i32))` or
 *    `(func (param i32 i32) (result i32))` (argc, argv); its return value is
 *    the exit status (the entry halts with it directly: atexit handlers run
 *    only through exit()).
 *  - Arguments: before main runs, linear memory at INPUT_BASE = 256 holds the
 *    input image: argc (i32) at 256, argv[0..argc] (i32 pointers) from 260,
 *    a 0 pointer, then the NUL-terminated strings.  argv[0] is the program
 *    name (file stem).  The image lies below 4096.
 *  - Standard input: its n bytes lie at the top of memory, [end - n, end),
 *    and the two words at 248 hold the address of the first byte and n
 *    (both 0 without stdin).
 *  - Output: one channel.  stderr is framed inside it: 0xFF escapes, `FF 01`
 *    switches to stderr, `FF 00` back to stdout, `FF FF` is a literal 0xFF
 *    (tvm_engine::streams takes them apart).  The stream starts as stdout
 *    and a switch is written only when the stream changes.
 *  - Memory: all the machine has (tvm_engine::program::MAX_MEMORY, 1 MiB;
 *    initial = maximum, never grown), data from 4096 (--global-base=4096),
 *    then a 64 KiB stack, then the heap from __heap_base up to the start of
 *    stdin (or the end of memory), less 16 bytes that ungetc may write.
 *  - `__tvm_scratch` (16 bytes, 8-aligned) is scratch space for the lowering;
 *    it is exported by the link command and never touched by this library.
 *  - The compile command (engine/src/frontend.rs) is
 *      clang --target=wasm32 -nostdlib -ffreestanding -O2 -mcpu=mvp
 *        -isystem <libc>/include -Wl,--no-entry -Wl,--export=main
 *        -Wl,--export=__tvm_scratch -Wl,--global-base=4096
 *        -Wl,-z,stack-size=65536 -Wl,--initial-memory=1048576
 *        -Wl,--max-memory=1048576 <libc>/src/libc.c <libc>/src/int128.c
 *        PROGRAM.c -o out.wasm
 *    Every function is its own section of the object file and wasm-ld
 *    drops those nothing calls (--gc-sections is its default): a program
 *    pays, in prefix tokens, only for the functions it uses.
 *    int128.c holds the compiler helpers for 128-bit arithmetic (__multi3,
 *    __udivti3, ...); they use i64 and are linked only when called.
 *
 * Cost model.  The machine natively has i32 add/sub, compares, eqz, select,
 * locals/globals, loads/stores of every width, calls and branches.  MUL, DIV,
 * REM, AND, OR, XOR, SHL, SHR, ROTL/ROTR, CLZ/CTZ/POPCNT are lowered into
 * O(32)-step loops (short inline forms when the second operand is a
 * constant: shifts by whole bytes, masks of the low 8 or 16 bits, a
 * multiply by a constant as doublings and additions), every i64 operator
 * into a routine over word pairs, call_indirect into a dispatcher.  Hence
 * this library avoids those operators everywhere except on cold paths
 * (calloc's and fwrite's size products, fread's item count; the `& 255` of
 * putchar, fputc, memchr, strchr and strrchr for arguments outside 0..255;
 * the calls through pointers that qsort, bsearch and exit (the atexit
 * handlers) exist for; div/ldiv/lldiv, llabs, imaxabs/imaxdiv and rand,
 * whose arithmetic is the point):
 *  - decimal conversion finds each digit by a binary search over a table of
 *    the multiples of its power of ten, then one subtraction;
 *  - hex conversion stores the word and reads it back byte by byte, each
 *    byte indexing two 256-entry digit tables; octal reads the bits of each
 *    byte by comparing with 128, 64, ..., 1;
 *  - number parsing (strtol family, scanf) multiplies by the base with
 *    doublings and additions (10 and 16 have short chains), in one word
 *    while the value is small, then in a word pair with overflow checks;
 *  - memcpy/memmove/memset move 16 bytes per step as four unaligned words
 *    (wasm loads and stores need no alignment, so there is no masking);
 *  - the allocator rounds sizes to 8 by subtracting powers of two and marks
 *    free blocks by negating their size (no flag bits);
 *  - 64-bit printf arguments (%lld, %llu, %llx) are read as two words and
 *    converted by subtracting powers of ten held as word pairs; 64-bit
 *    results (strtoll, scanf's %lld) are stored as two words;
 *  - hh and h narrow through a store and a load8/load16 (sign-extending
 *    loads are native);
 *  - qsort partitions by pointers (no index arithmetic), bsearch halves by
 *    a table of doubled strides (no division).
 *
 * clang -O2 introduces such operators on its own: `x + x` becomes `x << 1`
 * and sums of those `x * 10`; `a && b` becomes `(a) & (b)` when both are
 * cheap; two range checks become `(c & ~32) - 'A' < 26`; a chain of
 * character compares becomes a bit-test `(1 << (c - 32)) & mask`; bytes
 * carried around a loop are narrowed to i8 and re-masked with `& 255`;
 * `x >= 0x80000000u` becomes `x >> 31`; unrolled loops compute their
 * remainder with `>>` and `&`; constant stores are merged into i64 stores.
 * This file defeats each of those:
 *  - `tvm_opaque(x)` is an empty *volatile* inline-asm statement that hides
 *    a value from the optimiser (it cannot be folded, merged, hoisted or
 *    speculated), used on loaded bytes (TVM_LOAD8), between the two halves
 *    of a compound condition, and on constants stored to adjacent memory;
 *  - every loop is preceded by TVM_LOOP (no unrolling, no vectorising);
 *  - small helpers that would be merged into their caller's conditions are
 *    `noinline`;
 *  - <string.h> gives memcpy, memmove, memset and memcmp asm labels, so that
 *    clang does not expand calls with a constant size inline (with i64
 *    loads and stores); the plain names are aliases, for the calls clang
 *    generates itself.
 * The catalog's tests check the linked result: no libc function outside the
 * cold list contains a lowered operator (every i64 operator is one), and
 * nothing contains float; engine/tests/libc_build.rs checks every function
 * of this file the same way.
 * No floating point and no bulk-memory instructions (-mcpu=mvp) in this
 * file; 64-bit integers only where the interface has them (strtoll's
 * result, llabs, lldiv, imaxdiv).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Imports, exported scratch space, optimiser barriers                       */
/* ------------------------------------------------------------------------ */

__attribute__((import_module("tvm"), import_name("output"))) void
__tvm_output(int byte);

__attribute__((import_module("tvm"), import_name("exit"), noreturn)) void
__tvm_exit(int status);

/* Scratch space reserved for the lowering (exported via --export). */
__attribute__((aligned(8), used)) unsigned char __tvm_scratch[16];

/* First byte after the stack, provided by wasm-ld. */
extern unsigned char __heap_base;

/* Bytes in one wasm memory page. */
#define TVM_PAGE 65536u

/* The most memory the tvm machine has (tvm_engine::program::MAX_MEMORY). */
#define TVM_MAX_BYTES 1048576u

/* No unrolling (its remainder loop uses shifts and masks), no vectorising
 * (it would use i64 stores). */
#define TVM_LOOP                                                              \
    _Pragma("clang loop unroll(disable) vectorize(disable) interleave(disable)")

/* Hides `x` from the optimiser; costs a local copy at most. */
static inline unsigned tvm_opaque(unsigned x) {
    __asm__ volatile("" : "+r"(x));
    return x;
}

/* Loads a byte as a full i32 the optimiser cannot narrow back to i8. */
#define TVM_LOAD8(p) tvm_opaque(*(const unsigned char *)(p))

/* a * 10 + d using additions only. */
static inline unsigned tvm_times10_plus(unsigned a, unsigned d) {
    unsigned a2 = tvm_opaque(a) + a;
    unsigned a4 = tvm_opaque(a2) + a2;
    unsigned a8 = tvm_opaque(a4) + a4;
    return a8 + a2 + d;
}

/* lo <= c <= hi as one subtraction and one unsigned compare. */
static inline int tvm_in_range(unsigned c, unsigned lo, unsigned hi) {
    return c - lo <= hi - lo;
}


/* Hides a pointer from the optimiser (see tvm_opaque). */
#define TVM_OPAQUE_PTR(type, p) ((type)(uintptr_t)tvm_opaque((unsigned)(uintptr_t)(p)))

/* 0x80000000, hidden from the optimiser: `x >= tvm_top_bit()` stays a
 * compare (with the constant, clang writes `x >> 31`). */
static inline unsigned tvm_top_bit(void) { return tvm_opaque(0x80000000u); }

/* The one errno (no threads). */
int errno;

/* ------------------------------------------------------------------------ */
/* Program termination, environment                                          */
/* ------------------------------------------------------------------------ */

/* Registered atexit handlers, run last first; atexit_top is the next free
 * slot.  (C guarantees 32.) */
#define TVM_ATEXIT_MAX 32
static void (*atexit_handlers[TVM_ATEXIT_MAX])(void);
static void (**atexit_top)(void) = atexit_handlers;

int atexit(void (*handler)(void)) {
    if (atexit_top == atexit_handlers + TVM_ATEXIT_MAX)
        return -1;
    *atexit_top = handler;
    atexit_top++;
    return 0;
}

/* Runs (and pops) the handlers, last registered first.  A handler may
 * register more (they run next) or call exit (the rest still run once). */
__attribute__((noinline)) static void run_atexit_handlers(void) {
    TVM_LOOP
    while (atexit_top != atexit_handlers) {
        atexit_top--;
        (*atexit_top)(); /* cold: the call through a pointer */
    }
}

void exit(int status) {
    if (atexit_top != atexit_handlers)
        run_atexit_handlers();
    __tvm_exit(status);
}

void _Exit(int status) { __tvm_exit(status); }

void abort(void) { __builtin_trap(); }

char *getenv(const char *name) {
    (void)name;
    return NULL;
}
/* ------------------------------------------------------------------------ */
/* ctype.h (ASCII, compares only)                                            */
/* ------------------------------------------------------------------------ */

int isdigit(int c) { return tvm_in_range((unsigned)c, '0', '9'); }
int isupper(int c) { return tvm_in_range((unsigned)c, 'A', 'Z'); }
int islower(int c) { return tvm_in_range((unsigned)c, 'a', 'z'); }

int isalpha(int c) {
    if (tvm_in_range((unsigned)c, 'A', 'Z'))
        return 1;
    return tvm_in_range(tvm_opaque((unsigned)c), 'a', 'z');
}

int isalnum(int c) {
    if (tvm_in_range((unsigned)c, '0', '9'))
        return 1;
    return isalpha((int)tvm_opaque((unsigned)c));
}

int isxdigit(int c) {
    if (tvm_in_range((unsigned)c, '0', '9'))
        return 1;
    if (tvm_in_range(tvm_opaque((unsigned)c), 'a', 'f'))
        return 1;
    return tvm_in_range(tvm_opaque((unsigned)c), 'A', 'F');
}

static inline int tvm_isspace(unsigned c) {
    if (c == ' ')
        return 1;
    return tvm_in_range(tvm_opaque(c), '\t', '\r');
}

int isspace(int c) { return tvm_isspace((unsigned)c); }

int isblank(int c) {
    if (c == ' ')
        return 1;
    return tvm_opaque((unsigned)c) == '\t';
}

int isprint(int c) { return tvm_in_range((unsigned)c, ' ', '~'); }
int isgraph(int c) { return tvm_in_range((unsigned)c, '!', '~'); }

int iscntrl(int c) {
    if (tvm_in_range((unsigned)c, 0, 31))
        return 1;
    return tvm_opaque((unsigned)c) == 127;
}

int ispunct(int c) {
    if (!isgraph(c))
        return 0;
    return !isalnum((int)tvm_opaque((unsigned)c));
}

int toupper(int c) { return islower(c) ? c - ('a' - 'A') : c; }
int tolower(int c) { return isupper(c) ? c + ('a' - 'A') : c; }

/* ------------------------------------------------------------------------ */
/* string.h                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * A 32-bit word at any address: wasm loads and stores need no alignment, so
 * bulk copies move four bytes per load/store pair without checking
 * alignment (which would need a mask).
 */
typedef uint32_t tvm_word __attribute__((aligned(1), may_alias));

/* Reduces an `int` byte argument to 0..255; the mask is a cold path. */
static inline unsigned tvm_byte(int c) {
    unsigned u = tvm_opaque((unsigned)c);
    if (u < 256u)
        return u;
    return tvm_opaque(u & 255u);
}

/* Copies 16 bytes as four words.  The loaded words pass through the
 * barrier so clang cannot pair them into 64-bit loads and stores. */
static inline void tvm_copy16(unsigned char *d, const unsigned char *s) {
    uint32_t w0 = tvm_opaque(*(const tvm_word *)s);
    uint32_t w1 = tvm_opaque(*(const tvm_word *)(s + 4));
    uint32_t w2 = tvm_opaque(*(const tvm_word *)(s + 8));
    uint32_t w3 = tvm_opaque(*(const tvm_word *)(s + 12));
    *(tvm_word *)d = w0;
    *(tvm_word *)(d + 4) = w1;
    *(tvm_word *)(d + 8) = w2;
    *(tvm_word *)(d + 12) = w3;
}

/* Out of line everywhere, libc's own callers included (inlined, each copy
 * would cost its loops in prefix tokens). */
void *memcpy(void *dst, const void *src, size_t n) __attribute__((noinline));
void *memmove(void *dst, const void *src, size_t n) __attribute__((noinline));
void *memset(void *dst, int c, size_t n) __attribute__((noinline));
int memcmp(const void *a, const void *b, size_t n) __attribute__((noinline));

void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    TVM_LOOP
    while (n >= 16) {
        tvm_copy16(d, s);
        d += 16;
        s += 16;
        n -= 16;
    }
    TVM_LOOP
    while (n >= 4) {
        *(tvm_word *)d = *(const tvm_word *)s;
        d += 4;
        s += 4;
        n -= 4;
    }
    TVM_LOOP
    while (n > 0) {
        *d = (unsigned char)TVM_LOAD8(s);
        d++;
        s++;
        n--;
    }
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if (d == s)
        return dst;
    if (d < s) {
        /* Forward: every word of a block is loaded before any is stored,
         * and every store lands below the next load address. */
        TVM_LOOP
        while (n >= 16) {
            tvm_copy16(d, s);
            d += 16;
            s += 16;
            n -= 16;
        }
        TVM_LOOP
        while (n >= 4) {
            uint32_t w = *(const tvm_word *)s;
            *(tvm_word *)d = w;
            d += 4;
            s += 4;
            n -= 4;
        }
        TVM_LOOP
        while (n > 0) {
            *d = (unsigned char)TVM_LOAD8(s);
            d++;
            s++;
            n--;
        }
    } else {
        /* Backward, from the end: a block is loaded before it is stored,
         * and every store lands above the next load. */
        d += n;
        s += n;
        TVM_LOOP
        while (n >= 16) {
            d -= 16;
            s -= 16;
            tvm_copy16(d, s);
            n -= 16;
        }
        TVM_LOOP
        while (n >= 4) {
            d -= 4;
            s -= 4;
            uint32_t w = *(const tvm_word *)s;
            *(tvm_word *)d = w;
            n -= 4;
        }
        TVM_LOOP
        while (n > 0) {
            d--;
            s--;
            *d = (unsigned char)TVM_LOAD8(s);
            n--;
        }
    }
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    unsigned char *d = (unsigned char *)dst;
    /* Opaque so that constant fills are not merged into 64-bit stores. */
    unsigned v = tvm_opaque((unsigned)c);
    if (n >= 8) {
        /* Store the byte four times and read the word back: the replicated
         * pattern without shifts or masks. */
        d[0] = (unsigned char)v;
        d[1] = (unsigned char)v;
        d[2] = (unsigned char)v;
        d[3] = (unsigned char)v;
        uint32_t w = tvm_opaque(*(const tvm_word *)d);
        d += 4;
        n -= 4;
        TVM_LOOP
        while (n >= 16) {
            *(tvm_word *)d = w;
            *(tvm_word *)(d + 4) = w;
            *(tvm_word *)(d + 8) = w;
            *(tvm_word *)(d + 12) = w;
            d += 16;
            n -= 16;
        }
        TVM_LOOP
        while (n >= 4) {
            *(tvm_word *)d = w;
            d += 4;
            n -= 4;
        }
    }
    TVM_LOOP
    while (n > 0) {
        *d = (unsigned char)v;
        d++;
        n--;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;
    TVM_LOOP
    while (n > 0) {
        unsigned x = TVM_LOAD8(p);
        unsigned y = TVM_LOAD8(q);
        if (x != y)
            return (int)x - (int)y;
        p++;
        q++;
        n--;
    }
    return 0;
}

/*
 * The plain names, for the calls clang emits by itself (struct copies, zero
 * initialisers).  C code reaches the same functions through the asm labels
 * of <string.h> (__tvm_memcpy, ...), which keep clang from expanding them
 * inline with 64-bit operations.
 */
void *tvm_plain_memcpy(void *dst, const void *src, size_t n) __asm__("memcpy")
    __attribute__((alias("__tvm_memcpy")));
void *tvm_plain_memmove(void *dst, const void *src, size_t n) __asm__("memmove")
    __attribute__((alias("__tvm_memmove")));
void *tvm_plain_memset(void *dst, int c, size_t n) __asm__("memset")
    __attribute__((alias("__tvm_memset")));
int tvm_plain_memcmp(const void *a, const void *b, size_t n) __asm__("memcmp")
    __attribute__((alias("__tvm_memcmp")));

void *memchr(const void *s, int c, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    unsigned b = tvm_byte(c);
    TVM_LOOP
    while (n > 0) {
        if (TVM_LOAD8(p) == b)
            return (void *)p;
        p++;
        n--;
    }
    return NULL;
}

size_t strlen(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    TVM_LOOP
    while (TVM_LOAD8(p) != 0)
        p++;
    return (size_t)(p - (const unsigned char *)s);
}

int strcmp(const char *a, const char *b) {
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;
    TVM_LOOP
    for (;;) {
        unsigned x = TVM_LOAD8(p);
        unsigned y = TVM_LOAD8(q);
        if (x != y)
            return (int)x - (int)y;
        if (x == 0)
            return 0;
        p++;
        q++;
    }
}

int strncmp(const char *a, const char *b, size_t n) {
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;
    TVM_LOOP
    while (n > 0) {
        unsigned x = TVM_LOAD8(p);
        unsigned y = TVM_LOAD8(q);
        if (x != y)
            return (int)x - (int)y;
        if (x == 0)
            return 0;
        p++;
        q++;
        n--;
    }
    return 0;
}

char *strcpy(char *dst, const char *src) {
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    TVM_LOOP
    for (;;) {
        unsigned x = TVM_LOAD8(s);
        *d = (unsigned char)x;
        if (x == 0)
            return dst;
        d++;
        s++;
    }
}

char *strncpy(char *dst, const char *src, size_t n) {
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    TVM_LOOP
    while (n > 0) {
        unsigned x = TVM_LOAD8(s);
        if (x == 0)
            break;
        *d = (unsigned char)x;
        d++;
        s++;
        n--;
    }
    memset(d, 0, n);
    return dst;
}

char *strcat(char *dst, const char *src) {
    strcpy(dst + strlen(dst), src);
    return dst;
}

char *strchr(const char *s, int c) {
    const unsigned char *p = (const unsigned char *)s;
    unsigned b = tvm_byte(c);
    TVM_LOOP
    for (;;) {
        unsigned x = TVM_LOAD8(p);
        if (x == b)
            return (char *)p;
        if (x == 0)
            return NULL;
        p++;
    }
}

char *strrchr(const char *s, int c) {
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *last = NULL;
    unsigned b = tvm_byte(c);
    TVM_LOOP
    for (;;) {
        unsigned x = TVM_LOAD8(p);
        if (x == b)
            last = p;
        if (x == 0)
            return (char *)last;
        p++;
    }
}

char *strstr(const char *haystack, const char *needle) {
    const unsigned char *h0 = (const unsigned char *)haystack;
    const unsigned char *n0 = (const unsigned char *)needle;
    TVM_LOOP
    for (;;) {
        const unsigned char *h = h0;
        const unsigned char *n = n0;
        TVM_LOOP
        for (;;) {
            unsigned y = TVM_LOAD8(n);
            if (y == 0)
                return (char *)h0;
            if (TVM_LOAD8(h) != y)
                break;
            h++;
            n++;
        }
        if (TVM_LOAD8(h0) == 0)
            return NULL;
        h0++;
    }
}


char *strncat(char *dst, const char *src, size_t n) {
    unsigned char *d = (unsigned char *)dst + strlen(dst);
    const unsigned char *s = (const unsigned char *)src;
    TVM_LOOP
    while (n > 0) {
        unsigned x = TVM_LOAD8(s);
        if (x == 0)
            break;
        *d = (unsigned char)x;
        d++;
        s++;
        n--;
    }
    *d = 0;
    return dst;
}

size_t strnlen(const char *s, size_t max) {
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    TVM_LOOP
    while (n < max) {
        if (TVM_LOAD8(p + n) == 0)
            break;
        n++;
    }
    return n;
}

/* Whether byte c occurs in the NUL-terminated `set`; c = 0 always does
 * (the terminator), which is what strcspn needs. */
static int in_set(unsigned c, const unsigned char *set) {
    TVM_LOOP
    for (;;) {
        unsigned x = TVM_LOAD8(set);
        if (x == c)
            return 1;
        if (x == 0)
            return 0;
        set++;
    }
}

size_t strspn(const char *s, const char *accept) {
    const unsigned char *p = (const unsigned char *)s;
    TVM_LOOP
    for (;;) {
        unsigned x = TVM_LOAD8(p);
        if (x == 0)
            break;
        if (!in_set(x, (const unsigned char *)accept))
            break;
        p++;
    }
    return (size_t)(p - (const unsigned char *)s);
}

size_t strcspn(const char *s, const char *reject) {
    const unsigned char *p = (const unsigned char *)s;
    TVM_LOOP
    while (!in_set(TVM_LOAD8(p), (const unsigned char *)reject))
        p++;
    return (size_t)(p - (const unsigned char *)s);
}

char *strpbrk(const char *s, const char *accept) {
    const char *p = s + strcspn(s, accept);
    return TVM_LOAD8(p) != 0 ? (char *)p : NULL;
}

char *strtok_r(char *s, const char *delimiters, char **state) {
    char *end;
    if (s == NULL)
        s = *state;
    s += strspn(s, delimiters);
    if (TVM_LOAD8(s) == 0) {
        *state = s;
        return NULL;
    }
    end = s + strcspn(s, delimiters);
    if (TVM_LOAD8(end) != 0) {
        *end = 0;
        end++;
    }
    *state = end;
    return s;
}

char *strtok(char *s, const char *delimiters) {
    static char *state;
    if (s == NULL) {
        if (TVM_OPAQUE_PTR(char *, state) == NULL)
            return NULL;
    }
    return strtok_r(s, delimiters, &state);
}

char *strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = (char *)malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

char *strndup(const char *s, size_t n) {
    size_t len = strnlen(s, n);
    char *p = (char *)malloc(len + 1);
    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = 0;
    }
    return p;
}

int strcoll(const char *a, const char *b) { return strcmp(a, b); }

static int format_dec(unsigned v, unsigned char *out);

/* glibc's messages for the errno.h values; "Unknown error N" otherwise. */
char *strerror(int errnum) {
    static char unknown[32] = "Unknown error ";
    unsigned char *p = (unsigned char *)unknown + 14;
    unsigned u = (unsigned)errnum;
    if (errnum == 0)
        return (char *)"Success";
    if (errnum == EBADF)
        return (char *)"Bad file descriptor";
    if (errnum == ENOMEM)
        return (char *)"Cannot allocate memory";
    if (errnum == EINVAL)
        return (char *)"Invalid argument";
    if (errnum == EDOM)
        return (char *)"Numerical argument out of domain";
    if (errnum == ERANGE)
        return (char *)"Numerical result out of range";
    if (errnum == EILSEQ)
        return (char *)"Invalid or incomplete multibyte or wide character";
    if (errnum < 0) {
        *p = '-';
        p++;
        u = 0u - tvm_opaque(u);
    }
    p[format_dec(u, p)] = 0;
    return unknown;
}

/* ------------------------------------------------------------------------ */
/* stdlib.h: numbers                                                         */
/* ------------------------------------------------------------------------ */

int abs(int x) {
    if (x < 0)
        return (int)(0u - tvm_opaque((unsigned)x));
    return x;
}

long labs(long x) { return abs((int)x); }

/* The 64-bit ones and the divisions are what their callers asked for:
 * plain C (lowered routines). */
long long llabs(long long x) { return x < 0 ? -x : x; }

intmax_t imaxabs(intmax_t x) { return llabs(x); }

div_t div(int numer, int denom) {
    div_t r;
    r.quot = numer / denom;
    r.rem = numer % denom;
    return r;
}

ldiv_t ldiv(long numer, long denom) {
    ldiv_t r;
    r.quot = numer / denom;
    r.rem = numer % denom;
    return r;
}

lldiv_t lldiv(long long numer, long long denom) {
    lldiv_t r;
    r.quot = numer / denom;
    r.rem = numer % denom;
    return r;
}

imaxdiv_t imaxdiv(intmax_t numer, intmax_t denom) {
    imaxdiv_t r;
    r.quot = numer / denom;
    r.rem = numer % denom;
    return r;
}

/* The C standard's example generator.  The state is kept as next - 1, so
 * that zeroed memory is the initial seed 1.  Every operator has a constant
 * operand (multiply: doublings and additions; / 65536 and % 32768: a byte
 * shift and a 15-bit mask). */
static unsigned rand_state;

int rand(void) {
    unsigned next = (rand_state + 1u) * 1103515245u + 12345u;
    rand_state = next - 1u;
    return (int)((next / 65536u) % 32768u);
}

void srand(unsigned seed) { rand_state = seed - 1u; }

/* Value of an ASCII digit in bases up to 36, or 36 if `c` is not one. */
static unsigned digit_value(unsigned c) {
    if (tvm_in_range(c, '0', '9'))
        return c - '0';
    c = tvm_opaque(c);
    if (tvm_in_range(c, 'a', 'z'))
        return c - 'a' + 10;
    c = tvm_opaque(c);
    if (tvm_in_range(c, 'A', 'Z'))
        return c - 'A' + 10;
    return 36;
}

/*
 * A number being parsed: the 64-bit magnitude as two words, and whether it
 * overflowed 64 bits (then the words are meaningless).
 */
struct tvm_acc {
    unsigned lo, hi, over;
};

/* Bit weights of a byte, from the top (the last six: the bits of a base,
 * 32 down to 1). */
static const unsigned char tvm_bit_weights[8] = {128, 64, 32, 16, 8, 4, 2, 1};

/* x * base for 2 <= base <= 36 and x * base < 2^32: doublings and
 * additions over the bits of base, from the top (Horner). */
__attribute__((noinline)) static unsigned mul_small(unsigned x, unsigned base) {
    const unsigned char *bit = tvm_bit_weights + 2;
    unsigned r = 0;
    TVM_LOOP
    for (;;) {
        unsigned w = TVM_LOAD8(bit);
        /* a branch (opaque: else selects on a flag kept with `& 1`) */
        if (base >= w) {
            base -= w;
            r = tvm_opaque(r + x);
        }
        if (w == 1)
            return r;
        bit++;
        r = tvm_opaque(r) + r;
    }
}

/* x * base + d in one word (x < TVM_ACC_FAST_LIMIT): base 10 and 16 by
 * short chains of additions, the others by mul_small. */
static inline unsigned mul_base_plus(unsigned x, unsigned base, unsigned d) {
    if (base == 10)
        return tvm_times10_plus(x, d);
    if (base == 16) {
        x = tvm_opaque(x) + x;
        x = tvm_opaque(x) + x;
        x = tvm_opaque(x) + x;
        return tvm_opaque(x) + x + d;
    }
    return mul_small(x, base) + d;
}

/* acc = acc * base + d in two words, with overflow detection: the Horner
 * chain of mul_small over word pairs.  Out of line: it only runs once the
 * value passes 2^32 / 36. */
__attribute__((noinline)) static void acc_push_wide(struct tvm_acc *a, unsigned base,
                                                    unsigned d) {
    const unsigned char *bit = tvm_bit_weights + 2;
    unsigned xlo = a->lo, xhi = a->hi;
    unsigned rlo = 0, rhi = 0;
    unsigned top = tvm_top_bit();
    if (a->over)
        return;
    TVM_LOOP
    for (;;) {
        unsigned w = TVM_LOAD8(bit);
        if (base >= w) {
            unsigned s;
            base -= w;
            /* r += x */
            rlo = rlo + xlo;
            s = rhi + xhi;
            if (s < rhi)
                goto overflow;
            if (rlo < xlo) {
                s++;
                if (s == 0)
                    goto overflow;
            }
            rhi = s;
        }
        if (w == 1)
            break;
        bit++;
        /* r += r */
        if (rhi >= top)
            goto overflow;
        rhi = tvm_opaque(rhi) + rhi;
        if (rlo >= top)
            rhi++;
        rlo = tvm_opaque(rlo) + rlo;
    }
    rlo += d;
    if (rlo < d) {
        rhi++;
        if (rhi == 0)
            goto overflow;
    }
    a->lo = rlo;
    a->hi = rhi;
    return;
overflow:
    a->over = 1;
}

/* Below this, x * base + d fits in one word for every base up to 36
 * (119304646 * 36 + 35 < 2^32).  The digit loops keep the value in a local
 * word while it is below, then go on with acc_push_wide. */
#define TVM_ACC_FAST_LIMIT 119304647u

/* Marks the local word of a digit loop as handed over to the pair. */
#define TVM_ACC_WIDE 0xffffffffu

/* The digits at p (a string) in base b, accumulated into a (whose value
 * so far is a->lo, a->hi = 0): in one word while it stays below
 * TVM_ACC_FAST_LIMIT, then in the pair.  Returns the position after them. */
__attribute__((noinline)) static const unsigned char *
acc_digits(struct tvm_acc *a, const unsigned char *p, unsigned b) {
    unsigned lo = a->lo;
    unsigned d;
    TVM_LOOP
    for (;;) {
        d = digit_value(*p);
        if (d >= b)
            break;
        if (lo >= TVM_ACC_FAST_LIMIT)
            goto wide;
        lo = mul_base_plus(lo, b, d);
        p++;
    }
    a->lo = lo;
    return p;
wide:
    a->lo = lo;
    TVM_LOOP
    for (;;) {
        acc_push_wide(a, b, d);
        p++;
        d = digit_value(*p);
        if (d >= b)
            return p;
    }
}

/*
 * The strto* parser: white space, a sign, a base prefix (0x for bases 0
 * and 16, 0 for base 0) and digits, into the 64-bit magnitude `a`.  Sets
 * *neg, and *end to after the last digit (to s when there is none; after
 * the 0 of a "0x" with no hex digit after it).  Returns 0, or -1 for an
 * invalid base (errno EINVAL).
 */
static int strto_parse(const char *s, char **end, int base, struct tvm_acc *a, int *neg) {
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *digits;
    unsigned b, c, d, lo;
    a->lo = 0;
    a->hi = tvm_opaque(0);
    a->over = tvm_opaque(0);
    *neg = 0;
    if (base < 0 || base > 36 || base == 1) {
        errno = EINVAL;
        if (end)
            *end = (char *)s;
        return -1;
    }
    TVM_LOOP
    while (tvm_isspace(TVM_LOAD8(p)))
        p++;
    c = TVM_LOAD8(p);
    if (c == '-') {
        *neg = 1;
        p++;
    } else if (tvm_opaque(c) == '+') {
        p++;
    }
    b = (unsigned)base;
    if (TVM_LOAD8(p) == '0') {
        c = TVM_LOAD8(p + 1);
        if (c == 'x' || tvm_opaque(c) == 'X') {
            if (b == 0 || tvm_opaque(b) == 16) {
                if (digit_value(TVM_LOAD8(p + 2)) < 16) {
                    p += 2;
                    b = 16;
                }
            }
        }
        if (b == 0)
            b = 8;
    } else if (b == 0) {
        b = 10;
    }
    digits = p;
    if (b == 10) {
        /* the common case, inline: one subtraction finds the digit */
        lo = 0;
        TVM_LOOP
        for (;;) {
            d = (unsigned)*p - '0';
            if (d > 9u)
                break;
            if (lo >= TVM_ACC_FAST_LIMIT)
                break;
            lo = tvm_times10_plus(lo, d);
            p++;
        }
        a->lo = lo;
        if (d <= 9u)
            p = acc_digits(a, p, 10);
    } else {
        p = acc_digits(a, p, b);
    }
    if (end)
        *end = (char *)(p == digits ? (const unsigned char *)s : p);
    return 0;
}

/* 64-bit results leave through memory as two words and one i64 load (the
 * only i64 operation): building them with shifts and ors would cost
 * lowered i64 routines. */
static long long tvm_join64(unsigned lo, unsigned hi) {
    unsigned char buf[8] __attribute__((aligned(8)));
    *(tvm_word *)buf = lo;
    *(tvm_word *)(buf + 4) = hi;
    return *TVM_OPAQUE_PTR(const long long *, buf);
}

/* The value of a parsed magnitude as a 64-bit signed (clamped to
 * [LLONG_MIN, LLONG_MAX]) or unsigned (ULLONG_MAX on overflow, else
 * negated modulo 2^64 for a '-') number, in out[0] (low) and out[1];
 * returns whether it was clamped. */
static int acc_value64(const struct tvm_acc *a, int neg, int is_signed, unsigned *out) {
    unsigned lo = a->lo, hi = a->hi;
    unsigned top = tvm_top_bit();
    int clamped = 0;
    if (is_signed) {
        if (a->over) {
            clamped = 1;
        } else if (neg) {
            /* magnitude <= 2^63 */
            if (hi > top) {
                clamped = 1;
            } else if (tvm_opaque(hi) == top) {
                if (lo != 0)
                    clamped = 1;
            }
        } else if (hi >= top) {
            clamped = 1;
        }
        if (clamped) {
            out[0] = neg ? 0u : 0xffffffffu;
            out[1] = neg ? top : top - 1u;
            return 1;
        }
    } else if (a->over) {
        out[0] = 0xffffffffu;
        out[1] = tvm_opaque(0xffffffffu);
        return 1;
    }
    if (neg) {
        /* -(hi:lo): the high word borrows unless lo is 0 */
        hi = tvm_opaque(0u - hi);
        if (lo != 0)
            hi--;
        lo = 0u - lo;
    }
    out[0] = lo;
    out[1] = hi;
    return 0;
}

unsigned long long strtoull(const char *s, char **end, int base) {
    struct tvm_acc a;
    unsigned v[2];
    int neg;
    if (strto_parse(s, end, base, &a, &neg) != 0)
        return 0;
    if (acc_value64(&a, neg, 0, v))
        errno = ERANGE;
    return (unsigned long long)tvm_join64(v[0], v[1]);
}

long long strtoll(const char *s, char **end, int base) {
    struct tvm_acc a;
    unsigned v[2];
    int neg;
    if (strto_parse(s, end, base, &a, &neg) != 0)
        return 0;
    if (acc_value64(&a, neg, 1, v))
        errno = ERANGE;
    return tvm_join64(v[0], v[1]);
}

/* long is 32-bit: a magnitude above 2^32 - 1 clamps to ULONG_MAX, else a
 * '-' negates it modulo 2^32 (as strtoul does). */
unsigned long strtoul(const char *s, char **end, int base) {
    struct tvm_acc a;
    int neg;
    if (strto_parse(s, end, base, &a, &neg) != 0)
        return 0;
    if (a.over != 0)
        goto range;
    if (tvm_opaque(a.hi) != 0)
        goto range;
    return neg ? 0u - a.lo : a.lo;
range:
    errno = ERANGE;
    return 0xffffffffu;
}

long strtol(const char *s, char **end, int base) {
    struct tvm_acc a;
    int neg;
    unsigned limit;
    if (strto_parse(s, end, base, &a, &neg) != 0)
        return 0;
    /* 2^31 - 1, or 2^31 for a '-' */
    limit = tvm_top_bit() - 1u;
    if (neg)
        limit++;
    if (a.over != 0)
        goto range;
    if (tvm_opaque(a.hi) != 0)
        goto range;
    if (a.lo > limit)
        goto range;
    return neg ? (long)(0u - a.lo) : (long)a.lo;
range:
    errno = ERANGE;
    return (long)limit;
}

/*
 * atoi and atol: strtol(s, NULL, 10) (clamped to the 32-bit range, errno
 * ERANGE), by a parser of their own that knows only base 10 and one word,
 * so that a program that parses its arguments with atoi does not link the
 * general one.  The magnitude is kept while it is below 2^32; `over` says
 * it got past.
 */
__attribute__((noinline)) static long tvm_atol(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    unsigned v = 0, over = 0, limit, c;
    int neg = 0;
    TVM_LOOP
    while (tvm_isspace(TVM_LOAD8(p)))
        p++;
    c = TVM_LOAD8(p);
    if (c == '-') {
        neg = 1;
        p++;
    } else if (tvm_opaque(c) == '+') {
        p++;
    }
    TVM_LOOP
    for (;;) {
        unsigned d = (unsigned)*p - '0';
        if (d > 9u)
            break;
        if (v < 429496729u) {
            v = tvm_times10_plus(v, d);
        } else if (v == 429496729u) {
            if (d <= 5u)
                v = tvm_times10_plus(v, d); /* at most 2^32 - 1 */
            else
                over = 1;
        } else {
            over = 1;
        }
        p++;
    }
    /* 2^31 - 1, or 2^31 for a '-' */
    limit = tvm_top_bit() - 1u;
    if (neg)
        limit++;
    if (over != 0)
        goto range;
    if (v > limit)
        goto range;
    return neg ? (long)(0u - v) : (long)v;
range:
    errno = ERANGE;
    return (long)limit;
}

int atoi(const char *s) { return (int)tvm_atol(s); }
long atol(const char *s) { return tvm_atol(s); }
long long atoll(const char *s) { return strtoll(s, NULL, 10); }

intmax_t strtoimax(const char *s, char **end, int base) { return strtoll(s, end, base); }
uintmax_t strtoumax(const char *s, char **end, int base) { return strtoull(s, end, base); }

/* ------------------------------------------------------------------------ */
/* stdlib.h: qsort, bsearch                                                  */
/* ------------------------------------------------------------------------ */

typedef int (*tvm_compare)(const void *, const void *);

/* Exchanges two (possibly unaligned) elements of `size` bytes. */
static void swap_bytes(unsigned char *a, unsigned char *b, size_t size) {
    TVM_LOOP
    while (size >= 4) {
        uint32_t x = *(const tvm_word *)a;
        *(tvm_word *)a = tvm_opaque(*(const tvm_word *)b);
        *(tvm_word *)b = x;
        a += 4;
        b += 4;
        size -= 4;
    }
    TVM_LOOP
    while (size > 0) {
        unsigned x = TVM_LOAD8(a);
        *a = (unsigned char)TVM_LOAD8(b);
        *b = (unsigned char)x;
        a++;
        b++;
        size--;
    }
}

/* Insertion sort of the elements lo..hi (inclusive). */
static void insertion_sort(unsigned char *lo, unsigned char *hi, size_t size, tvm_compare cmp) {
    unsigned char *p = lo + size;
    TVM_LOOP
    while (p <= hi) {
        unsigned char *q = p;
        TVM_LOOP
        while (q > lo) {
            if (cmp(q - size, q) <= 0)
                break;
            swap_bytes(q - size, q, size);
            q -= size;
        }
        p += size;
    }
}

/*
 * Quicksort of the elements lo..hi (inclusive): median of three, Hoare
 * partition (equal keys stop both scans, so runs of equal keys split
 * evenly), recursion into the smaller part and a loop over the larger, and
 * insertion sort below `small` bytes (seven elements).  Everything is
 * pointer arithmetic: no multiplication or division by the element size.
 */
static void quicksort(unsigned char *lo, unsigned char *hi, size_t size, size_t small,
                      tvm_compare cmp) {
    TVM_LOOP
    while (hi - lo >= (ptrdiff_t)small) {
        unsigned char *mid = lo;
        unsigned char *end = hi;
        unsigned char *i, *j, *before, *after;
        /* the middle: two pointers walk towards each other */
        TVM_LOOP
        while (mid < end) {
            mid += tvm_opaque(size);
            end -= tvm_opaque(size);
        }
        /* order lo <= mid <= hi, then the median goes to lo */
        if (cmp(mid, lo) < 0)
            swap_bytes(mid, lo, size);
        if (cmp(hi, mid) < 0) {
            swap_bytes(hi, mid, size);
            if (cmp(mid, lo) < 0)
                swap_bytes(mid, lo, size);
        }
        swap_bytes(lo, mid, size);
        i = lo;
        j = hi + size;
        TVM_LOOP
        for (;;) {
            TVM_LOOP
            do
                i += size;
            while (i < hi && cmp(i, lo) < 0);
            TVM_LOOP
            do
                j -= size;
            while (j > lo && cmp(lo, j) < 0);
            if (i >= j)
                break;
            swap_bytes(i, j, size);
        }
        swap_bytes(lo, j, size);
        /* lo..j-1 <= pivot (at j) <= j+1..hi (opaque: else clang computes
         * j - size as (j + size) - (size << 1)) */
        before = j - tvm_opaque(size);
        after = j + size;
        if (j - lo < hi - j) {
            if (j > lo)
                quicksort(lo, before, size, small, cmp);
            lo = after;
        } else {
            if (j < hi)
                quicksort(after, hi, size, small, cmp);
            hi = before;
        }
    }
    if (lo < hi)
        insertion_sort(lo, hi, size, cmp);
}

void qsort(void *base, size_t count, size_t size, tvm_compare cmp) {
    unsigned char *lo = (unsigned char *)base;
    size_t small;
    if (count < 2)
        return;
    if (size == 0)
        return;
    /* seven elements, by doubling: 8 * size - size */
    small = tvm_opaque(size) + size;
    small = tvm_opaque(small) + small;
    small = tvm_opaque(small) + small - size;
    /* cold: one multiply per call */
    quicksort(lo, lo + (count - 1) * size, size, small, cmp);
}

/*
 * Binary search by doubling strides: with stride[k] = size * 2^k for the
 * 2^k <= count, the first element not below the key is found by trying the
 * strides from the largest down (each try: is the element stride[k] ahead
 * still below the key?).  log2(count) + 1 comparisons, additions only.
 */
void *bsearch(const void *key, const void *base, size_t count, size_t size,
              tvm_compare cmp) {
    unsigned strides[64]; /* pairs: element count 2^k, stride size * 2^k */
    unsigned *top = strides;
    const unsigned char *p = (const unsigned char *)base;
    unsigned n = 1, stride = size;
    unsigned before = 0; /* elements before p, all below the key */
    TVM_LOOP
    while (n <= count) {
        top[0] = n;
        top[1] = stride;
        top += 2;
        if (n >= tvm_top_bit())
            break;
        n = tvm_opaque(n) + n;
        stride = tvm_opaque(stride) + stride;
    }
    TVM_LOOP
    while (top != strides) {
        top -= 2;
        if (before + top[0] <= count) {
            const unsigned char *q = p + top[1] - size;
            if (cmp(key, q) > 0) {
                p = q + size;
                before += top[0];
            }
        }
    }
    if (before < count) {
        if (cmp(key, p) == 0)
            return (void *)p;
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* stdlib.h: memory                                                          */
/* ------------------------------------------------------------------------ */


/* The end of linear memory: memory.size pages, multiplied by additions
 * (once, at the first malloc; memory is at most 16 pages). */
static uintptr_t memory_end(void) {
    unsigned pages = (unsigned)__builtin_wasm_memory_size(0);
    unsigned end = 0;
    TVM_LOOP
    while (pages > 0) {
        end = tvm_opaque(end + TVM_PAGE);
        pages--;
    }
    return end;
}

/* Scratch word for low3 (there are no threads or signals). */
static unsigned char low3_scratch[4];

/* `n mod 8`, without AND: the low byte of n (stored as a word and read
 * back through an opaque pointer, so clang cannot turn the round trip into
 * a mask), then subtraction of 128, 64, 32, 16 and 8. */
static unsigned low3(unsigned n) {
    *(tvm_word *)low3_scratch = n;
    n = TVM_LOAD8(tvm_opaque((unsigned)(uintptr_t)low3_scratch));
    if (n >= 128u) n -= 128u;
    if (n >= 64u) n -= 64u;
    if (n >= 32u) n -= 32u;
    if (n >= 16u) n -= 16u;
    if (n >= 8u) n -= 8u;
    return n;
}

/* Rounds n (< 2^32 - 8) up to a multiple of 8. */
static unsigned round_up8(unsigned n) {
    unsigned r = low3(tvm_opaque(n));
    return r == 0 ? n : n + (8u - r);
}


/* The stdin header: address of the first stdin byte, and the count. */
#define TVM_STDIN_INFO 248u

/* Bytes below stdin that ungetc may write (kept out of the heap). */
#define TVM_PUSHBACK 16u

/* Where stdin starts: its first byte, or the end of memory without stdin
 * (the header's words are 0 then). */
static uintptr_t stdin_base(void) {
    const unsigned *info = TVM_OPAQUE_PTR(const unsigned *, TVM_STDIN_INFO);
    uintptr_t base = info[0];
    if (base == 0)
        base = memory_end();
    return base;
}

/*
 * The allocator: first fit over a list of free blocks, immediate
 * coalescing.
 *
 * The heap is [heap_start, heap_end): blocks from heap_start up to
 * heap_top, then untouched memory (the "top").  Each block is an 8-byte
 * header and a payload of at least 8 bytes, a multiple of 8 (so payloads
 * are 8-aligned):
 *     word 0: the payload size if the block is in use, minus it if free;
 *     word 1: the payload size of the block just below (0 for the first).
 * Free blocks are on a doubly linked list (LIFO) through their first two
 * payload words (next, previous: header addresses).  Invariants: no two
 * free blocks are neighbours, and no free block touches the top (free
 * merges them); top_prev_size is the payload size of the block just below
 * heap_top.  Memory at and above heap_clean has never been handed out, so
 * it is still zero (calloc zeroes only below it).
 */
struct tvm_block {
    int size;           /* > 0 in use, < 0 free */
    unsigned prev_size; /* payload size of the block below */
    struct tvm_block *next, *prev; /* free blocks only */
};

static unsigned char *heap_start; /* 0 until the first call */
static unsigned char *heap_top;
static unsigned char *heap_end;
static unsigned char *heap_clean;
static unsigned top_prev_size;
static struct tvm_block *free_head;

#define TVM_PAYLOAD(b) ((void *)((unsigned char *)(b) + 8))
#define TVM_HEADER(p) ((struct tvm_block *)((unsigned char *)(p)-8))
#define TVM_NEXT_BLOCK(b, size) ((struct tvm_block *)((unsigned char *)(b) + 8 + (size)))

__attribute__((noinline)) static void heap_init(void) {
    unsigned char *start =
        (unsigned char *)(uintptr_t)round_up8((unsigned)(uintptr_t)&__heap_base);
    heap_start = start;
    heap_top = start;
    heap_clean = start;
    heap_end = (unsigned char *)(stdin_base() - TVM_PUSHBACK);
}

static void free_unlink(struct tvm_block *b) {
    struct tvm_block *next = b->next;
    struct tvm_block *prev = b->prev;
    if (prev != NULL)
        prev->next = next;
    else
        free_head = next;
    if (next != NULL)
        next->prev = prev;
}

static void free_push(struct tvm_block *b) {
    struct tvm_block *head = free_head;
    b->next = head;
    b->prev = NULL;
    if (head != NULL)
        head->prev = b;
    free_head = b;
}

/* Records that the block below `after` (a block or heap_top) has payload
 * `size`. */
static void set_prev_size(struct tvm_block *after, unsigned size) {
    if ((unsigned char *)after == heap_top)
        top_prev_size = size;
    else
        after->prev_size = size;
}

/* Shrinks the in-use block b (payload `have`) to `need` bytes when the rest
 * can hold a block of its own, and frees that rest. */
static void split_block(struct tvm_block *b, unsigned have, unsigned need) {
    struct tvm_block *rest;
    unsigned rest_size;
    if (have - need < 16u)
        return;
    rest_size = have - need - 8u;
    b->size = (int)need;
    rest = TVM_NEXT_BLOCK(b, need);
    rest->size = (int)rest_size;
    rest->prev_size = need;
    set_prev_size(TVM_NEXT_BLOCK(rest, rest_size), rest_size);
    free(TVM_PAYLOAD(rest));
}

/* The payload size for a request: at least 8, rounded up to 8; 0 when the
 * request cannot fit in the heap at all. */
static unsigned payload_size(size_t size) {
    if (size <= 64u) {
        /* small sizes by a search over the multiples of 8 (3 compares,
         * where round_up8 costs a dozen) */
        if (size <= 32u) {
            if (size <= 16u)
                return size <= 8u ? 8u : 16u;
            return size <= 24u ? 24u : 32u;
        }
        if (size <= 48u)
            return size <= 40u ? 40u : 48u;
        return size <= 56u ? 56u : 64u;
    }
    if (size > (size_t)(heap_end - heap_start))
        return 0;
    return round_up8((unsigned)size);
}

void *malloc(size_t size) {
    struct tvm_block *b;
    unsigned need;
    if (heap_start == NULL)
        heap_init();
    need = payload_size(size);
    if (need == 0)
        goto fail;
    /* first fit */
    b = free_head;
    TVM_LOOP
    while (b != NULL) {
        unsigned have = 0u - (unsigned)b->size;
        if (have >= need) {
            free_unlink(b);
            b->size = (int)have;
            split_block(b, have, need);
            return TVM_PAYLOAD(b);
        }
        b = b->next;
    }
    /* from the top */
    if (need + 8u > (size_t)(heap_end - heap_top))
        goto fail;
    b = (struct tvm_block *)heap_top;
    b->size = (int)need;
    b->prev_size = top_prev_size;
    top_prev_size = need;
    heap_top = (unsigned char *)TVM_NEXT_BLOCK(b, need);
    if (heap_top > heap_clean)
        heap_clean = heap_top;
    return TVM_PAYLOAD(b);
fail:
    errno = ENOMEM;
    return NULL;
}

void free(void *ptr) {
    struct tvm_block *b, *next;
    unsigned size;
    if (ptr == NULL)
        return;
    b = TVM_HEADER(ptr);
    if (b->size <= 0)
        return; /* not in use: a double free, ignored */
    size = (unsigned)b->size;
    /* merge with a free block below */
    if ((unsigned char *)b != heap_start) {
        struct tvm_block *below =
            (struct tvm_block *)((unsigned char *)b - 8 - b->prev_size);
        if (below->size < 0) {
            free_unlink(below);
            size = size + 8u + (0u - (unsigned)below->size);
            b = below;
        }
    }
    next = TVM_NEXT_BLOCK(b, size);
    /* the top swallows a block that touches it */
    if ((unsigned char *)next == heap_top) {
        heap_top = (unsigned char *)b;
        top_prev_size = b->prev_size;
        return;
    }
    /* merge with a free block above */
    if (next->size < 0) {
        free_unlink(next);
        size = size + 8u + (0u - (unsigned)next->size);
        next = TVM_NEXT_BLOCK(b, size);
    }
    b->size = -(int)size;
    set_prev_size(next, size);
    free_push(b);
}

void *calloc(size_t count, size_t size) {
    unsigned char *clean = heap_clean;
    unsigned char *p;
    size_t total;
    /* Products above TVM_MAX_BYTES cannot be allocated; the checks below
     * leave only products that fit in 32 bits (count < 2^10 or size <
     * 2^11, both <= 2^20), which malloc checks. */
    if (count == 0)
        total = 0;
    else if (size == 0)
        total = 0;
    else if (count == 1)
        total = size;
    else if (size == 1)
        total = count;
    else {
        if (count > TVM_MAX_BYTES)
            goto fail;
        if (size > TVM_MAX_BYTES)
            goto fail;
        if (count >= 1024u) {
            if (tvm_opaque(size) >= 2048u)
                goto fail;
        }
        total = count * size; /* cold: one lowered multiply */
    }
    p = (unsigned char *)malloc(total);
    /* Memory above the old heap_clean was never handed out: still zero. */
    if (p != NULL) {
        if (p < clean) {
            size_t dirty = (size_t)(clean - p);
            memset(p, 0, dirty < total ? dirty : total);
        }
    }
    return p;
fail:
    errno = ENOMEM;
    return NULL;
}

void *realloc(void *ptr, size_t size) {
    struct tvm_block *b, *next;
    unsigned have, need;
    void *fresh;
    if (ptr == NULL)
        return malloc(size);
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    b = TVM_HEADER(ptr);
    have = (unsigned)b->size;
    need = payload_size(size);
    if (need == 0) {
        errno = ENOMEM;
        return NULL;
    }
    if (need <= have) {
        split_block(b, have, need);
        return ptr;
    }
    next = TVM_NEXT_BLOCK(b, have);
    if ((unsigned char *)next == heap_top) {
        /* grow into the top */
        if (need - have <= (size_t)(heap_end - heap_top)) {
            b->size = (int)need;
            heap_top = (unsigned char *)TVM_NEXT_BLOCK(b, need);
            top_prev_size = need;
            if (heap_top > heap_clean)
                heap_clean = heap_top;
            return ptr;
        }
    } else if (next->size < 0) {
        /* absorb the free block above */
        unsigned merged = have + 8u + (0u - (unsigned)next->size);
        if (merged >= need) {
            free_unlink(next);
            b->size = (int)merged;
            set_prev_size(TVM_NEXT_BLOCK(b, merged), merged);
            split_block(b, merged, need);
            return ptr;
        }
    }
    fresh = malloc(size);
    if (fresh == NULL)
        return NULL;
    memcpy(fresh, ptr, have);
    free(ptr);
    return fresh;
}

/* ------------------------------------------------------------------------ */
/* stdio.h: streams and output                                               */
/* ------------------------------------------------------------------------ */

/* A FILE is one of the three below, told apart by address; it holds the
 * end-of-file and error indicators. */
struct __tvm_file {
    int eof;
    int error;
};

FILE __tvm_stdin, __tvm_stdout, __tvm_stderr;

/* The stream the output channel is on: 0 stdout, 1 stderr (the codes that
 * follow the 0xFF escape). */
static unsigned out_stream;

/* Conversions (printf and scanf); the integers of printf are 1..6. */
#define TVM_K_OTHER 0
#define TVM_K_D 1
#define TVM_K_I 2
#define TVM_K_U 3
#define TVM_K_LOWER_X 4
#define TVM_K_UPPER_X 5
#define TVM_K_O 6
#define TVM_K_C 7
#define TVM_K_S 8
#define TVM_K_PERCENT 9
#define TVM_K_P 10
#define TVM_K_N 11
#define TVM_K_SET 12 /* [ (scanf) */
/* Flags 16..21 */
#define TVM_K_MINUS 16
#define TVM_K_ZERO 17
#define TVM_K_PLUS 18
#define TVM_K_SPACE 19
#define TVM_K_HASH 20
#define TVM_K_QUOTE 21
/* Length modifiers 24..30 */
#define TVM_K_H 24
#define TVM_K_L 25
#define TVM_K_J 26 /* j and q: 64-bit */
#define TVM_K_BIG_L 27
#define TVM_K_Z 29
#define TVM_K_T 30
/* Width and precision */
#define TVM_K_STAR 32
#define TVM_K_DOT 33
#define TVM_K_DIGIT 34 /* 1..9 */

/*
 * Format tables (512 bytes of data; filling them at run time would cost
 * more steps than their bytes cost tokens):
 *  - fmt_stop: 1 for the bytes a run of plain format text stops at: NUL,
 *    '%' and 0xFF (which must be doubled);
 *  - fmt_class: the class of each byte in a conversion specification, so
 *    one load replaces a chain of compares.
 */
static const unsigned char fmt_stop[256] = {[0] = 1, ['%'] = 1, [255] = 1};

static const unsigned char fmt_class[256] = {
    ['d'] = TVM_K_D,     ['i'] = TVM_K_I,       ['u'] = TVM_K_U,     ['x'] = TVM_K_LOWER_X,
    ['X'] = TVM_K_UPPER_X, ['o'] = TVM_K_O,     ['c'] = TVM_K_C,     ['s'] = TVM_K_S,
    ['%'] = TVM_K_PERCENT, ['p'] = TVM_K_P,     ['n'] = TVM_K_N,     ['['] = TVM_K_SET,
    ['-'] = TVM_K_MINUS, ['0'] = TVM_K_ZERO,    ['+'] = TVM_K_PLUS,  [' '] = TVM_K_SPACE,
    ['#'] = TVM_K_HASH,  ['\''] = TVM_K_QUOTE,  ['h'] = TVM_K_H,     ['l'] = TVM_K_L,
    ['j'] = TVM_K_J,     ['q'] = TVM_K_J,       ['L'] = TVM_K_BIG_L, ['z'] = TVM_K_Z,
    ['t'] = TVM_K_T,     ['*'] = TVM_K_STAR,    ['.'] = TVM_K_DOT,   ['1'] = TVM_K_DIGIT,
    ['2'] = TVM_K_DIGIT, ['3'] = TVM_K_DIGIT,   ['4'] = TVM_K_DIGIT, ['5'] = TVM_K_DIGIT,
    ['6'] = TVM_K_DIGIT, ['7'] = TVM_K_DIGIT,   ['8'] = TVM_K_DIGIT, ['9'] = TVM_K_DIGIT,
};

/* Puts the output channel on stream s (0 or 1). */
__attribute__((noinline)) static void out_switch(unsigned s) {
    __tvm_output(255);
    __tvm_output((int)s);
    out_stream = s;
}

/* Writes byte b (0..255) to stream s: a switch first if the channel is
 * on the other stream, and 0xFF doubled. */
__attribute__((noinline)) static void out_framed(unsigned b, unsigned s) {
    if (s != out_stream)
        out_switch(s);
    if (b == 255)
        __tvm_output(255);
    __tvm_output((int)b);
}

/* The output stream of f (0 stdout, 1 stderr), or -1 (stdin, or not a
 * stream): then the call fails with EBADF. */
static int out_stream_of(FILE *f) {
    if (f == stdout)
        return 0;
    if (f == stderr)
        return 1;
    errno = EBADF;
    if (f == stdin)
        f->error = 1;
    return -1;
}

/* Writes the NUL-terminated str to stream s; returns its length.  The
 * stream is switched once, then each byte costs one compare (for NUL and
 * 0xFF together). */
static int out_string(const char *str, unsigned s) {
    const unsigned char *p = (const unsigned char *)str;
    unsigned c = *p;
    if (c == 0)
        return 0;
    if (s != out_stream)
        out_switch(s);
    TVM_LOOP
    for (;;) {
        /* one compare for the two rare bytes: c - 1 wraps 0 to the top */
        if (c - 1u >= 254u) {
            if (c == 0)
                break;
            __tvm_output(255);
        }
        __tvm_output((int)c);
        p++;
        c = TVM_LOAD8(p);
    }
    return (int)(p - (const unsigned char *)str);
}

/* putc of anything but a byte below 255 on the current stream. */
__attribute__((noinline)) static int put_slow(int c, unsigned s) {
    unsigned b = tvm_byte(c);
    out_framed(b, s);
    return (int)b;
}

int putchar(int c) {
    if ((unsigned)c < 255u) {
        if (out_stream == 0) {
            __tvm_output(c);
            return c;
        }
    }
    return put_slow(c, 0);
}

int fputc(int c, FILE *f) {
    int s;
    if (f == stdout)
        return putchar(c);
    s = out_stream_of(f);
    if (s < 0)
        return EOF;
    return put_slow(c, (unsigned)s);
}

int putc(int c, FILE *f) { return fputc(c, f); }

int puts(const char *s) {
    int n = out_string(s, 0);
    putchar('\n');
    return n + 1;
}

int fputs(const char *str, FILE *f) {
    int s = out_stream_of(f);
    if (s < 0)
        return EOF;
    out_string(str, (unsigned)s);
    return 1;
}

size_t fwrite(const void *ptr, size_t size, size_t count, FILE *f) {
    const unsigned char *p = (const unsigned char *)ptr;
    size_t total;
    int s = out_stream_of(f);
    if (s < 0)
        return 0;
    if (size == 1)
        total = count;
    else if (count == 1)
        total = size;
    else
        total = size * count; /* cold: one lowered multiply */
    if (total == 0)
        return 0;
    TVM_LOOP
    while (total > 0) {
        out_framed(TVM_LOAD8(p), (unsigned)s);
        p++;
        total--;
    }
    return count;
}

int fflush(FILE *f) {
    (void)f;
    return 0;
}

int feof(FILE *f) { return f->eof; }
int ferror(FILE *f) { return f->error; }

void clearerr(FILE *f) {
    f->eof = 0;
    f->error = (int)tvm_opaque(0); /* not merged into an i64 store */
}

void perror(const char *s) {
    if (s != NULL) {
        if (TVM_LOAD8(s) != 0) {
            out_string(s, 1);
            out_string(": ", 1);
        }
    }
    out_string(strerror(errno), 1);
    out_framed('\n', 1);
}

/* assert.h: the message glibc prints, then abort.  Written piece by piece
 * (not with fprintf), so that assert does not link printf. */
void __tvm_assert_fail(const char *expression, const char *file, unsigned line,
                       const char *function) {
    /* argv[0], if there is one, from the input image */
    const int *argc = TVM_OPAQUE_PTR(const int *, 256u);
    const char *name = "";
    unsigned char digits[12];
    const char *parts[11];
    const char **part = parts;
    if (*argc > 0)
        name = *(const char *const *)(argc + 1);
    digits[format_dec(line, digits)] = 0;
    parts[0] = name;
    parts[1] = TVM_LOAD8(name) != 0 ? ": " : "";
    parts[2] = file;
    parts[3] = ":";
    parts[4] = (const char *)digits;
    parts[5] = ": ";
    parts[6] = function != NULL ? function : "";
    parts[7] = function != NULL ? ": " : "";
    parts[8] = "Assertion `";
    parts[9] = expression;
    parts[10] = "' failed.\n";
    TVM_LOOP
    while (part != parts + 11) {
        out_string(*part, 1);
        part++;
    }
    abort();
}

/* ------------------------------------------------------------------------ */
/* stdio.h: printf                                                           */
/* ------------------------------------------------------------------------ */

/*
 * Where formatted output goes (printf is not re-entrant: there are no
 * threads or signals).  sink_mode 1: straight to the output, on the stream
 * the channel is already on; 2: to the output on sink_stream, which the
 * channel is not on yet (the first byte switches it, then the mode is 1);
 * 0: into sink_buf, keeping at most sink_cap - 1 bytes (room for the NUL).
 * sink_len counts every byte produced, as the C return value needs.
 */
static unsigned char *sink_buf;
static size_t sink_cap;
static size_t sink_len;
static int sink_mode;
static unsigned sink_stream;

/* Bytes the buffer can still take of n (it keeps sink_cap - 1). */
static size_t sink_room(size_t n) {
    size_t room;
    if (sink_len + 1 >= sink_cap)
        return 0;
    room = sink_cap - tvm_opaque(sink_len + 1);
    return n < room ? n : room;
}

/* One byte, not through the fast path (buffer, pending switch, 0xFF). */
__attribute__((noinline)) static void sink_put_slow(unsigned c) {
    if (sink_mode == 0) {
        if (sink_len + 1 < sink_cap)
            sink_buf[sink_len] = (unsigned char)c;
        return;
    }
    out_framed(c, sink_stream);
    sink_mode = 1;
}

static void sink_put(unsigned c) {
    if (sink_mode == 1) {
        if (c != 255u) {
            __tvm_output((int)c);
            sink_len++;
            return;
        }
    }
    sink_put_slow(c);
    sink_len++;
}

/* Makes sink_mode 1 (or 0): writes the pending switch. */
static void sink_direct(void) {
    if (sink_mode == 2) {
        out_switch(sink_stream);
        sink_mode = 1;
    }
}

/* n copies of c (a space or a zero). */
__attribute__((noinline)) static void sink_repeat(unsigned c, int n) {
    if (n <= 0)
        return;
    if (sink_mode == 0) {
        /* a byte loop: printf alone does not link memset */
        unsigned char *d = sink_buf + sink_len;
        size_t k = sink_room((size_t)n);
        TVM_LOOP
        while (k > 0) {
            *d = (unsigned char)c;
            d++;
            k--;
        }
    } else {
        int k = n;
        sink_direct();
        TVM_LOOP
        while (k > 0) {
            __tvm_output((int)c);
            k--;
        }
    }
    sink_len += (size_t)n;
}

/* The n bytes at p. */
__attribute__((noinline)) static void sink_bytes(const unsigned char *p, int n) {
    if (n <= 0)
        return;
    if (sink_mode == 0) {
        /* a byte loop: printf alone does not link memcpy */
        unsigned char *d = sink_buf + sink_len;
        size_t k = sink_room((size_t)n);
        TVM_LOOP
        while (k > 0) {
            *d = (unsigned char)TVM_LOAD8(p);
            d++;
            p++;
            k--;
        }
    } else {
        const unsigned char *end = p + n;
        sink_direct();
        TVM_LOOP
        while (p != end) {
            unsigned c = *p;
            if (c == 255u)
                __tvm_output(255);
            __tvm_output((int)c);
            p++;
        }
    }
    sink_len += (size_t)n;
}

/* Row of the multiples k * p, k = 0..9 (decimal digits). */
#define TVM_ROW10(p)                                                          \
    {0u, (p), 2u * (p), 3u * (p), 4u * (p), 5u * (p), 6u * (p), 7u * (p),     \
     8u * (p), 9u * (p)}

/* Multiples of 10^8 .. 10^0 (10^9 is handled apart: 9 * 10^9 overflows). */
static const unsigned tvm_dec_mult[9][10] = {
    TVM_ROW10(100000000u), TVM_ROW10(10000000u), TVM_ROW10(1000000u),
    TVM_ROW10(100000u),    TVM_ROW10(10000u),    TVM_ROW10(1000u),
    TVM_ROW10(100u),       TVM_ROW10(10u),       TVM_ROW10(1u),
};

/* A leaf of a digit search tree: digit k, subtract m[k]. */
#define TVM_LEAF(k)                                                           \
    do {                                                                      \
        d = (k);                                                              \
        sub = m[k];                                                           \
    } while (0)

/*
 * The digit of v for the power whose multiples are m[0..9] (v < 10 * m[1]):
 * a binary search over the multiples, four compares at most, then one
 * subtraction.  Every index is a constant, so no address arithmetic.
 */
static inline unsigned tvm_dec_digit(unsigned *v, const unsigned *m) {
    unsigned x = *v;
    unsigned d, sub;
    if (x >= m[5]) {
        if (x >= m[7]) {
            if (x >= m[9])
                TVM_LEAF(9);
            else if (x >= m[8])
                TVM_LEAF(8);
            else
                TVM_LEAF(7);
        } else if (x >= m[6]) {
            TVM_LEAF(6);
        } else {
            TVM_LEAF(5);
        }
    } else if (x >= m[2]) {
        if (x >= m[4])
            TVM_LEAF(4);
        else if (x >= m[3])
            TVM_LEAF(3);
        else
            TVM_LEAF(2);
    } else if (x >= m[1]) {
        TVM_LEAF(1);
    } else {
        TVM_LEAF(0);
    }
    *v = x - sub;
    return d;
}

/*
 * Writes the decimal digits of v (no leading zeros; "0" for 0) to out and
 * returns their count (1..10).
 */
__attribute__((noinline)) static int format_dec(unsigned v, unsigned char *out) {
    const unsigned *m;
    const unsigned *last = tvm_dec_mult[8];
    int n = 0;
    if (v >= 1000000000u) {
        /* The 10^9 digit (at most 4) by subtraction; opaque so that clang
         * does not compute the count with a division. */
        unsigned top = 0;
        TVM_LOOP
        while (v >= 1000000000u) {
            v = tvm_opaque(v - 1000000000u);
            top++;
        }
        out[0] = (unsigned char)('0' + tvm_opaque(top));
        n = 1;
        m = tvm_dec_mult[0];
    } else if (v < 100000u) {
        /* First row: the largest power <= v (a binary search, so small
         * numbers do not walk past every leading zero). */
        if (v < 100u)
            m = v < 10u ? tvm_dec_mult[8] : tvm_dec_mult[7];
        else if (v < 1000u)
            m = tvm_dec_mult[6];
        else
            m = v < 10000u ? tvm_dec_mult[5] : tvm_dec_mult[4];
    } else if (v < 10000000u) {
        m = v < 1000000u ? tvm_dec_mult[3] : tvm_dec_mult[2];
    } else {
        m = v < 100000000u ? tvm_dec_mult[1] : tvm_dec_mult[0];
    }
    TVM_LOOP
    for (;;) {
        /* opaque: with d < 10 known, clang would write '0' + d as d | 48 */
        out[n] = (unsigned char)('0' + tvm_opaque(tvm_dec_digit(&v, m)));
        n++;
        if (m == last)
            return n;
        m += 10;
    }
}

/* 10^19 .. 10^9 as {low word, high word}: the powers of ten a 64-bit
 * value can hold beyond the 32-bit ones. */
static const unsigned tvm_dec64_pow[11][2] = {
    {0x89E80000u, 0x8AC72304u}, /* 10^19 */
    {0xA7640000u, 0x0DE0B6B3u}, /* 10^18 */
    {0x5D8A0000u, 0x01634578u}, /* 10^17 */
    {0x6FC10000u, 0x002386F2u}, /* 10^16 */
    {0xA4C68000u, 0x00038D7Eu}, /* 10^15 */
    {0x107A4000u, 0x00005AF3u}, /* 10^14 */
    {0x4E72A000u, 0x00000918u}, /* 10^13 */
    {0xD4A51000u, 0x000000E8u}, /* 10^12 */
    {0x4876E800u, 0x00000017u}, /* 10^11 */
    {0x540BE400u, 0x00000002u}, /* 10^10 */
    {0x3B9ACA00u, 0x00000000u}, /* 10^9 */
};

/*
 * Writes the decimal digits of the 64-bit value hi:lo (no leading zeros)
 * to out and returns their count (1..20).  With hi = 0 it is format_dec;
 * otherwise the value is at least 2^32 > 10^9: the digits of 10^19 ..
 * 10^9 come by repeated subtraction of word pairs (at most 9 each), and
 * the remainder, below 10^9, gives the last nine.
 */
__attribute__((noinline)) static int format_dec64(unsigned lo, unsigned hi,
                                                  unsigned char *out) {
    const unsigned *p = tvm_dec64_pow[0];
    const unsigned *last = tvm_dec64_pow[10];
    unsigned char keep;
    int n = 0;
    if (hi == 0)
        return format_dec(lo, out);
    TVM_LOOP
    for (;;) {
        unsigned plo = p[0];
        unsigned phi = p[1];
        unsigned d = 0;
        TVM_LOOP
        for (;;) {
            /* hi:lo >= phi:plo ?  Then subtract with borrow. */
            if (hi < phi)
                break;
            if (tvm_opaque(hi) == phi) {
                if (tvm_opaque(lo) < plo)
                    break;
            }
            hi = hi - phi - (lo < plo);
            lo = lo - plo;
            d++;
        }
        if (tvm_opaque((unsigned)n) + d != 0) {
            out[n] = (unsigned char)('0' + tvm_opaque(d));
            n++;
        }
        if (p == last)
            break;
        p += 2;
    }
    /* The last nine digits, zero-padded: format_dec of lo + 10^9 writes
     * a '1' and then exactly those nine; the '1' lands on the last digit
     * already written (there is one: the value is >= 10^9), which is
     * saved and put back. */
    keep = out[n - 1];
    format_dec(lo + 1000000000u, out + (n - 1));
    out[n - 1] = keep;
    return n + 9;
}

/* The hex digit of the high and of the low nibble of every byte value. */
#define TVM_HEX16 "0123456789abcdef"
#define TVM_SAME16(c) c c c c c c c c c c c c c c c c
static const unsigned char tvm_hex_hi[257] =
    TVM_SAME16("0") TVM_SAME16("1") TVM_SAME16("2") TVM_SAME16("3")
    TVM_SAME16("4") TVM_SAME16("5") TVM_SAME16("6") TVM_SAME16("7")
    TVM_SAME16("8") TVM_SAME16("9") TVM_SAME16("a") TVM_SAME16("b")
    TVM_SAME16("c") TVM_SAME16("d") TVM_SAME16("e") TVM_SAME16("f");
static const unsigned char tvm_hex_lo[257] =
    TVM_HEX16 TVM_HEX16 TVM_HEX16 TVM_HEX16 TVM_HEX16 TVM_HEX16 TVM_HEX16
    TVM_HEX16 TVM_HEX16 TVM_HEX16 TVM_HEX16 TVM_HEX16 TVM_HEX16 TVM_HEX16
    TVM_HEX16 TVM_HEX16;

/* Appends the hex digits of byte b (one if `skip_high_zero` and b < 16). */
static inline int tvm_hex_byte(unsigned b, int skip_high_zero,
                               unsigned char *out, int n) {
    if (!skip_high_zero || b >= 16u) {
        out[n] = tvm_hex_hi[b];
        n++;
    }
    out[n] = tvm_hex_lo[b];
    return n + 1;
}

/*
 * Writes the hex digits of hi:lo (no leading zeros; "0" for 0) to out and
 * returns their count (1..16); `top` is the index of the most significant
 * byte to look at (3 for a 32-bit value, 7 for a 64-bit one), `alpha` is
 * 'a' or 'A'.  The words are stored and read back byte by byte
 * (little-endian), and each byte indexes two 256-entry tables: loads and
 * adds only, no shift or mask.
 */
__attribute__((noinline)) static int format_hex(unsigned lo, unsigned hi,
                                                unsigned top, unsigned alpha,
                                                unsigned char *out) {
    unsigned char bytes[8];
    const unsigned char *low;
    const unsigned char *p;
    int n;
    *(tvm_word *)bytes = lo;
    *(tvm_word *)(bytes + 4) = tvm_opaque(hi);
    /* Read back through an opaque pointer: otherwise clang forwards the
     * stored word and extracts the bytes with shifts. */
    low = (const unsigned char *)(uintptr_t)tvm_opaque((unsigned)(uintptr_t)bytes);
    p = low + top; /* most significant byte */
    TVM_LOOP
    while (p != low) {
        if (TVM_LOAD8(p) != 0)
            break;
        p--;
    }
    n = tvm_hex_byte(TVM_LOAD8(p), 1, out, 0);
    TVM_LOOP
    while (p != low) {
        p--;
        n = tvm_hex_byte(TVM_LOAD8(p), 0, out, n);
    }
    if (alpha == 'A') {
        int i;
        TVM_LOOP
        for (i = 0; i < n; i++) {
            unsigned c = TVM_LOAD8(out + i);
            if (c >= 'a')
                out[i] = (unsigned char)(c - ('a' - 'A'));
        }
    }
    return n;
}


/*
 * Writes the octal digits of hi:lo (no leading zeros; "0" for 0) to out and
 * returns their count (1..22); `top` is the index of the most significant
 * byte (3 or 7).  The bits are read from the top, each byte compared with
 * 128, 64, ..., 1, and gathered three at a time (the first digit holds the
 * 2 (32-bit) or 1 (64-bit) bits left over).
 */
__attribute__((noinline)) static int format_oct(unsigned lo, unsigned hi, unsigned top,
                                                unsigned char *out) {
    unsigned char bytes[8];
    const unsigned char *low;
    const unsigned char *p;
    unsigned group = top == 3 ? 2 : 1;
    unsigned digit = 0, count = 0;
    int n = 0;
    *(tvm_word *)bytes = lo;
    *(tvm_word *)(bytes + 4) = tvm_opaque(hi);
    low = TVM_OPAQUE_PTR(const unsigned char *, bytes);
    p = low + top;
    TVM_LOOP
    for (;;) {
        unsigned b = TVM_LOAD8(p);
        const unsigned char *w = tvm_bit_weights;
        TVM_LOOP
        for (;;) {
            unsigned weight = TVM_LOAD8(w);
            unsigned bit = 0;
            if (b >= weight) {
                b -= weight;
                bit = 1;
            }
            digit = tvm_opaque(digit) + digit + bit;
            count++;
            if (count == group) {
                /* skip leading zeros: n + digit is 0 only for those */
                if (tvm_opaque((unsigned)n) + digit != 0) {
                    out[n] = (unsigned char)('0' + tvm_opaque(digit));
                    n++;
                }
                digit = 0;
                count = 0;
                group = 3;
            }
            if (w == tvm_bit_weights + 7)
                break;
            w++;
        }
        if (p == low)
            break;
        p--;
    }
    if (n == 0) {
        out[0] = '0';
        n = 1;
    }
    return n;
}

/* v cut to 8 bits (shorts >= 2, hh) or 16 bits (h) and sign-extended:
 * stored, and loaded back with a narrow load (through an opaque pointer,
 * or clang forwards the store and extends with shifts). */
__attribute__((noinline)) static unsigned narrow_signed(unsigned v, int shorts) {
    unsigned char word[4];
    *(tvm_word *)word = v;
    if (shorts >= 2)
        return (unsigned)(int)*TVM_OPAQUE_PTR(const signed char *, word);
    return (unsigned)(int)*TVM_OPAQUE_PTR(const short *, word);
}

/* The same, zero-extended.  (A function of its own: next to the signed
 * load of the same byte, clang would load once and mask.) */
__attribute__((noinline)) static unsigned narrow_unsigned(unsigned v, int shorts) {
    unsigned char word[4];
    *(tvm_word *)word = v;
    if (shorts >= 2)
        return *TVM_OPAQUE_PTR(const unsigned char *, word);
    return *TVM_OPAQUE_PTR(const unsigned short *, word);
}

/* Stores the low `size` bytes (1, 2, 4 or 8) of hi:lo at p, for %n and
 * scanf. */
__attribute__((noinline)) static void store_sized(void *p, unsigned size, unsigned lo,
                                                  unsigned hi) {
    unsigned char *d = (unsigned char *)p;
    if (size == 1) {
        *d = (unsigned char)lo;
    } else if (size == 2) {
        *(unsigned short *)d = (unsigned short)lo;
    } else {
        *(tvm_word *)d = lo;
        if (size == 8)
            *(tvm_word *)(d + 4) = tvm_opaque(hi);
    }
}
/* Padding modes of one conversion. */
#define TVM_PAD_SPACES_LEFT 0 /* default: right-justified */
#define TVM_PAD_ZEROS 1       /* '0' flag: zeros after the sign/prefix */
#define TVM_PAD_SPACES_RIGHT 2 /* '-' flag: left-justified */

/*
 * Emits one integer conversion: `prefix` (sign or 0x), zeros up to the
 * precision, the digits, and padding up to the width (glibc rules: a
 * precision disables the 0 flag; "%.0d" of 0 prints no digits).
 */
__attribute__((noinline)) static void
emit_number(int mode, int width, int prec, const unsigned char *prefix,
            int prefix_len, const unsigned char *digits, int n) {
    int zeros = 0;
    int pad;
    if (prec >= 0) {
        if (mode == TVM_PAD_ZEROS)
            mode = TVM_PAD_SPACES_LEFT;
        if (prec == 0) {
            if (tvm_opaque((unsigned)n) == 1) {
                if (TVM_LOAD8(digits) == '0')
                    n = 0;
            }
        }
        if (prec > n)
            zeros = prec - n;
    }
    pad = width - (prefix_len + zeros + n);
    /* each part only when there is one (a call costs more than a test) */
    if (pad > 0) {
        if (mode == TVM_PAD_SPACES_LEFT)
            sink_repeat(' ', pad);
    }
    if (prefix_len > 0)
        sink_bytes(prefix, prefix_len);
    if (pad > 0) {
        if (mode == TVM_PAD_ZEROS)
            sink_repeat('0', pad);
    }
    if (zeros > 0)
        sink_repeat('0', zeros);
    sink_bytes(digits, n);
    if (pad > 0) {
        if (mode == TVM_PAD_SPACES_RIGHT)
            sink_repeat(' ', pad);
    }
}

/* Emits a byte string (already cut to its precision) padded to `width`. */
__attribute__((noinline)) static void
emit_text(int mode, int width, const unsigned char *p, int n) {
    int pad = width - n;
    if (pad > 0) {
        if (mode != TVM_PAD_SPACES_RIGHT)
            sink_repeat(' ', pad);
    }
    sink_bytes(p, n);
    if (pad > 0) {
        if (mode == TVM_PAD_SPACES_RIGHT)
            sink_repeat(' ', pad);
    }
}


/*
 * Emits an integer conversion of hi:lo: kind TVM_K_D/I (signed),
 * TVM_K_U, TVM_K_LOWER_X/UPPER_X, TVM_K_O or TVM_K_P; `top` is 3 for a
 * 32-bit value, 7 for a 64-bit one; pos_sign is '+', ' ' or 0 (what goes
 * before a non-negative signed number, or a pointer: glibc honours them for
 * %p); alt is the '#' flag.
 */
__attribute__((noinline)) static void emit_integer(unsigned kind, unsigned lo, unsigned hi,
                                                   unsigned top, int mode, int width, int prec,
                                                   unsigned pos_sign, int alt) {
    unsigned char digits[24];
    unsigned char prefix[3];
    int prefix_len = 0;
    int n;
    if (kind <= TVM_K_I) {
        unsigned high = top == 3 ? lo : hi;
        if ((int)high < 0) {
            /* -(hi:lo): the high word borrows unless lo is 0 */
            hi = tvm_opaque(0u - hi);
            if (lo != 0)
                hi--;
            lo = 0u - lo;
            pos_sign = '-';
        }
        if (top == 3)
            hi = 0;
        n = format_dec64(lo, hi, digits);
    } else if (kind == TVM_K_U) {
        pos_sign = 0;
        n = format_dec64(lo, hi, digits);
    } else if (kind == TVM_K_O) {
        pos_sign = 0;
        n = format_oct(lo, hi, top, digits);
        if (alt) {
            /* a leading 0, unless the precision puts one there */
            if (TVM_LOAD8(digits) == '0') {
                if (prec == 0)
                    prec = 1;
            } else if (prec <= n) {
                prefix[0] = '0';
                prefix_len = 1;
            }
        }
    } else {
        /* x, X or p: "0x" (or "0X") before a non-zero value */
        unsigned x = kind == TVM_K_UPPER_X ? 'X' : 'x';
        int nonzero = 0;
        if (kind != TVM_K_P)
            pos_sign = 0;
        else
            alt = 1;
        n = format_hex(lo, hi, top, x == 'X' ? 'A' : 'a', digits);
        if (tvm_opaque(lo) != 0)
            nonzero = 1;
        else if (tvm_opaque(hi) != 0)
            nonzero = 1;
        if (pos_sign != 0) {
            prefix[0] = (unsigned char)pos_sign;
            prefix_len = 1;
            pos_sign = 0;
        }
        if (nonzero) {
            if (tvm_opaque((unsigned)alt) != 0) {
                /* opaque: 0 or 1 plus 2 would become an `or` */
                prefix[prefix_len] = '0';
                prefix[prefix_len + 1] = (unsigned char)x;
                prefix_len = (int)tvm_opaque((unsigned)prefix_len) + 2;
            }
        }
    }
    if (pos_sign != 0) {
        prefix[0] = (unsigned char)pos_sign;
        prefix_len = 1;
    }
    emit_number(mode, width, prec, prefix, prefix_len, digits, n);
}

/*
 * A 64-bit argument (ll, j, q) of an integer conversion.  It is read as its
 * two words (no i64 operation): on wasm32 a va_list is a pointer into the
 * caller's argument buffer, and a 64-bit argument lies at the next multiple
 * of 8.
 */
_Static_assert(__builtin_types_compatible_p(va_list, void *),
               "wasm32 va_list is a plain pointer");
__attribute__((noinline)) static void format_wide(va_list *ap, unsigned kind, int mode,
                                                  int width, int prec, unsigned pos_sign,
                                                  int alt) {
    unsigned char *p = (unsigned char *)*ap;
    unsigned r = low3((unsigned)(uintptr_t)p);
    unsigned lo, hi;
    if (r != 0)
        p += 8u - r;
    lo = tvm_opaque(*(const tvm_word *)p);
    hi = tvm_opaque(*(const tvm_word *)(p + 4));
    *ap = (void *)(p + 8);
    emit_integer(kind, lo, hi, 7, mode, width, prec, pos_sign, alt);
}

/*
 * The conversions format_conversion leaves out of its own code: x X o p n %
 * and unknown ones (printed as written, from `start`, after the '%', to
 * `f`, after the conversion).
 */
__attribute__((noinline)) static void format_rare(unsigned k, va_list *ap,
                                                  const unsigned char *start,
                                                  const unsigned char *f, int mode, int width,
                                                  int prec, unsigned pos_sign, int alt,
                                                  int shorts) {
    if (tvm_in_range(k, TVM_K_LOWER_X, TVM_K_O)) {
        unsigned v = va_arg(*ap, unsigned);
        if (shorts)
            v = narrow_unsigned(v, shorts);
        emit_integer(k, v, 0, 3, mode, width, prec, pos_sign, alt);
    } else if (k == TVM_K_P) {
        unsigned v = (unsigned)(uintptr_t)va_arg(*ap, void *);
        if (v == 0)
            emit_text(mode, width, (const unsigned char *)"(nil)", 5);
        else
            emit_integer(k, v, 0, 3, mode, width, prec, pos_sign, alt);
    } else if (k == TVM_K_PERCENT) {
        sink_put('%');
    } else if (k == TVM_K_N) {
        void *p = va_arg(*ap, void *);
        unsigned size = 4;
        if (shorts >= 2)
            size = 1;
        else if (shorts == 1)
            size = 2;
        store_sized(p, size, (unsigned)sink_len, 0);
    } else {
        /* Unknown conversion: print it as written. */
        sink_put('%');
        sink_bytes(start, (int)(f - start));
    }
}

/* Parses a decimal field width or precision, advancing *fp. */
__attribute__((noinline)) static int parse_decimal(const unsigned char **fp) {
    const unsigned char *f = *fp;
    unsigned v = 0;
    TVM_LOOP
    for (;;) {
        unsigned c = TVM_LOAD8(f);
        if (!tvm_in_range(c, '0', '9'))
            break;
        v = tvm_times10_plus(v, c - '0');
        f++;
    }
    *fp = f;
    return (int)v;
}

/*
 * Formats one conversion; `f` points just after its '%'.  Returns the
 * position after the conversion (at the NUL if the format ends early).
 * Each byte of the specification is classified by one load (fmt_class);
 * %d, %u, %s and %c are handled here, the rest by emit_integer.  Kept out
 * of line so the loop over plain characters in tvm_format stays small.
 */
__attribute__((noinline)) static const unsigned char *
format_conversion(const unsigned char *f, va_list *ap) {
    const unsigned char *start = f;
    int mode = TVM_PAD_SPACES_LEFT;
    int width = -1, prec = -1;
    unsigned pos_sign = 0; /* '+' or ' ' */
    int alt = 0;
    int longs = 0;  /* l (twice: 64-bit), or j, q */
    int shorts = 0; /* h (twice: char) */
    unsigned c = *f;
    unsigned k = TVM_LOAD8(fmt_class + c);

    if (tvm_in_range(k, TVM_K_MINUS, TVM_K_QUOTE)) {
        /* flags (' groups thousands in other locales: nothing in "C") */
        TVM_LOOP
        for (;;) {
            if (k == TVM_K_MINUS) {
                mode = TVM_PAD_SPACES_RIGHT;
            } else if (k == TVM_K_ZERO) {
                if (mode == TVM_PAD_SPACES_LEFT)
                    mode = TVM_PAD_ZEROS;
            } else if (k == TVM_K_PLUS) {
                pos_sign = '+';
            } else if (k == TVM_K_SPACE) {
                if (pos_sign == 0)
                    pos_sign = ' ';
            } else if (k == TVM_K_HASH) {
                alt = 1;
            }
            f++;
            c = *f;
            k = TVM_LOAD8(fmt_class + c);
            if (!tvm_in_range(k, TVM_K_MINUS, TVM_K_QUOTE))
                break;
        }
    }
    if (k == TVM_K_DIGIT) {
        width = parse_decimal(&f);
        c = *f;
        k = TVM_LOAD8(fmt_class + c);
    } else if (k == TVM_K_STAR) {
        width = va_arg(*ap, int);
        if (width < 0) {
            mode = TVM_PAD_SPACES_RIGHT;
            width = (int)(0u - tvm_opaque((unsigned)width));
        }
        f++;
        c = *f;
        k = TVM_LOAD8(fmt_class + c);
    }
    if (k == TVM_K_DOT) {
        f++;
        if (*f == '*') {
            prec = va_arg(*ap, int);
            if (prec < 0)
                prec = -1;
            f++;
        } else {
            prec = parse_decimal(&f);
        }
        c = *f;
        k = TVM_LOAD8(fmt_class + c);
    }
    if (tvm_in_range(k, TVM_K_H, TVM_K_T)) {
        /* l, z, t: long, size_t, ptrdiff_t are 32-bit; ll, j, q: 64-bit;
         * L (long double) is ignored for integers, as glibc does */
        TVM_LOOP
        for (;;) {
            if (k == TVM_K_L)
                longs++;
            else if (k == TVM_K_H)
                shorts++;
            else if (k == TVM_K_J)
                longs = 2;
            f++;
            c = *f;
            k = TVM_LOAD8(fmt_class + c);
            if (!tvm_in_range(k, TVM_K_H, TVM_K_T))
                break;
        }
    }
    if (c == 0)
        return f;
    f++;
    if (longs >= 2) {
        if (tvm_in_range(k, TVM_K_D, TVM_K_O)) {
            format_wide(ap, k, mode, width, prec, pos_sign, alt);
            return f;
        }
        if (k == TVM_K_N) {
            store_sized(va_arg(*ap, void *), 8, (unsigned)sink_len, 0);
            return f;
        }
    }

    if (tvm_in_range(k, TVM_K_D, TVM_K_U)) {
        /* %d %i %u: decimal */
        unsigned char digits[12];
        unsigned char prefix[1];
        int prefix_len = 0;
        unsigned v = (unsigned)va_arg(*ap, int);
        if (k == TVM_K_U) {
            if (shorts)
                v = narrow_unsigned(v, shorts);
        } else {
            if (shorts)
                v = narrow_signed(v, shorts);
            if ((int)v < 0) {
                pos_sign = '-';
                v = 0u - tvm_opaque(v);
            }
            if (pos_sign != 0) {
                prefix[0] = (unsigned char)pos_sign;
                prefix_len = 1;
            }
        }
        emit_number(mode, width, prec, prefix, prefix_len, digits, format_dec(v, digits));
    } else if (k == TVM_K_S) {
        const unsigned char *str = va_arg(*ap, const unsigned char *);
        int len = 0;
        if (str == NULL)
            str = (const unsigned char *)"(null)";
        if (prec < 0) {
            TVM_LOOP
            while (str[len] != 0)
                len++;
        } else {
            TVM_LOOP
            while (len < prec) {
                if (str[len] == 0)
                    break;
                len++;
            }
        }
        emit_text(mode, width, str, len);
    } else if (k == TVM_K_C) {
        unsigned char ch = (unsigned char)va_arg(*ap, int);
        emit_text(mode, width, &ch, 1);
    } else {
        format_rare(k, ap, start, f, mode, width, prec, pos_sign, alt, shorts);
    }
    return f;
}

/* The printf engine behind every printf-family function; output goes to
 * the sink, which the caller has set up.  Returns the bytes produced.
 * Plain text goes in runs: each byte costs one table load to find the end
 * of its run (a '%', a NUL or a 0xFF). */
static int tvm_format(const char *fmt, va_list ap) {
    const unsigned char *f = (const unsigned char *)fmt;
    va_list args;
    va_copy(args, ap);
    TVM_LOOP
    for (;;) {
        const unsigned char *run = f;
        unsigned c;
        if (sink_mode == 1) {
            TVM_LOOP
            for (;;) {
                c = *f;
                if (fmt_stop[c])
                    break;
                __tvm_output((int)c);
                f++;
            }
            sink_len += (size_t)(f - run);
        } else {
            TVM_LOOP
            for (;;) {
                c = *f;
                if (fmt_stop[c])
                    break;
                f++;
            }
            sink_bytes(run, (int)(f - run));
        }
        if (c == 0)
            break;
        f++;
        if (c == '%')
            f = format_conversion(f, &args);
        else
            sink_put(c); /* 0xFF */
    }
    va_end(args);
    return (int)sink_len;
}

/* Sets the sink to stream s (0 stdout, 1 stderr) and formats. */
static int format_to_stream(unsigned s, const char *fmt, va_list ap) {
    sink_stream = s;
    sink_mode = s == out_stream ? 1 : 2;
    sink_len = tvm_opaque(0);
    return tvm_format(fmt, ap);
}

int vprintf(const char *fmt, va_list ap) { return format_to_stream(0, fmt, ap); }

int vfprintf(FILE *f, const char *fmt, va_list ap) {
    int s = out_stream_of(f);
    if (s < 0)
        return -1;
    return format_to_stream((unsigned)s, fmt, ap);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
    int n;
    sink_mode = (int)tvm_opaque(0);
    sink_buf = (unsigned char *)buf;
    sink_cap = size;
    sink_len = tvm_opaque(0);
    n = tvm_format(fmt, ap);
    if (size > 0)
        buf[sink_len < size ? sink_len : size - 1] = 0;
    return n;
}

int vsprintf(char *buf, const char *fmt, va_list ap) {
    return vsnprintf(buf, (size_t)-1, fmt, ap);
}

int printf(const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int fprintf(FILE *f, const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

int sprintf(char *buf, const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, (size_t)-1, fmt, ap);
    va_end(ap);
    return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* ------------------------------------------------------------------------ */
/* stdio.h: stdin                                                            */
/* ------------------------------------------------------------------------ */

/*
 * stdin is read in place: in_pos is the next byte, in_end the end.  Both
 * are 0 until the first read, which finds the bytes through the header at
 * 248 (in_pos == in_end is the one test of the fast path; the slow path
 * opens stdin or reports the end).  ungetc writes below in_pos, down to
 * in_floor (16 bytes below stdin, outside the heap).
 */
static const unsigned char *in_pos;
static const unsigned char *in_end;
static const unsigned char *in_floor;
static int in_open;

static void stdin_open(void) {
    const unsigned *info = TVM_OPAQUE_PTR(const unsigned *, TVM_STDIN_INFO);
    const unsigned char *base = (const unsigned char *)stdin_base();
    in_pos = base;
    in_end = base + info[1];
    in_floor = base - TVM_PUSHBACK;
    in_open = 1;
}

/* Makes in_pos..in_end valid; returns whether a byte is left (if not, the
 * end-of-file indicator is set). */
__attribute__((noinline)) static int stdin_more(void) {
    if (!in_open)
        stdin_open();
    if (in_pos != in_end)
        return 1;
    __tvm_stdin.eof = 1;
    return 0;
}

int getchar(void) {
    const unsigned char *p = in_pos;
    if (p == in_end) {
        if (!stdin_more())
            return EOF;
        p = in_pos;
    }
    in_pos = p + 1;
    return (int)TVM_LOAD8(p);
}

/* Whether f is stdin; otherwise the read fails with EBADF. */
static int is_stdin(FILE *f) {
    if (f == stdin)
        return 1;
    errno = EBADF;
    f->error = 1;
    return 0;
}

int fgetc(FILE *f) {
    if (!is_stdin(f))
        return EOF;
    return getchar();
}

int getc(FILE *f) { return fgetc(f); }

int ungetc(int c, FILE *f) {
    unsigned char *p;
    if (c == EOF)
        return EOF;
    if (!is_stdin(f))
        return EOF;
    if (!in_open)
        stdin_open();
    if (in_pos == in_floor)
        return EOF;
    p = (unsigned char *)in_pos - 1;
    *p = (unsigned char)c;
    in_pos = p;
    __tvm_stdin.eof = 0;
    return (int)TVM_LOAD8(p);
}

char *fgets(char *buf, int size, FILE *f) {
    const unsigned char *p, *stop;
    size_t n;
    int to_end = 0; /* the bytes left are fewer than size - 1 */
    if (!is_stdin(f))
        return NULL;
    if (size <= 0)
        return NULL;
    if (size == 1) {
        *buf = 0;
        return buf;
    }
    if (!stdin_more())
        return NULL;
    /* up to size - 1 bytes, through the first newline */
    p = in_pos;
    stop = p + (size - 1);
    if ((size_t)(in_end - p) < (size_t)(size - 1)) {
        stop = in_end;
        to_end = 1;
    }
    TVM_LOOP
    while (p != stop) {
        unsigned x = TVM_LOAD8(p);
        p++;
        if (x == '\n') {
            to_end = 0;
            break;
        }
    }
    n = (size_t)(p - in_pos);
    memcpy(buf, in_pos, n);
    buf[n] = 0;
    in_pos = p;
    /* it looked for a byte past the end */
    if (to_end)
        __tvm_stdin.eof = 1;
    return buf;
}

size_t fread(void *ptr, size_t size, size_t count, FILE *f) {
    size_t total, avail;
    if (!is_stdin(f))
        return 0;
    if (size == 1)
        total = count;
    else if (count == 1)
        total = size;
    else
        total = size * count; /* cold: one lowered multiply */
    if (total == 0)
        return 0;
    if (!stdin_more())
        return 0;
    avail = (size_t)(in_end - in_pos);
    if (avail >= total) {
        memcpy(ptr, in_pos, total);
        in_pos += total;
        return count;
    }
    __tvm_stdin.eof = 1;
    memcpy(ptr, in_pos, avail);
    in_pos += avail;
    if (size == 1)
        return avail;
    return avail / size; /* cold: a short read of items */
}

/* ------------------------------------------------------------------------ */
/* stdio.h: scanf                                                            */
/* ------------------------------------------------------------------------ */

/*
 * The input of one scanf call: bytes from p up to end (stdin), or up to the
 * NUL (a string: end is NULL).  Conversions look at the next byte without
 * taking it (glibc reads it and pushes it back: the same).
 */
struct tvm_scan {
    const unsigned char *p;
    const unsigned char *end;
    const unsigned char *start; /* for %n */
    int hit_end;                /* a byte was looked for past the end */
};

/* The next byte, or -1 at the end of the input. */
static int scan_peek(struct tvm_scan *in) {
    const unsigned char *p = in->p;
    unsigned c;
    if (p == in->end)
        goto end;
    c = TVM_LOAD8(p);
    if (c == 0) {
        if (in->end == NULL)
            goto end;
    }
    return (int)c;
end:
    in->hit_end = 1;
    return -1;
}

/* Skips white space; returns the next byte (or -1). */
__attribute__((noinline)) static int scan_skip_space(struct tvm_scan *in) {
    int c;
    TVM_LOOP
    for (;;) {
        c = scan_peek(in);
        if (!tvm_isspace((unsigned)c))
            return c;
        in->p++;
    }
}

/* What a number conversion found. */
#define TVM_SCAN_OK 0
#define TVM_SCAN_INPUT_FAILURE 1 /* the input ended first */
#define TVM_SCAN_MATCH_FAILURE 2 /* no number there */

/* Whether the next byte is `c` (case-insensitive for letters given in
 * lower case), taking it if so. */
static int scan_take(struct tvm_scan *in, unsigned c) __attribute__((noinline));
static int scan_take(struct tvm_scan *in, unsigned c) {
    int x = scan_peek(in);
    if (x < 0)
        return 0;
    if ((unsigned)x != c) {
        if ((unsigned)tolower(x) != c)
            return 0;
    }
    in->p++;
    return 1;
}

/* "(nil)" for %p (the '(' is next): the bytes matched are taken, as glibc
 * does, and a full match reads as 0. */
__attribute__((noinline)) static int scan_nil(struct tvm_scan *in) {
    in->p++;
    if (scan_take(in, 'n'))
        if (scan_take(in, 'i'))
            if (scan_take(in, 'l'))
                if (scan_take(in, ')'))
                    return TVM_SCAN_OK;
    return TVM_SCAN_MATCH_FAILURE;
}

/*
 * Reads an integer as glibc's scanf does: an optional sign, then for base
 * 0 or 16 a "0x" prefix (taken even when no hex digit follows: the value
 * is then 0), for base 0 a leading 0 meaning octal, then digits; at most
 * `width` bytes in all.  The magnitude goes to `a`, the sign to *neg.  For
 * %p ("pointer"), "(nil)" reads as 0.
 */
__attribute__((noinline)) static int scan_integer(struct tvm_scan *in, unsigned base, unsigned width, int pointer,
                        struct tvm_acc *a, int *neg) {
    int c = scan_peek(in);
    int sign = 0, x;
    unsigned digits = 0, lo;
    a->lo = 0;
    a->hi = tvm_opaque(0);
    a->over = tvm_opaque(0);
    *neg = 0;
    if (c < 0)
        return TVM_SCAN_INPUT_FAILURE;
    if (c == '-') {
        *neg = 1;
        sign = 1;
    } else if (tvm_opaque((unsigned)c) == '+') {
        sign = 1;
    }
    if (sign) {
        in->p++;
        width--;
        c = scan_peek(in);
    }
    if (width != 0) {
        if (c == '0') {
            width--;
            digits = 1;
            in->p++;
            c = scan_peek(in);
            /* x or X (each compare on its own copy: no case mask) */
            x = 0;
            if (width != 0) {
                if (c == 'x')
                    x = 1;
                else if (tvm_opaque((unsigned)c) == 'X')
                    x = 1;
            }
            if (x) {
                if (base == 0)
                    base = 16;
                if (base == 16) {
                    width--;
                    in->p++;
                    c = scan_peek(in);
                }
            } else if (base == 0) {
                base = 8;
            }
        }
    }
    if (base == 0)
        base = 10;
    lo = 0;
    TVM_LOOP
    while (c >= 0) {
        unsigned d;
        if (width == 0)
            break;
        d = digit_value((unsigned)c);
        if (d >= base)
            break;
        if (lo < TVM_ACC_FAST_LIMIT) {
            lo = mul_base_plus(lo, base, d);
        } else {
            if (lo != TVM_ACC_WIDE) {
                a->lo = lo;
                lo = TVM_ACC_WIDE;
            }
            acc_push_wide(a, base, d);
        }
        digits++;
        width--;
        in->p++;
        c = scan_peek(in);
    }
    if (lo != TVM_ACC_WIDE)
        a->lo = lo;
    if (digits != 0)
        return TVM_SCAN_OK;
    if (c != '(')
        return TVM_SCAN_MATCH_FAILURE;
    if (pointer == 0)
        return TVM_SCAN_MATCH_FAILURE;
    if (tvm_opaque((unsigned)sign) != 0)
        return TVM_SCAN_MATCH_FAILURE;
    if (width < 5u)
        return TVM_SCAN_MATCH_FAILURE;
    return scan_nil(in);
}

/*
 * Parses the set of a %[ conversion (f is after the '['; returns the
 * position after the closing ']', or NULL if there is none) into set[256]:
 * 1 for members.  ^ negates; ] or - first is a member; a-z is a range (a -
 * with a NUL or ] after it, or a higher byte before it, is itself a
 * member).
 */
__attribute__((noinline)) static const unsigned char *scan_set(const unsigned char *f,
                                                               unsigned char *set) {
    unsigned char member = 1;
    unsigned x;
    if (TVM_LOAD8(f) == '^') {
        member = 0;
        f++;
    }
    memset(set, member == 0, 256);
    x = TVM_LOAD8(f);
    if (x == ']' || tvm_opaque(x) == '-') {
        set[x] = member;
        f++;
    }
    TVM_LOOP
    for (;;) {
        x = TVM_LOAD8(f);
        if (x == 0)
            return NULL;
        f++;
        if (x == ']')
            return f;
        if (x == '-') {
            unsigned hi = TVM_LOAD8(f);
            unsigned lo = TVM_LOAD8(f - 2);
            if (hi != 0 && tvm_opaque(hi) != ']' && lo <= hi) {
                /* lo was set already; hi will be next */
                TVM_LOOP
                while (lo < hi) {
                    set[lo] = member;
                    lo++;
                }
                continue;
            }
        }
        set[x] = member;
    }
}

/*
 * %c, %s or %[ (kind k; set is the %[ set): at most `width` bytes (for %c
 * exactly `width`, 1 by default, fewer if the input ends), stored at dst
 * unless it is NULL (%*), a NUL after them for %s and %[.  Returns -1 if
 * the input ended first, 0 if nothing matched (%[), 1 otherwise.
 */
__attribute__((noinline)) static int scan_text(struct tvm_scan *in, unsigned k, unsigned width,
                                               unsigned char *dst, const unsigned char *set) {
    const unsigned char *taken = in->p;
    int c = scan_peek(in);
    if (c < 0)
        return -1;
    if (k == TVM_K_C) {
        if (width == 0xffffffffu)
            width = 1;
    }
    TVM_LOOP
    for (;;) {
        if (k == TVM_K_S) {
            if (tvm_isspace((unsigned)c))
                break;
        } else if (k == TVM_K_SET) {
            if (set[c] == 0)
                break;
        }
        if (dst != NULL) {
            *dst = (unsigned char)c;
            dst++;
        }
        in->p++;
        width--;
        if (width == 0)
            break;
        c = scan_peek(in);
        if (c < 0)
            break;
    }
    if (in->p == taken)
        return 0;
    if (dst != NULL) {
        if (k != TVM_K_C)
            *dst = 0;
    }
    return 1;
}

/* A number conversion (kind k: d i u o x X p) into the `size` bytes at dst
 * (unless it is NULL).  Returns -1 if the input ended first, 0 if there
 * was no number, 1 otherwise. */
__attribute__((noinline)) static int scan_number(struct tvm_scan *in, unsigned k,
                                                 unsigned width, unsigned size, void *dst) {
    struct tvm_acc a;
    unsigned value[2];
    /* opaque: else clang computes &value[1] as an `or` */
    unsigned *v = TVM_OPAQUE_PTR(unsigned *, value);
    unsigned base = 10;
    int is_signed = 0;
    int neg, r;
    if (k == TVM_K_D) {
        is_signed = 1;
    } else if (k == TVM_K_I) {
        base = 0;
        is_signed = 1;
    } else if (k == TVM_K_O) {
        base = 8;
    } else if (k != TVM_K_U) {
        base = 16; /* x X p */
    }
    r = scan_integer(in, base, width, k == TVM_K_P, &a, &neg);
    if (r == TVM_SCAN_INPUT_FAILURE)
        return -1;
    if (r != TVM_SCAN_OK)
        return 0;
    if (dst != NULL) {
        acc_value64(&a, neg, is_signed, v);
        store_sized(dst, size, v[0], v[1]);
    }
    return 1;
}

/*
 * The scanf engine: `in` is the input, `fmt` the format, `ap` the
 * arguments.  Returns the number of assignments, or EOF if the input ended
 * before the first one (glibc's rule: even when a %*d or %n completed
 * before).
 */
static int tvm_scan(struct tvm_scan *in, const char *fmt, va_list ap) {
    const unsigned char *f = (const unsigned char *)fmt;
    unsigned char set_bytes[256];
    /* opaque: clang knows the array's alignment and would compute
     * set + 4 as set | 4 */
    unsigned char *set = TVM_OPAQUE_PTR(unsigned char *, set_bytes);
    int done = 0;
    int skip_space = 0;
    va_list args;
    va_copy(args, ap);
    TVM_LOOP
    for (;;) {
        unsigned fc = TVM_LOAD8(f);
        unsigned width, size, conv, k;
        int suppress = 0, longs = 0, shorts = 0;
        int c;
        void *dst = NULL;
        if (fc == 0)
            break;
        f++;
        if (fc != '%') {
            /* white space matches any amount; other bytes themselves */
            if (tvm_isspace(fc)) {
                skip_space = 1;
                continue;
            }
            c = scan_peek(in);
            if (c < 0)
                goto input_failure;
            if (skip_space) {
                c = scan_skip_space(in);
                if (c < 0)
                    goto input_failure;
                skip_space = 0;
            }
            if ((unsigned)c != fc)
                goto out;
            in->p++;
            continue;
        }
        /* %[*][width][length]conversion */
        if (*f == '*') {
            suppress = 1;
            f++;
        }
        width = (unsigned)parse_decimal(&f);
        if (width == 0)
            width = 0xffffffffu; /* no limit */
        k = TVM_LOAD8(fmt_class + *f);
        if (tvm_in_range(k, TVM_K_H, TVM_K_T)) {
            TVM_LOOP
            for (;;) {
                if (k == TVM_K_L)
                    longs++;
                else if (k == TVM_K_H)
                    shorts++;
                else if (k == TVM_K_J)
                    longs = 2;
                else if (tvm_opaque(k) == TVM_K_BIG_L)
                    longs = 2;
                f++;
                k = TVM_LOAD8(fmt_class + *f);
                if (!tvm_in_range(k, TVM_K_H, TVM_K_T))
                    break;
            }
        }
        size = 4;
        if (longs >= 2)
            size = 8;
        else if (shorts >= 2)
            size = 1;
        else if (shorts == 1)
            size = 2;
        conv = *f;
        if (conv == 0)
            goto out;
        f++;
        /* every conversion but [, c and n skips white space first */
        if (skip_space) {
            scan_skip_space(in);
            skip_space = 0;
        } else if (k == TVM_K_SET) {
        } else if (k == TVM_K_C) {
        } else if (k != TVM_K_N) {
            scan_skip_space(in);
        }
        if (k == TVM_K_N) {
            if (!suppress)
                store_sized(va_arg(args, void *), size,
                            (unsigned)(in->p - in->start), 0);
            continue;
        }
        if (k == TVM_K_PERCENT) {
            c = scan_peek(in);
            if (c < 0)
                goto input_failure;
            if (c != '%')
                goto out;
            in->p++;
            continue;
        }
        if (!suppress)
            dst = va_arg(args, void *);
        if (k == TVM_K_SET) {
            f = scan_set(f, set);
            if (f == NULL)
                goto out; /* no closing ] */
        }
        if (tvm_in_range(k, TVM_K_C, TVM_K_S)) {
            c = scan_text(in, k, width, (unsigned char *)dst, set);
        } else if (k == TVM_K_SET) {
            c = scan_text(in, k, width, (unsigned char *)dst, set);
        } else if (tvm_in_range(k, TVM_K_D, TVM_K_O)) {
            c = scan_number(in, k, width, size, dst);
        } else if (k == TVM_K_P) {
            c = scan_number(in, k, width, 4, dst);
        } else {
            goto out; /* unknown conversion */
        }
        if (c < 0)
            goto input_failure;
        if (c == 0)
            goto out;
        if (dst != NULL)
            done++;
    }
    /* white space at the end of the format takes white space */
    if (skip_space)
        scan_skip_space(in);
    goto out;
input_failure:
    if (done == 0)
        done = EOF;
out:
    va_end(args);
    return done;
}

int vsscanf(const char *s, const char *fmt, va_list ap) {
    struct tvm_scan in;
    in.p = (const unsigned char *)s;
    in.end = NULL;
    in.start = in.p;
    in.hit_end = 0;
    return tvm_scan(&in, fmt, ap);
}

int sscanf(const char *s, const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsscanf(s, fmt, ap);
    va_end(ap);
    return n;
}

int vfscanf(FILE *f, const char *fmt, va_list ap) {
    struct tvm_scan in;
    int n;
    if (!is_stdin(f))
        return EOF;
    if (!in_open)
        stdin_open();
    in.p = in_pos;
    in.end = in_end;
    in.start = in.p;
    in.hit_end = 0;
    n = tvm_scan(&in, fmt, ap);
    in_pos = in.p;
    if (in.hit_end)
        __tvm_stdin.eof = 1;
    return n;
}

int vscanf(const char *fmt, va_list ap) { return vfscanf(stdin, fmt, ap); }

int fscanf(FILE *f, const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vfscanf(f, fmt, ap);
    va_end(ap);
    return n;
}

int scanf(const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vfscanf(stdin, fmt, ap);
    va_end(ap);
    return n;
}
