/*
 * sieve.c -- sieve of Eratosthenes below 300,000 over a static byte array
 * of 300,000 bytes (one per number): more than the 64 KiB a C program
 * used to get, so it needs the machine's larger memory (the array is zero
 * initialised: it costs no program tokens).
 *
 * Prints the first ten primes, pi(10^k) for k = 1..5, the number of primes
 * below 300,000 and the largest five.
 *
 * Written for the machine's cost model (about 2.8 M steps): even numbers
 * are never marked or scanned (2 is counted apart); each odd prime p marks
 * its odd multiples from p*p in steps of 2p, two per round, and p*p comes
 * from (p+2)^2 = p^2 + 4p + 4, so the sieve multiplies nothing; the
 * counting loop looks at four odd numbers per round.
 */
#include <stdio.h>

#define LIMIT 300000

static unsigned char composite[LIMIT];

/* Marks composite[first], composite[first + step], ... below LIMIT. */
static void mark(unsigned char *q, int step) {
    unsigned char *const end = composite + LIMIT;
    int step2 = step + step;
    /* Two marks per round while both are inside, then maybe one more. */
    if (end - q > step) {
        unsigned char *const last = end - step;
        do {
            q[0] = 1;
            q[step] = 1;
            q += step2;
        } while (q < last);
    }
    if (q < end)
        *q = 1;
}

/* The number of primes among the odd numbers in [lo, hi) (lo odd, hi >=
 * 8). */
static int count_odd_primes(int lo, int hi) {
    const unsigned char *q = composite + lo;
    const unsigned char *const end = composite + hi;
    const unsigned char *const last = end - 8;
    int k = 0;
    /* Four odd numbers per round (!x is 1 for an unmarked number). */
    while (q <= last) {
        k = k + !q[0] + !q[2] + !q[4] + !q[6];
        q += 8;
    }
    while (q < end) {
        k += !q[0];
        q += 2;
    }
    return k;
}

int main(void) {
    static const int bounds[] = {10, 100, 1000, 10000, 100000, LIMIT};
    int p, square, count, i, n;

    /* Odd p with p * p < LIMIT. */
    square = 9;
    for (p = 3; square < LIMIT; p += 2) {
        if (!composite[p])
            mark(composite + square, p + p);
        square += 4 * p + 4;
    }

    printf("first ten primes: 2");
    for (n = 3, i = 1; i < 10; n += 2) {
        if (!composite[n]) {
            printf(" %d", n);
            i++;
        }
    }
    printf("\n");

    count = 1; /* the prime 2 */
    n = 3;
    for (i = 0; i < 6; i++) {
        count += count_odd_primes(n, bounds[i]);
        n = bounds[i] + 1;
        printf("pi(%d) = %d\n", bounds[i], count);
    }

    printf("largest five:");
    for (n = LIMIT - 1, i = 0; i < 5; n -= 2) {
        if (!composite[n]) {
            printf(" %d", n);
            i++;
        }
    }
    printf("\n");
    return 0;
}
