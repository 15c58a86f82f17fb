/*
 * ledger.h -- the record table of the `ledger` catalog program, shared by
 * ledger.c (input, lookups, report) and ledger_table.c (the table itself).
 */
#ifndef LEDGER_H
#define LEDGER_H

#include <stddef.h>

/* Longest name, with its NUL (sscanf reads at most LEDGER_NAME_MAX - 1). */
#define LEDGER_NAME_MAX 64
/* Most entries (input lines) the table keeps. */
#define LEDGER_CAPACITY 64

/* One input line, then (after ledger_close) one account's total. */
struct record {
    char name[LEDGER_NAME_MAX];
    long long amount; /* one entry, then the account's total */
    int entries;      /* entries summed into `amount` */
    int line;         /* input line of the (first) entry */
};

struct ledger {
    struct record records[LEDGER_CAPACITY];
    size_t count;           /* records in use */
    long long total;        /* sum of every amount added */
    int closed;             /* sorted and merged: one record per name */
};

void ledger_init(struct ledger *l);
/* Appends an entry; 0 on success, -1 when the table is full. */
int ledger_add(struct ledger *l, const char *name, long long amount, int line);
/* Sorts the entries by name (qsort) and merges each name's entries into
 * one record holding their total. */
void ledger_close(struct ledger *l);
/* The closed ledger's record for `name` (bsearch), or NULL. */
const struct record *ledger_find(const struct ledger *l, const char *name);
/* Sum of the records' amounts. */
long long ledger_sum(const struct ledger *l);

#endif
