/*
 * ops_arith.c -- the natively supported i32 arithmetic: add, sub, the ten
 * comparisons (signed and unsigned), eqz and select, on edge operands.
 *
 * The operand pairs live in a volatile array so clang cannot constant-fold
 * any result.  Wrapping add/sub use unsigned arithmetic (signed overflow is
 * undefined in C; wrapping is what i32.add does).  Each comparison result
 * is printed as one '0'/'1' character: signed lt le gt ge eq ne, then
 * unsigned lt le gt ge.
 */
#include <limits.h>
#include <stdio.h>

static volatile int pairs[][2] = {
    {0, 0},
    {1, -1},
    {-1, 1},
    {7, 7},
    {INT_MAX, 1},
    {INT_MIN, 1},
    {INT_MIN, INT_MAX},
    {INT_MAX, INT_MIN},
    {0x12345678, -100},
    {-100, -7},
    {INT_MIN, -1},
    {-2, -2},
};

#define COUNT ((int)(sizeof pairs / sizeof pairs[0]))

static volatile int singles[] = {0, 1, -1, INT_MIN};

int main(void) {
    int i;
    printf("a b: a+b a-b signed(lt le gt ge eq ne) unsigned(lt le gt ge) min max\n");
    for (i = 0; i < COUNT; i++) {
        int a = pairs[i][0];
        int b = pairs[i][1];
        unsigned ua = (unsigned)a;
        unsigned ub = (unsigned)b;
        char flags[12];
        flags[0] = (char)('0' + (a < b));
        flags[1] = (char)('0' + (a <= b));
        flags[2] = (char)('0' + (a > b));
        flags[3] = (char)('0' + (a >= b));
        flags[4] = (char)('0' + (a == b));
        flags[5] = (char)('0' + (a != b));
        flags[6] = ' ';
        flags[7] = (char)('0' + (ua < ub));
        flags[8] = (char)('0' + (ua <= ub));
        flags[9] = (char)('0' + (ua > ub));
        flags[10] = (char)('0' + (ua >= ub));
        flags[11] = 0;
        printf("%d %d: %d %d %s %d %d\n", a, b, (int)(ua + ub), (int)(ua - ub), flags,
               a < b ? a : b, a > b ? a : b);
    }
    /* eqz, and select on a condition only known at run time. */
    for (i = 0; i < 4; i++) {
        int a = singles[i];
        int zero = !a;
        printf("eqz(%d) = %d, select -> %d\n", a, zero, zero ? 111 : a - 1);
    }
    return 0;
}
