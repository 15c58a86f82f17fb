/*
 * collatz.c -- the Collatz sequence from n (argv[1], default 27): halve
 * even numbers, map odd n to 3n + 1, until 1.  Prints every value, then the
 * number of steps and the largest value reached.
 *
 * Uses unsigned arithmetic; stops with exit status 2 if 3n + 1 would not fit
 * in 32 bits.  Parity, halving and tripling are written plainly (they
 * compile to AND, SHR and SHL/ADD, which the machine lowers); the overflow
 * bound is a constant, so its division is folded at compile time.
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    unsigned n = 27;
    unsigned steps = 0;
    unsigned column = 0;
    unsigned peak;

    if (argc > 1)
        n = (unsigned)atoi(argv[1]);
    if (n == 0) {
        printf("n must be positive\n");
        return 1;
    }
    peak = n;
    printf("%u", n);
    while (n != 1) {
        if (n % 2 == 0) {
            n = n / 2;
        } else {
            if (n > (0xffffffffu - 1) / 3) {
                printf("\noverflow after %u steps\n", steps);
                return 2;
            }
            n = 3 * n + 1;
        }
        steps++;
        if (n > peak)
            peak = n;
        /* Ten values per line (a column counter, not steps % 10: division
         * is expensive on the machine). */
        column++;
        if (column == 10) {
            column = 0;
            printf("\n%u", n);
        } else {
            printf(" %u", n);
        }
    }
    printf("\nsteps: %u\npeak: %u\n", steps, peak);
    return 0;
}
