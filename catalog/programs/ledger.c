/*
 * ledger.c -- reads "NAME AMOUNT" lines from standard input (fgets, then
 * sscanf "%63s %lld"), totals the amounts per name (the table is in
 * ledger_table.c, declared in the local header ledger.h: qsort by name,
 * merge, bsearch), and looks up the accounts named on the command line.
 * An argument may hold spaces ("bob smith"): they become underscores, the
 * way names are written in the ledger.  Totals pass 2^32, so the
 * arithmetic and the "%lld" conversions must be 64-bit.  Lines that are
 * blank, comments (#) or malformed are counted and skipped.
 */
#include "ledger.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static struct ledger book;

/* "%-12s %12lld" into a buffer, then printed: the report's one format. */
static void print_row(const char *label, long long value) {
    char buf[96];
    int n = snprintf(buf, sizeof buf, "%-12s %12lld", label, value);
    assert(n > 0 && (size_t)n < sizeof buf);
    printf("%s\n", buf);
}

int main(int argc, char **argv) {
    char line[128];
    int lineno = 0, skipped = 0, comments = 0;
    ledger_init(&book);
    while (fgets(line, sizeof line, stdin) != NULL) {
        lineno++;
        char name[LEDGER_NAME_MAX];
        long long amount;
        char first;
        if (sscanf(line, " %c", &first) != 1 || first == '#') {
            comments++;
            continue;
        }
        if (sscanf(line, "%63s %lld", name, &amount) != 2) {
            printf("line %d: skipped: %s", lineno, line);
            skipped++;
            continue;
        }
        if (ledger_add(&book, name, amount, lineno) != 0) {
            printf("line %d: the ledger is full\n", lineno);
            return 1;
        }
    }
    size_t entries = book.count;
    printf("%d lines: %zu entries, %d blank or comments, %d skipped\n", lineno, entries,
           comments, skipped);

    ledger_close(&book);
    /* Merging keeps every amount: the totals add up to the running sum. */
    assert(ledger_sum(&book) == book.total);
    printf("%zu accounts\n", book.count);
    for (size_t i = 0; i < book.count; i++)
        print_row(book.records[i].name, book.records[i].amount);
    print_row("TOTAL", book.total);

    printf("lookups:\n");
    int found = 0;
    for (int i = 1; i < argc; i++) {
        char key[LEDGER_NAME_MAX];
        snprintf(key, sizeof key, "%s", argv[i]);
        for (char *p = key; *p; p++)
            if (*p == ' ')
                *p = '_';
        const struct record *r = ledger_find(&book, key);
        if (r == NULL) {
            printf("\"%s\": no such account\n", argv[i]);
            continue;
        }
        found++;
        print_row(r->name, r->amount);
        printf("  \"%s\": %d entries from line %d, average %lld, %s 2^32\n", argv[i],
               r->entries, r->line, r->amount / r->entries,
               r->amount > 4294967296LL || r->amount < -4294967296LL ? "beyond" : "within");
    }
    printf("%d of %d found\n", found, argc - 1);
    return found == argc - 1 ? 0 : 2;
}
