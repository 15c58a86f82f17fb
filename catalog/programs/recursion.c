/*
 * recursion.c -- calls and returns: Ackermann, naive Fibonacci, mutual
 * recursion in a recursive-descent expression evaluator, Towers of Hanoi
 * with a frame-local array, and a deep non-tail recursion that reverses a
 * string through the call stack (one frame per character).
 *
 * Everything is kept small enough to run quickly on the machine, but deep
 * enough that the wasm call stack and the C shadow stack (frames with
 * arrays whose address escapes) are both exercised.
 */
#include <stdio.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static int calls;

/* Ackermann's function: A(2, n) = 2n + 3, A(3, n) = 2^(n+3) - 3. */
NOINLINE static int ackermann(int m, int n) {
    calls++;
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

/* Exponential-time Fibonacci: two calls per level. */
NOINLINE static int fib(int n) {
    calls++;
    if (n < 2)
        return n;
    return fib(n - 1) + fib(n - 2);
}

/* Recursive descent over + - * and parentheses; expr, term and factor call
 * each other.  `pos` is the shared cursor. */
static const char *text;
static int pos;
static int max_depth;

NOINLINE static int expr(int depth);

NOINLINE static int factor(int depth) {
    int value;
    if (depth > max_depth)
        max_depth = depth;
    if (text[pos] == '(') {
        pos++;
        value = expr(depth + 1);
        pos++; /* ')' */
        return value;
    }
    if (text[pos] == '-') {
        pos++;
        return -factor(depth + 1);
    }
    value = 0;
    while (text[pos] >= '0' && text[pos] <= '9') {
        value = value * 10 + (text[pos] - '0');
        pos++;
    }
    return value;
}

NOINLINE static int term(int depth) {
    int value = factor(depth + 1);
    while (text[pos] == '*') {
        pos++;
        value = value * factor(depth + 1);
    }
    return value;
}

NOINLINE static int expr(int depth) {
    int value = term(depth + 1);
    while (text[pos] == '+' || text[pos] == '-') {
        char op = text[pos];
        pos++;
        if (op == '+')
            value = value + term(depth + 1);
        else
            value = value - term(depth + 1);
    }
    return value;
}

static int evaluate(const char *s) {
    text = s;
    pos = 0;
    max_depth = 0;
    return expr(0);
}

/* Towers of Hanoi.  Each frame records its move in a local array that is
 * passed to a helper, which forces a real stack frame in memory. */
static int moves;

NOINLINE static void record(char *line, int disk, char from, char to) {
    line[0] = (char)('0' + disk);
    line[1] = from;
    line[2] = to;
    line[3] = 0;
}

NOINLINE static void hanoi(int n, char from, char to, char via) {
    char line[8];
    if (n == 0)
        return;
    hanoi(n - 1, from, via, to);
    record(line, n, from, to);
    moves++;
    if (n >= 3)
        printf("move %d: disk %c %c->%c\n", moves, line[0], line[1], line[2]);
    hanoi(n - 1, via, to, from);
}

/* Prints s backwards: the character is printed after the recursive call
 * returns, so this cannot become a loop; depth = strlen(s). */
NOINLINE static int print_reversed(const char *s) {
    int depth;
    if (*s == 0)
        return 0;
    depth = print_reversed(s + 1) + 1;
    putchar(*s);
    return depth;
}

/* Loop bounds the optimiser cannot see, so the loops are not unrolled
 * (unrolled, adjacent constant printf arguments become 64-bit stores). */
static volatile int limit_m = 2;
static volatile int limit_n = 3;

int main(void) {
    static const char *expressions[] = {
        "1+2*3",
        "(1+2)*3",
        "2*(3+4)*(5-(6-7))",
        "-(-(-(-(-(-(-(-(-(-(-(-(-(-(-(-(-(-(-(-42)))))))))))))))))))",
        "((((((((((((((((((((1+1))))))))))))))))))))*((2))-3*-3",
    };
    char text_buf[300];
    char letter;
    int i, m, n, depth;

    /* (C leaves the order of argument evaluation open, so every result
     * is computed before the printf that shows it.) */
    for (m = 0; m <= limit_m; m++) {
        for (n = 0; n <= limit_n; n++) {
            int a;
            calls = 0;
            a = ackermann(m, n);
            printf("ackermann(%d, %d) = %d (%d calls)\n", m, n, a, calls);
        }
    }
    calls = 0;
    n = ackermann(3, 2);
    printf("ackermann(3, 2) = %d (%d calls)\n", n, calls);

    calls = 0;
    n = fib(13);
    printf("fib(13) = %d (%d calls)\n", n, calls);

    for (i = 0; i < (int)(sizeof expressions / sizeof expressions[0]); i++) {
        int value = evaluate(expressions[i]);
        printf("%s = %d (depth %d)\n", expressions[i], value, max_depth);
    }

    moves = 0;
    hanoi(5, 'A', 'C', 'B');
    printf("hanoi(5): %d moves\n", moves);

    /* 208 characters: the alphabet eight times (a wrapping letter, not
     * i % 26: division is expensive on the machine). */
    letter = 'a';
    for (i = 0; i < 208; i++) {
        text_buf[i] = letter;
        letter = letter == 'z' ? 'a' : (char)(letter + 1);
    }
    text_buf[208] = 0;
    depth = print_reversed(text_buf);
    printf("\nreversed %d characters, recursion depth %d\n", (int)strlen(text_buf), depth);
    return 0;
}
