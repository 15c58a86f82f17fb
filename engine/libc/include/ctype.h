/*
 * ctype.h -- tvm freestanding libc (wasm32).
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
 * ASCII only (the "C" locale), answers for EOF and bytes >= 128 are false.
 * Implemented with compares and adds only (no bitwise op, no table).
 */
#ifndef TVM_CTYPE_H
#define TVM_CTYPE_H

#ifdef __cplusplus
extern "C" {
#endif

int isdigit(int c);
int isxdigit(int c);
int isalpha(int c);
int isalnum(int c);
int isupper(int c);
int islower(int c);
int isspace(int c);
int isblank(int c);
int isprint(int c);
int isgraph(int c);
int ispunct(int c);
int iscntrl(int c);
int toupper(int c);
int tolower(int c);

#ifdef __cplusplus
}
#endif

#endif /* TVM_CTYPE_H */
