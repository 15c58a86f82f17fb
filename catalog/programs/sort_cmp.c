/*
 * sort_cmp.c -- a sort that takes its order as a function pointer: a
 * stable merge sort (bottom-up, into a scratch array) over pointers to
 * records, run with three comparators: by score (descending), by name,
 * and by year then score.  Stability shows in the ties.  Every comparison
 * is an indirect call (call_indirect).
 */
#include <stdio.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

struct record {
    const char *name;
    int year;
    int score;
};

typedef int (*compare)(const struct record *, const struct record *);

static int comparisons;

static int by_score_desc(const struct record *a, const struct record *b) {
    return b->score - a->score;
}

static int by_name(const struct record *a, const struct record *b) {
    return strcmp(a->name, b->name);
}

static int by_year_then_score(const struct record *a,
                              const struct record *b) {
    if (a->year != b->year)
        return a->year - b->year;
    return by_score_desc(a, b);
}

/* Merges the sorted runs src[lo..mid) and src[mid..hi) into dst[lo..hi);
 * on ties the left run goes first (stability).  Each branch tests its own
 * run for the end (also keeps clang from rewriting the loop without
 * branches, with shifts and masks of the comparison's sign). */
static void merge(const struct record **src, const struct record **dst,
                  int lo, int mid, int hi, compare cmp) {
    int i = lo, j = mid, k = lo;
    if (i < mid && j < hi) {
        for (;;) {
            comparisons++;
            if (cmp(src[j], src[i]) < 0) {
                dst[k++] = src[j++];
                if (j == hi)
                    break;
            } else {
                dst[k++] = src[i++];
                if (i == mid)
                    break;
            }
        }
    }
    /* One of the runs is used up; the rest of the other follows. */
    memcpy(dst + k, src + i, (size_t)(mid - i) * sizeof *src);
    k += mid - i;
    memcpy(dst + k, src + j, (size_t)(hi - j) * sizeof *src);
}

/* Bottom-up merge sort of a[0..n): runs of width 1, 2, 4, ... merged back
 * and forth between a and tmp; the result ends up in a. */
NOINLINE static void merge_sort(const struct record **a,
                                const struct record **tmp, int n,
                                compare cmp) {
    const struct record **src = a, **dst = tmp;
    int width;
    for (width = 1; width < n; width += width) {
        const struct record **t;
        int lo;
        for (lo = 0; lo < n; lo += width + width) {
            int mid = lo + width < n ? lo + width : n;
            int hi = mid + width < n ? mid + width : n;
            merge(src, dst, lo, mid, hi, cmp);
        }
        t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, (size_t)n * sizeof *a);
}

static const struct record records[] = {
    {"lovelace", 1843, 88}, {"turing", 1936, 95},   {"church", 1936, 90},
    {"hopper", 1952, 88},   {"knuth", 1968, 97},    {"dijkstra", 1959, 90},
    {"backus", 1957, 85},   {"mccarthy", 1958, 92}, {"liskov", 1974, 90},
    {"ritchie", 1972, 88},  {"hoare", 1961, 92},    {"kay", 1972, 85},
};

#define N ((int)(sizeof records / sizeof records[0]))

/* Writes a string with putchar (cheaper than printf on the machine; the
 * bytes are unsigned so that no sign extension is needed). */
static void put_str(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p)
        putchar(*p++);
}

/* One line: the names in order, with their scores if `scores`. */
static void show(const char *title, const struct record **a, int scores) {
    int i;
    put_str(title);
    put_str(":\n ");
    for (i = 0; i < N; i++) {
        putchar(' ');
        put_str(a[i]->name);
        if (scores)
            printf(":%d", a[i]->score);
    }
    putchar('\n');
}

/* Checks that cmp puts a in order (no adjacent pair out of order). */
static int sorted(const struct record **a, compare cmp) {
    int i;
    for (i = 1; i < N; i++)
        if (cmp(a[i - 1], a[i]) > 0)
            return 0;
    return 1;
}

int main(void) {
    static const struct {
        const char *title;
        compare cmp;
        int scores; /* show the scores beside the names */
    } orders[] = {
        {"by score, best first (ties keep input order)", by_score_desc, 1},
        {"by name", by_name, 0},
        {"by year, then score", by_year_then_score, 0},
    };
    const struct record *a[N];
    const struct record *tmp[N];
    int k, i;

    for (k = 0; k < 3; k++) {
        /* Each sort starts from the input order. */
        for (i = 0; i < N; i++)
            a[i] = &records[i];
        comparisons = 0;
        merge_sort(a, tmp, N, orders[k].cmp);
        show(orders[k].title, a, orders[k].scores);
        printf("  %d comparisons, sorted: %s\n", comparisons,
               sorted(a, orders[k].cmp) ? "yes" : "no");
    }
    return 0;
}
