/*
 * dispatch.c -- function pointers: a tiny stack machine whose instructions
 * are executed through a dispatch table indexed by opcode, and callbacks
 * passed to a generic fold and to a map over an array.
 *
 * Every handler call, callback call and table lookup is an indirect call
 * (call_indirect); the handlers have one signature, the callbacks others.
 */
#include <stdio.h>

#define NOINLINE __attribute__((noinline))

/* ---- the stack machine -------------------------------------------------- */

enum { OP_PUSH, OP_ADD, OP_SUB, OP_MUL, OP_DUP, OP_OVER, OP_SWAP, OP_JNZ,
       OP_PRINT, OP_HALT, OP_COUNT };

struct vm {
    const int *code;
    int pc;
    int sp;
    int stack[16];
    int running;
    int executed;
};

typedef void (*handler)(struct vm *);

static void op_push(struct vm *m) { m->stack[m->sp++] = m->code[m->pc++]; }

static void op_add(struct vm *m) {
    m->sp--;
    m->stack[m->sp - 1] += m->stack[m->sp];
}

static void op_sub(struct vm *m) {
    m->sp--;
    m->stack[m->sp - 1] -= m->stack[m->sp];
}

static void op_mul(struct vm *m) {
    m->sp--;
    m->stack[m->sp - 1] *= m->stack[m->sp];
}

static void op_dup(struct vm *m) {
    m->stack[m->sp] = m->stack[m->sp - 1];
    m->sp++;
}

static void op_over(struct vm *m) {
    m->stack[m->sp] = m->stack[m->sp - 2];
    m->sp++;
}

static void op_swap(struct vm *m) {
    int t = m->stack[m->sp - 1];
    m->stack[m->sp - 1] = m->stack[m->sp - 2];
    m->stack[m->sp - 2] = t;
}

/* Pops a value; jumps to the operand if it is non-zero. */
static void op_jnz(struct vm *m) {
    int target = m->code[m->pc++];
    if (m->stack[--m->sp] != 0)
        m->pc = target;
}

static void op_print(struct vm *m) { printf("  vm: %d\n", m->stack[m->sp - 1]); }

static void op_halt(struct vm *m) { m->running = 0; }

static const handler table[OP_COUNT] = {
    op_push, op_add, op_sub, op_mul, op_dup, op_over, op_swap, op_jnz,
    op_print, op_halt,
};

static const char *const names[OP_COUNT] = {
    "push", "add", "sub", "mul", "dup", "over", "swap", "jnz", "print", "halt",
};

NOINLINE static int run(const int *code, int *histogram) {
    struct vm m;
    m.code = code;
    m.pc = 0;
    m.sp = 0;
    m.running = 1;
    m.executed = 0;
    while (m.running) {
        int op = code[m.pc++];
        histogram[op]++;
        m.executed++;
        table[op](&m);
    }
    return m.executed;
}

/* n! for n = 6: the stack holds acc n; each round multiplies acc by n
 * and decrements n; at n = 0 it prints acc. */
static const int factorial[] = {
    OP_PUSH, 1, OP_PUSH, 6, /*  0: acc n */
    OP_DUP, OP_JNZ, 10,     /*  4: loop: n != 0 -> body */
    OP_SWAP, OP_PRINT,      /*  7: n acc, print acc */
    OP_HALT,                /*  9 */
    OP_SWAP, OP_OVER,       /* 10: body: n acc n */
    OP_MUL, OP_SWAP,        /* 12: acc*n n */
    OP_PUSH, 1, OP_SUB,     /* 14: acc*n n-1 */
    OP_PUSH, 1, OP_JNZ, 4,  /* 17: jump to the loop */
};

/* (7 - 3) * (2 + 4) - 25, printed, then the same loop shape as above
 * counting 2 down to 0: jnz closes it. */
static const int arithmetic[] = {
    OP_PUSH, 7, OP_PUSH, 3, OP_SUB, /*  0: 4 */
    OP_PUSH, 2, OP_PUSH, 4, OP_ADD, /*  5: 4 6 */
    OP_MUL, OP_PUSH, 25, OP_SUB,    /* 10: -1 */
    OP_PRINT, OP_PUSH, 2,           /* 14: -1 2 */
    OP_PUSH, 1, OP_SUB,             /* 17: loop: n-1 */
    OP_DUP, OP_JNZ, 17,             /* 20 */
    OP_PRINT, OP_HALT,              /* 23: prints 0 */
};

/* ---- callbacks ----------------------------------------------------------- */

typedef int (*binary)(int, int);
typedef int (*unary)(int);

static int add(int a, int b) { return a + b; }
static int max(int a, int b) { return a > b ? a : b; }
static int min(int a, int b) { return a < b ? a : b; }
static int count_odd(int acc, int x) { return acc + (x & 1); }

NOINLINE static int fold(const int *xs, int n, int init, binary f) {
    int acc = init;
    int i;
    for (i = 0; i < n; i++)
        acc = f(acc, xs[i]);
    return acc;
}

static int square(int x) { return x * x; }
static int negate(int x) { return -x; }
static int collatz_step(int x) { return x % 2 == 0 ? x / 2 : 3 * x + 1; }

NOINLINE static void map(int *xs, int n, unary f) {
    int i;
    for (i = 0; i < n; i++)
        xs[i] = f(xs[i]);
}

/* Applies f to x n times. */
NOINLINE static int iterate(unary f, int x, int n) {
    while (n-- > 0)
        x = f(x);
    return x;
}

static void print_array(const char *label, const int *xs, int n) {
    int i;
    printf("%s:", label);
    for (i = 0; i < n; i++)
        printf(" %d", xs[i]);
    printf("\n");
}

int main(void) {
    static const struct {
        const char *name;
        binary f;
        int init;
    } folds[] = {
        {"sum", add, 0},
        {"max", max, -1000},
        {"min", min, 1000},
        {"odd", count_odd, 0},
    };
    int histogram[OP_COUNT] = {0};
    int xs[] = {3, -1, 4, 1, -5, 9, 2, -6};
    int n = (int)(sizeof xs / sizeof xs[0]);
    int executed;
    int i;

    printf("arithmetic program:\n");
    executed = run(arithmetic, histogram);
    printf("  %d instructions\n", executed);
    printf("factorial program:\n");
    executed = run(factorial, histogram);
    printf("  %d instructions\n", executed);
    /* The handlers most used, by name through a second table. */
    printf("most used: %s %d, %s %d\n", names[OP_PUSH], histogram[OP_PUSH],
           names[OP_JNZ], histogram[OP_JNZ]);

    print_array("xs", xs, n);
    for (i = 0; i < 4; i++)
        printf("fold %s = %d\n", folds[i].name,
               fold(xs, n, folds[i].init, folds[i].f));
    map(xs, n, square);
    printf("squared, fold sum = %d\n", fold(xs, n, 0, add));
    map(xs, n, negate);
    printf("negated, fold sum = %d\n", fold(xs, n, 0, add));
    printf("collatz_step^10(27) = %d\n", iterate(collatz_step, 27, 10));
    printf("negate^3(5) = %d\n", iterate(negate, 5, 3));
    return 0;
}
