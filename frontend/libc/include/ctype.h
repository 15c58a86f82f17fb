/*
 * ctype.h -- tvm freestanding libc (wasm32).
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
