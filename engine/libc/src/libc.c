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
 *    the exit status.
 *  - Arguments: before main runs, linear memory at INPUT_BASE = 256 holds the
 *    input image: argc (i32) at 256, argv[0..argc] (i32 pointers) from 260,
 *    a 0 pointer, then the NUL-terminated strings.  argv[0] is the program
 *    name (file stem).  The image lies below 4096.
 *  - Memory: all the machine has (tvm_engine::program::MAX_MEMORY, 1 MiB;
 *    initial = maximum, never grown), data from 4096 (--global-base=4096),
 *    then a 64 KiB stack, then the heap from __heap_base up to the end of
 *    memory (memory.size, read once by the first malloc).
 *  - `__tvm_scratch` (16 bytes, 8-aligned) is scratch space for the lowering;
 *    it is exported by the link command and never touched by this library.
 *  - The compile command (engine/src/frontend.rs) is
 *      clang --target=wasm32 -nostdlib -ffreestanding -O2 -mcpu=mvp
 *        -isystem <libc>/include -Wl,--no-entry -Wl,--export=main
 *        -Wl,--export=__tvm_scratch -Wl,--global-base=4096
 *        -Wl,-z,stack-size=65536 -Wl,--initial-memory=1048576
 *        -Wl,--max-memory=1048576 <libc>/src/libc.c <libc>/src/int128.c
 *        PROGRAM.c -o out.wasm
 *    int128.c holds the compiler helpers for 128-bit arithmetic (__multi3,
 *    __udivti3, ...); they use i64 and are linked only when called.
 *
 * Cost model.  The machine natively has i32 add/sub, compares, eqz, select,
 * locals/globals, loads/stores of every width, calls and branches.  MUL, DIV,
 * REM, AND, OR, XOR, SHL, SHR, ROTL/ROTR, CLZ/CTZ/POPCNT are lowered into
 * O(32)-step loops.  Hence this library avoids those operators everywhere
 * except on cold paths (calloc's size product; the `& 255` of putchar,
 * memchr, strchr and strrchr for arguments outside 0..255):
 *  - decimal conversion finds each digit by a binary search over a table of
 *    the multiples of its power of ten, then one subtraction;
 *  - hex conversion stores the word and reads it back byte by byte, each
 *    byte indexing two 256-entry digit tables;
 *  - "times ten" (atoi, field widths) is a chain of additions;
 *  - memcpy/memmove/memset move 16 bytes per step as four unaligned words
 *    (wasm loads and stores need no alignment, so there is no masking);
 *  - the bump allocator rounds sizes to 8 by subtracting powers of two;
 *  - 64-bit printf arguments (%lld, %llu, %llx) are read as two words and
 *    converted by subtracting powers of ten held as word pairs.
 *
 * clang -O2 introduces such operators on its own: `x + x` becomes `x << 1`
 * and sums of those `x * 10`; `a && b` becomes `(a) & (b)` when both are
 * cheap; two range checks become `(c & ~32) - 'A' < 26`; a chain of
 * character compares becomes a bit-test `(1 << (c - 32)) & mask`; bytes
 * carried around a loop are narrowed to i8 and re-masked with `& 255`;
 * unrolled loops compute their remainder with `>>` and `&`; constant stores
 * are merged into i64 stores.  This file defeats each of those:
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
 * nothing contains float.
 * No floating point, no 64-bit integers, no function pointers, no
 * bulk-memory instructions (-mcpu=mvp) in this file.
 *
 * stdout is unbuffered: every byte is passed to `output` as soon as it is
 * produced.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <ctype.h>
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

/* ------------------------------------------------------------------------ */
/* Program termination                                                       */
/* ------------------------------------------------------------------------ */

void exit(int status) { __tvm_exit(status); }

void abort(void) { __builtin_trap(); }

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

int isspace(int c) {
    if (c == ' ')
        return 1;
    return tvm_in_range(tvm_opaque((unsigned)c), '\t', '\r');
}

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

/* ------------------------------------------------------------------------ */
/* stdlib.h: numbers                                                         */
/* ------------------------------------------------------------------------ */

int abs(int x) {
    if (x < 0)
        return (int)(0u - tvm_opaque((unsigned)x));
    return x;
}

long labs(long x) { return abs((int)x); }

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

/* acc * base + d by additions (2 <= base <= 36); base 10 uses the
 * add-chain, other bases repeated addition.  Wraps modulo 2^32. */
static unsigned times_base_plus(unsigned acc, unsigned base, unsigned d) {
    unsigned r = d;
    if (base == 10)
        return tvm_times10_plus(acc, d);
    TVM_LOOP
    while (base > 0) {
        r += tvm_opaque(acc);
        base--;
    }
    return r;
}

/*
 * Parses optional white space, an optional sign and digits in `base`
 * (0 = auto: 0x.. hex, 0.. octal, else decimal; 2..36 otherwise).
 * Overflow wraps modulo 2^32 (there is no errno and no clamping): programs
 * that want glibc-identical results must stay in range.
 */
unsigned long strtoul(const char *s, char **end, int base) {
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *digits_start;
    int neg = 0;
    unsigned acc = 0;
    unsigned b;
    unsigned c;

    TVM_LOOP
    while (isspace((int)TVM_LOAD8(p)))
        p++;
    c = TVM_LOAD8(p);
    if (c == '-') {
        neg = 1;
        p++;
    } else if (tvm_opaque(c) == '+') {
        p++;
    }
    if (base < 0 || base > 36 || base == 1) {
        if (end)
            *end = (char *)s;
        return 0;
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
    digits_start = p;
    TVM_LOOP
    for (;;) {
        unsigned d = digit_value(TVM_LOAD8(p));
        if (d >= b)
            break;
        acc = times_base_plus(acc, b, d);
        p++;
    }
    if (end)
        *end = (char *)(p == digits_start ? (const unsigned char *)s : p);
    return neg ? 0u - acc : acc;
}

long strtol(const char *s, char **end, int base) {
    return (long)strtoul(s, end, base);
}

int atoi(const char *s) { return (int)strtoul(s, NULL, 10); }
long atol(const char *s) { return (long)strtoul(s, NULL, 10); }

/* ------------------------------------------------------------------------ */
/* stdlib.h: memory                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Bump allocator.  Invariants: `heap_next` is 0 before the first call, then
 * always a multiple of 8 in [__heap_base rounded up to 8, heap_end], and
 * `heap_end` is the end of memory (set by the first call).
 * Each block is preceded by an 8-byte header whose first word is the
 * block's usable size (a multiple of 8).  Blocks are never reused, so
 * memory handed out has not been written since the module started: it is
 * zero (calloc relies on this).
 */
static uintptr_t heap_next;
static uintptr_t heap_end;

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

void *malloc(size_t size) {
    uintptr_t start = heap_next;
    unsigned rounded;
    if (start == 0) {
        start = round_up8((unsigned)(uintptr_t)&__heap_base);
        heap_next = start;
        heap_end = memory_end();
    }
    if (start > heap_end)
        return NULL;
    if (size > heap_end)
        return NULL;
    rounded = round_up8((unsigned)size);
    if (8u + rounded > heap_end - start)
        return NULL;
    *(uint32_t *)start = rounded;
    heap_next = start + 8u + rounded;
    return (void *)(start + 8u);
}

void *calloc(size_t count, size_t size) {
    /* Products above TVM_MAX_BYTES cannot be allocated; the checks below
     * leave only products that fit in 32 bits (count < 2^10 or size <
     * 2^11, both <= 2^20), which malloc checks.  Fresh blocks are zero. */
    if (count == 0)
        return malloc(0);
    if (size == 0)
        return malloc(0);
    if (count == 1)
        return malloc(size);
    if (size == 1)
        return malloc(count);
    if (count > TVM_MAX_BYTES)
        return NULL;
    if (size > TVM_MAX_BYTES)
        return NULL;
    if (count >= 1024u) {
        if (tvm_opaque(size) >= 2048u)
            return NULL;
    }
    return malloc(count * size); /* cold: one lowered multiply */
}

void *realloc(void *ptr, size_t size) {
    unsigned old;
    void *fresh;
    if (ptr == NULL)
        return malloc(size);
    old = *(const uint32_t *)((const unsigned char *)ptr - 8);
    if (size <= old)
        return ptr;
    fresh = malloc(size);
    if (fresh == NULL)
        return NULL;
    memcpy(fresh, ptr, old);
    return fresh;
}

void free(void *ptr) { (void)ptr; }

/* ------------------------------------------------------------------------ */
/* stdio.h                                                                   */
/* ------------------------------------------------------------------------ */

int putchar(int c) {
    __tvm_output(c);
    return (int)tvm_byte(c);
}

int puts(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    int n = 0;
    TVM_LOOP
    for (;;) {
        unsigned x = TVM_LOAD8(p);
        if (x == 0)
            break;
        __tvm_output((int)x);
        p++;
        n++;
    }
    __tvm_output('\n');
    return n + 1;
}

/*
 * Where formatted output goes (printf is not re-entrant: there are no
 * threads or signals).  sink_direct != 0: straight to the output import.
 * Otherwise into sink_buf, keeping at most sink_cap - 1 bytes (room for the
 * NUL).  sink_len counts every byte produced, as the C return value needs.
 */
static unsigned char *sink_buf;
static size_t sink_cap;
static size_t sink_len;
static int sink_direct;

static void sink_put(unsigned c) {
    if (sink_direct) {
        __tvm_output((int)c);
    } else if (sink_len + 1 < sink_cap) {
        sink_buf[sink_len] = (unsigned char)c;
    }
    sink_len++;
}

__attribute__((noinline)) static void sink_repeat(unsigned c, int n) {
    TVM_LOOP
    while (n > 0) {
        sink_put(c);
        n--;
    }
}

__attribute__((noinline)) static void sink_bytes(const unsigned char *p,
                                                 int n) {
    TVM_LOOP
    while (n > 0) {
        sink_put(TVM_LOAD8(p));
        p++;
        n--;
    }
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
    if (pad < 0)
        pad = 0;
    if (mode == TVM_PAD_SPACES_LEFT)
        sink_repeat(' ', pad);
    sink_bytes(prefix, prefix_len);
    if (mode == TVM_PAD_ZEROS)
        sink_repeat('0', pad);
    sink_repeat('0', zeros);
    sink_bytes(digits, n);
    if (mode == TVM_PAD_SPACES_RIGHT)
        sink_repeat(' ', pad);
}

/* Emits a byte string (already cut to its precision) padded to `width`. */
__attribute__((noinline)) static void
emit_text(int mode, int width, const unsigned char *p, int n) {
    int pad = width - n;
    if (pad < 0)
        pad = 0;
    if (mode != TVM_PAD_SPACES_RIGHT)
        sink_repeat(' ', pad);
    sink_bytes(p, n);
    if (mode == TVM_PAD_SPACES_RIGHT)
        sink_repeat(' ', pad);
}

/* Conversion kinds (a small integer, so the dispatch is plain compares). */
#define TVM_CONV_OTHER 0
#define TVM_CONV_SIGNED 1
#define TVM_CONV_UNSIGNED 2
#define TVM_CONV_HEX 3
#define TVM_CONV_CHAR 4
#define TVM_CONV_STRING 5
#define TVM_CONV_PERCENT 6

/*
 * Formats and emits a 64-bit (ll) integer argument for conversion `c` (d,
 * i, u, x or X; returns 0 and consumes nothing for any other), with the
 * padding mode, width, precision and flags of format_conversion.  The
 * argument is read as its two words (no i64 operation): on wasm32 a
 * va_list is a pointer into the caller's argument buffer, and a 64-bit
 * argument lies at the next multiple of 8.  Out of line, so that the
 * 32-bit conversions do not pay for it.
 */
_Static_assert(__builtin_types_compatible_p(va_list, void *),
               "wasm32 va_list is a plain pointer");
__attribute__((noinline)) static int
format_wide(va_list *ap, unsigned c, int mode, int width, int prec, int plus,
            int space, int alt) {
    unsigned char digits[24];
    unsigned char prefix[2];
    int prefix_len = 0;
    int n;
    unsigned char *p = (unsigned char *)*ap;
    unsigned r;
    unsigned lo, hi;
    int kind = TVM_CONV_OTHER;
    if (c == 'd')
        kind = TVM_CONV_SIGNED;
    else if (tvm_opaque(c) == 'i')
        kind = TVM_CONV_SIGNED;
    else if (tvm_opaque(c) == 'u')
        kind = TVM_CONV_UNSIGNED;
    else if (tvm_opaque(c) == 'x')
        kind = TVM_CONV_HEX;
    else if (tvm_opaque(c) == 'X')
        kind = TVM_CONV_HEX;
    else
        return 0;
    r = low3((unsigned)(uintptr_t)p);
    if (r != 0)
        p += 8u - r;
    lo = tvm_opaque(*(const tvm_word *)p);
    hi = tvm_opaque(*(const tvm_word *)(p + 4));
    *ap = (void *)(p + 8);
    if (kind == TVM_CONV_HEX) {
        n = format_hex(lo, hi, 7, c == 'x' ? 'a' : 'A', digits);
        if (alt) {
            /* "0x" for a non-zero value (an opaque 2, or clang computes
             * it as (hi != 0) << 1). */
            if (lo != 0)
                prefix_len = 2;
            else if (hi != 0)
                prefix_len = (int)tvm_opaque(2);
            prefix[0] = '0';
            prefix[1] = (unsigned char)c;
        }
    } else {
        if (kind == TVM_CONV_SIGNED) {
            if ((int)hi < 0) {
                /* -(hi:lo): the high word borrows unless lo is 0 */
                hi = tvm_opaque(0u - hi);
                if (lo != 0)
                    hi--;
                lo = 0u - lo;
                prefix[0] = '-';
                prefix_len = 1;
            } else if (plus) {
                prefix[0] = '+';
                prefix_len = 1;
            } else if (space) {
                prefix[0] = ' ';
                prefix_len = 1;
            }
        }
        n = format_dec64(lo, hi, digits);
    }
    emit_number(mode, width, prec, prefix, prefix_len, digits, n);
    return 1;
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
 * Kept out of line so the loop over plain characters in tvm_format stays
 * small (it is the hot path).
 */
__attribute__((noinline)) static const unsigned char *
format_conversion(const unsigned char *f, va_list *ap) {
    unsigned char digits[12];
    unsigned char prefix[2];
    int prefix_len = 0;
    int mode = TVM_PAD_SPACES_LEFT;
    int plus = 0, space = 0, alt = 0;
    int width = -1, prec = -1;
    int longs = 0; /* 'l' modifiers seen: 2 or more means 64-bit */
    int n;
    int kind;
    unsigned c;

    /* Flags.  Each compare sees a fresh opaque copy of the byte, so the
     * chain is not turned into a shift-and-mask bit test. */
    TVM_LOOP
    for (;;) {
        c = TVM_LOAD8(f);
        if (c == '-') {
            mode = TVM_PAD_SPACES_RIGHT;
        } else if (tvm_opaque(c) == '0') {
            if (mode == TVM_PAD_SPACES_LEFT)
                mode = TVM_PAD_ZEROS;
        } else if (tvm_opaque(c) == '+') {
            plus = 1;
        } else if (tvm_opaque(c) == ' ') {
            space = 1;
        } else if (tvm_opaque(c) == '#') {
            alt = 1;
        } else {
            break;
        }
        f++;
    }
    c = TVM_LOAD8(f);
    if (c == '*') {
        width = va_arg(*ap, int);
        if (width < 0) {
            mode = TVM_PAD_SPACES_RIGHT;
            width = (int)(0u - tvm_opaque((unsigned)width));
        }
        f++;
    } else if (tvm_in_range(c, '0', '9')) {
        width = parse_decimal(&f);
    }
    if (TVM_LOAD8(f) == '.') {
        f++;
        if (TVM_LOAD8(f) == '*') {
            prec = va_arg(*ap, int);
            if (prec < 0)
                prec = -1;
            f++;
        } else {
            prec = parse_decimal(&f);
        }
    }
    /* long and size_t are 32-bit on wasm32: 'l' and 'z' change nothing;
     * 'll' (long long) means a 64-bit argument. */
    TVM_LOOP
    for (;;) {
        c = TVM_LOAD8(f);
        if (c == 'l') {
            longs++;
        } else if (tvm_opaque(c) != 'z') {
            break;
        }
        f++;
    }
    if (c == 0)
        return f;
    if (longs >= 2) {
        /* 64-bit d, i, u, x, X: out of line */
        if (format_wide(ap, c, mode, width, prec, plus, space, alt))
            return f + 1;
    }
    f++;

    /* Classify with one compare per opaque copy (no bit tests), then
     * dispatch on the small integer kind. */
    kind = TVM_CONV_OTHER;
    if (c == 'd')
        kind = TVM_CONV_SIGNED;
    else if (tvm_opaque(c) == 'i')
        kind = TVM_CONV_SIGNED;
    else if (tvm_opaque(c) == 'u')
        kind = TVM_CONV_UNSIGNED;
    else if (tvm_opaque(c) == 'x')
        kind = TVM_CONV_HEX;
    else if (tvm_opaque(c) == 'X')
        kind = TVM_CONV_HEX;
    else if (tvm_opaque(c) == 'c')
        kind = TVM_CONV_CHAR;
    else if (tvm_opaque(c) == 's')
        kind = TVM_CONV_STRING;
    else if (tvm_opaque(c) == '%')
        kind = TVM_CONV_PERCENT;

    if (kind == TVM_CONV_SIGNED) {
        int v = va_arg(*ap, int);
        unsigned u;
        if (v < 0) {
            prefix[0] = '-';
            prefix_len = 1;
            u = 0u - tvm_opaque((unsigned)v);
        } else {
            u = (unsigned)v;
            if (plus) {
                prefix[0] = '+';
                prefix_len = 1;
            } else if (space) {
                prefix[0] = ' ';
                prefix_len = 1;
            }
        }
        n = format_dec(u, digits);
        emit_number(mode, width, prec, prefix, prefix_len, digits, n);
    } else if (kind == TVM_CONV_UNSIGNED) {
        unsigned u = va_arg(*ap, unsigned);
        n = format_dec(u, digits);
        emit_number(mode, width, prec, prefix, 0, digits, n);
    } else if (kind == TVM_CONV_HEX) {
        unsigned alpha = c == 'x' ? 'a' : 'A';
        unsigned u = va_arg(*ap, unsigned);
        n = format_hex(u, 0, 3, alpha, digits);
        if (alt) {
            if (u != 0) {
                prefix[0] = '0';
                prefix[1] = (unsigned char)c;
                prefix_len = 2;
            }
        }
        emit_number(mode, width, prec, prefix, prefix_len, digits, n);
    } else if (kind == TVM_CONV_CHAR) {
        unsigned char ch = (unsigned char)va_arg(*ap, int);
        emit_text(mode, width, &ch, 1);
    } else if (kind == TVM_CONV_STRING) {
        const unsigned char *str = va_arg(*ap, const unsigned char *);
        int len = 0;
        if (str == NULL)
            str = (const unsigned char *)"(null)";
        if (prec < 0) {
            TVM_LOOP
            while (TVM_LOAD8(str + len) != 0)
                len++;
        } else {
            TVM_LOOP
            while (len < prec) {
                if (TVM_LOAD8(str + len) == 0)
                    break;
                len++;
            }
        }
        emit_text(mode, width, str, len);
    } else if (kind == TVM_CONV_PERCENT) {
        sink_put('%');
    } else {
        /* Unknown conversion: print it verbatim. */
        sink_put('%');
        sink_put(c);
    }
    return f;
}

/* The printf engine behind every printf-family function; output goes to
 * the sink, which the caller has set up.  Returns the bytes produced. */
static int tvm_format(const char *fmt, va_list ap) {
    const unsigned char *f = (const unsigned char *)fmt;
    va_list args;
    va_copy(args, ap);
    TVM_LOOP
    for (;;) {
        unsigned c = TVM_LOAD8(f);
        if (c == 0)
            break;
        f++;
        if (c == '%')
            f = format_conversion(f, &args);
        else
            sink_put(c);
    }
    va_end(args);
    return (int)sink_len;
}

int vprintf(const char *fmt, va_list ap) {
    sink_direct = (int)tvm_opaque(1);
    sink_len = tvm_opaque(0);
    return tvm_format(fmt, ap);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
    int n;
    sink_direct = (int)tvm_opaque(0);
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
