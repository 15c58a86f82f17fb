/*
 * sudoku.c -- a sudoku solver that explains itself: constraint propagation
 * (naked and hidden singles) plus backtracking on the cell with the fewest
 * candidates, printing every deduction, guess and backtrack, then the grid.
 *
 * The puzzle is argv[1] (81 characters, digits for givens, '.' or '0' for
 * blanks) or a built-in one.  Exit status: 0 solved, 1 bad puzzle, 2 no
 * solution.
 *
 * Written for a machine where multiplication, division, shifts and bitwise
 * operations are expensive: candidates are byte arrays and counters, not
 * bitmasks; tables store each cell's row, column and box, built with
 * counters; arrays are digit-major (allowed[digit][cell]) so the inner loops
 * walk them with additions.  The solver keeps, incrementally:
 *   allowed[d][c]  1 if digit d may still go in empty cell c
 *   count[c]       how many digits cell c still allows
 *   places[d][u]   how many cells of unit u still allow digit d
 *   done[d][u]     1 once digit d is placed in unit u
 * and queues the cells whose count drops to 1 (naked singles) and the
 * (digit, unit) pairs whose places drop to 1 (hidden singles).
 */
#include <stdio.h>
#include <string.h>

#define CELLS 81
#define UNITS 27
#define MAX_DEPTH 16

/* Units: rows 0..8, columns 9..17, boxes 18..26.  row_of and col_of are
 * 0..8 (the column's unit is 9 + col_of), box_of is the box's unit 18..26. */
static unsigned char row_of[CELLS], col_of[CELLS], box_of[CELLS];
/* The cells of unit u are unit_cells[unit_start[u]] .. [unit_start[u] + 8];
 * the start is a byte (at most 234), so no multiplication by 9. */
static unsigned char unit_cells[UNITS * 9];
static unsigned char unit_start[UNITS];

typedef struct {
    unsigned char value[CELLS]; /* 0 = empty */
    unsigned char count[CELLS];
    unsigned char allowed[10][CELLS];
    unsigned char places[10][UNITS];
    unsigned char done[10][UNITS];
    int filled;
} state_t;

static state_t st;
static state_t saved[MAX_DEPTH];

/* Work queues (reset whenever a state is restored). */
static unsigned char naked_queue[CELLS];
static int naked_head, naked_tail;
static unsigned char hidden_digit[10 * UNITS], hidden_unit[10 * UNITS];
static int hidden_head, hidden_tail;

/* Set when a deduction makes the state impossible. */
static int contradiction;
static int quiet; /* no narration while the givens are entered */

static int placements, guesses, backtracks;

/* The narration is most of the output, so it is printed with putchar
 * (printf costs far more per character on the machine). */
static void say(const char *s) {
    while (*s)
        putchar(*s++);
}

/* d in 0..9 */
static void say_digit(int d) { putchar('0' + d); }

static void print_cell(int c) {
    putchar('r');
    say_digit(row_of[c] + 1);
    putchar('c');
    say_digit(col_of[c] + 1);
}

/* Kind and 1-based number of unit u. */
static void print_unit(int u) {
    if (u < 9) {
        say("row ");
        say_digit(u + 1);
    } else if (u < 18) {
        say("column ");
        say_digit(u - 8);
    } else {
        say("box ");
        say_digit(u - 17);
    }
}

static void build_tables(void) {
    unsigned char fill[UNITS];
    int c = 0, r, k, u, band = 18, start = 0;
    for (u = 0; u < UNITS; u++) {
        unit_start[u] = (unsigned char)start;
        fill[u] = (unsigned char)start;
        start += 9;
    }
    for (r = 0; r < 9; r++) {
        int box = band;
        if (r == 2 || r == 5)
            band += 3;
        for (k = 0; k < 9; k++) {
            if (k == 3 || k == 6)
                box++;
            row_of[c] = (unsigned char)r;
            col_of[c] = (unsigned char)k;
            box_of[c] = (unsigned char)box;
            c++;
        }
    }
    for (c = 0; c < CELLS; c++) {
        u = row_of[c];
        unit_cells[fill[u]++] = (unsigned char)c;
        u = 9 + col_of[c];
        unit_cells[fill[u]++] = (unsigned char)c;
        u = box_of[c];
        unit_cells[fill[u]++] = (unsigned char)c;
    }
}

static void reset_state(void) {
    int d;
    memset(&st, 0, sizeof st);
    memset(st.count, 9, sizeof st.count);
    for (d = 1; d <= 9; d++) {
        memset(st.allowed[d], 1, CELLS);
        memset(st.places[d], 9, UNITS);
    }
    naked_head = naked_tail = 0;
    hidden_head = hidden_tail = 0;
    contradiction = 0;
}

/*
 * The arrays of one digit: callers look them up once (digit_view) and pass
 * them along, so the hot paths never compute d * CELLS or d * UNITS.
 */
typedef struct {
    int digit;
    unsigned char *allowed; /* st.allowed[digit] */
    unsigned char *places;  /* st.places[digit] */
    unsigned char *done;    /* st.done[digit] */
} digit_view;

static digit_view view_of(int d) {
    digit_view v;
    v.digit = d;
    v.allowed = st.allowed[d];
    v.places = st.places[d];
    v.done = st.done[d];
    return v;
}

/* The rare paths of lose_place and eliminate, kept out of the hot code. */
static void no_place(int d, int u) {
    if (contradiction)
        return;
    contradiction = 1;
    if (!quiet) {
        say("contradiction: no place for ");
        say_digit(d);
        say(" in ");
        print_unit(u);
        putchar('\n');
    }
}

static void no_candidates(int c) {
    if (contradiction)
        return;
    contradiction = 1;
    if (!quiet) {
        say("contradiction: ");
        print_cell(c);
        say(" has no candidates\n");
    }
}

/* One less place for the digit in unit u. */
__attribute__((always_inline)) static inline void lose_place(const digit_view *v, int u) {
    int left;
    if (v->done[u])
        return;
    left = --v->places[u];
    if (left == 1) {
        hidden_digit[hidden_tail] = (unsigned char)v->digit;
        hidden_unit[hidden_tail] = (unsigned char)u;
        hidden_tail++;
    } else if (left == 0) {
        no_place(v->digit, u);
    }
}

/* Removes the digit from the candidates of cell c. */
static void eliminate(int c, const digit_view *v) {
    int left;
    if (!v->allowed[c])
        return;
    v->allowed[c] = 0;
    left = --st.count[c];
    if (st.value[c] == 0) {
        if (left == 1)
            naked_queue[naked_tail++] = (unsigned char)c;
        else if (left == 0)
            no_candidates(c);
    }
    lose_place(v, row_of[c]);
    lose_place(v, 9 + col_of[c]);
    lose_place(v, box_of[c]);
}

/* Puts digit d in cell c and removes d from every cell that sees c. */
static void place(int c, int d) {
    int e, k, unit[3];
    digit_view v;
    st.value[c] = (unsigned char)d;
    st.filled++;
    placements++;
    /* c no longer offers its other digits to its units. */
    for (e = 1; e <= 9; e++) {
        v = view_of(e);
        if (e != d && v.allowed[c])
            eliminate(c, &v);
    }
    v = view_of(d);
    unit[0] = row_of[c];
    unit[1] = 9 + col_of[c];
    unit[2] = box_of[c];
    for (k = 0; k < 3; k++)
        v.done[unit[k]] = 1;
    for (k = 0; k < 3; k++) {
        const unsigned char *cells = unit_cells + unit_start[unit[k]];
        int i;
        for (i = 0; i < 9; i++) {
            int p = cells[i];
            if (v.allowed[p] && p != c)
                eliminate(p, &v);
        }
    }
}

/* Applies queued singles until none is left or a contradiction appears. */
static void propagate(void) {
    while (!contradiction) {
        if (naked_head < naked_tail) {
            int c = naked_queue[naked_head++];
            int d = 1;
            if (st.value[c] != 0 || st.count[c] != 1)
                continue;
            while (!st.allowed[d][c])
                d++;
            if (!quiet) {
                print_cell(c);
                say(" = ");
                say_digit(d);
                say(" (only candidate)\n");
            }
            place(c, d);
        } else if (hidden_head < hidden_tail) {
            int d = hidden_digit[hidden_head];
            int u = hidden_unit[hidden_head];
            const unsigned char *cells = unit_cells + unit_start[u];
            digit_view v = view_of(d);
            int i = 0;
            hidden_head++;
            if (v.done[u] || v.places[u] != 1)
                continue;
            while (st.value[cells[i]] != 0 || !v.allowed[cells[i]])
                i++;
            if (!quiet) {
                print_cell(cells[i]);
                say(" = ");
                say_digit(d);
                say(" (only place in ");
                print_unit(u);
                say(")\n");
            }
            place(cells[i], d);
        } else {
            break;
        }
    }
}

/* Empty cell with the fewest candidates (the first such), or -1. */
static int choose_cell(void) {
    int best = -1, best_count = 10, c;
    for (c = 0; c < CELLS; c++) {
        if (st.value[c] == 0 && st.count[c] < best_count) {
            best = c;
            best_count = st.count[c];
        }
    }
    return best;
}

/* Depth-first search; returns 1 when st holds a solution. */
static int solve(int depth) {
    int c, d, tried = 0;
    propagate();
    if (contradiction)
        return 0;
    if (st.filled == CELLS)
        return 1;
    if (depth == MAX_DEPTH) {
        printf("search too deep\n");
        return 0;
    }
    c = choose_cell();
    for (d = 1; d <= 9; d++) {
        if (!st.allowed[d][c])
            continue;
        tried++;
        memcpy(&saved[depth], &st, sizeof st);
        guesses++;
        say("guess ");
        print_cell(c);
        say(" = ");
        say_digit(d);
        say(" (option ");
        say_digit(tried);
        say(" of ");
        say_digit(saved[depth].count[c]);
        printf(", depth %d)\n", depth + 1);
        naked_head = naked_tail = hidden_head = hidden_tail = 0;
        place(c, d);
        if (solve(depth + 1))
            return 1;
        memcpy(&st, &saved[depth], sizeof st);
        naked_head = naked_tail = hidden_head = hidden_tail = 0;
        contradiction = 0;
        backtracks++;
        say("backtrack: ");
        print_cell(c);
        say(" != ");
        say_digit(d);
        putchar('\n');
        /* The failed digit is now ruled out; that may be a deduction. */
        {
            digit_view v = view_of(d);
            eliminate(c, &v);
        }
        propagate();
        if (contradiction)
            return 0;
        if (st.value[c] != 0)
            return solve(depth);
    }
    return 0;
}

static void print_grid(const unsigned char *value) {
    int c;
    for (c = 0; c < CELLS; c++) {
        putchar(value[c] ? '0' + value[c] : '.');
        if (col_of[c] == 8) {
            putchar('\n');
            if (row_of[c] == 2 || row_of[c] == 5)
                say("------+-------+------\n");
        } else if (col_of[c] == 2 || col_of[c] == 5) {
            say(" | ");
        } else {
            putchar(' ');
        }
    }
}

/* Made for this catalog: a random full grid with cells removed while the
 * solution stays unique (25 givens).  Singles alone get stuck on it: the
 * solver needs two guesses and one backtrack. */
static const char default_puzzle[] =
    "5...1...."
    ".4......."
    "...825..."
    "2.83....1"
    ".6.2...74"
    ".....193."
    ".15....4."
    "3......6."
    "6....32..";

int main(int argc, char **argv) {
    const char *puzzle = argc > 1 ? argv[1] : default_puzzle;
    int c, givens = 0;

    build_tables();
    reset_state();
    if (strlen(puzzle) != CELLS) {
        printf("a puzzle is 81 characters, got %d\n", (int)strlen(puzzle));
        return 1;
    }
    quiet = 1;
    for (c = 0; c < CELLS; c++) {
        char ch = puzzle[c];
        if (ch >= '1' && ch <= '9') {
            if (!st.allowed[ch - '0'][c]) {
                printf("given %c at ", ch);
                print_cell(c);
                printf(" conflicts with another given\n");
                return 1;
            }
            place(c, ch - '0');
            givens++;
        } else if (ch != '.' && ch != '0') {
            printf("unexpected character '%c' in the puzzle\n", ch);
            return 1;
        }
    }
    placements = 0;
    quiet = 0;
    printf("puzzle (%d givens):\n", givens);
    print_grid(st.value);
    if (contradiction) {
        printf("the givens contradict each other\n");
        return 1;
    }
    printf("\n");
    if (!solve(0)) {
        printf("no solution (%d guesses, %d backtracks)\n", guesses, backtracks);
        return 2;
    }
    printf("\nsolved: %d placements, %d guesses, %d backtracks\n", placements, guesses, backtracks);
    print_grid(st.value);
    return 0;
}
