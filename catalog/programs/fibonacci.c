/*
 * fibonacci.c -- prints fib(0) .. fib(n) for n read from argv[1] (atoi).
 *
 * fib(46) = 1836311903 is the largest that fits in a signed 32-bit int, so
 * n must be in 0..46; anything else prints a message and exits with 1.
 * Only additions: the loop keeps the last two values.
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int n;
    int i;
    int a = 0; /* fib(i) */
    int b = 1; /* fib(i + 1) */

    if (argc < 2) {
        printf("usage: %s N   (0 <= N <= 46)\n", argv[0]);
        return 1;
    }
    n = atoi(argv[1]);
    if (n < 0 || n > 46) {
        printf("n = %d is out of range (0..46)\n", n);
        return 1;
    }
    for (i = 0; i <= n; i++) {
        int next = a + b;
        printf("fib(%d) = %d\n", i, a);
        a = b;
        b = next;
    }
    return 0;
}
