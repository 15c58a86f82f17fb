/*
 * ledger_table.c -- the record table of the `ledger` catalog program:
 * entries appended in input order, sorted by name with qsort, merged into
 * one total per name, found again with bsearch.
 */
#include "ledger.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void ledger_init(struct ledger *l) {
    memset(l, 0, sizeof *l);
}

int ledger_add(struct ledger *l, const char *name, long long amount, int line) {
    assert(!l->closed);
    if (l->count == LEDGER_CAPACITY)
        return -1;
    struct record *r = &l->records[l->count++];
    strncpy(r->name, name, LEDGER_NAME_MAX - 1);
    r->name[LEDGER_NAME_MAX - 1] = '\0';
    r->amount = amount;
    r->entries = 1;
    r->line = line;
    l->total += amount;
    return 0;
}

/* By name, then by input line: a total order, so the unstable qsort gives
 * one result everywhere. */
static int by_name_then_line(const void *a, const void *b) {
    const struct record *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return (x->line > y->line) - (x->line < y->line);
}

void ledger_close(struct ledger *l) {
    assert(!l->closed);
    qsort(l->records, l->count, sizeof l->records[0], by_name_then_line);
    size_t out = 0;
    for (size_t i = 0; i < l->count; i++) {
        if (out > 0 && strcmp(l->records[out - 1].name, l->records[i].name) == 0) {
            l->records[out - 1].amount += l->records[i].amount;
            l->records[out - 1].entries += l->records[i].entries;
        } else {
            l->records[out++] = l->records[i];
        }
    }
    l->count = out;
    l->closed = 1;
    /* Strictly increasing names: what bsearch needs. */
    for (size_t i = 1; i < l->count; i++)
        assert(strcmp(l->records[i - 1].name, l->records[i].name) < 0);
}

static int key_vs_record(const void *key, const void *element) {
    const struct record *r = element;
    return strcmp((const char *)key, r->name);
}

const struct record *ledger_find(const struct ledger *l, const char *name) {
    assert(l->closed);
    return bsearch(name, l->records, l->count, sizeof l->records[0], key_vs_record);
}

long long ledger_sum(const struct ledger *l) {
    long long sum = 0;
    for (size_t i = 0; i < l->count; i++)
        sum += l->records[i].amount;
    return sum;
}
