/*
 * wordfreq.c -- reads all of standard input with getchar, splits it into
 * words (runs of letters, lowercased by hand), sorts the words with qsort,
 * counts the runs of equal words, sorts the counts (most frequent first,
 * ties alphabetically) with qsort again and prints the top N, N from argv[1]
 * through strtol (default 10).  Sizes are size_t ("%zu"), counts long long
 * ("%lld").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_MAX 8192
#define WORDS_MAX 2048

static char text[TEXT_MAX];
static char *words[WORDS_MAX];

struct count {
    const char *word;
    long long n;
};
static struct count counts[WORDS_MAX];

static int by_word(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Most frequent first; equal counts alphabetically: a total order. */
static int by_count_then_word(const void *a, const void *b) {
    const struct count *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->word, y->word);
}

int main(int argc, char **argv) {
    long top = 10;
    if (argc > 1) {
        char *end;
        top = strtol(argv[1], &end, 10);
        if (*end != '\0' || top < 0) {
            printf("usage: %s [N]\n", argv[0]);
            return 1;
        }
    }

    /* Read everything; letters are kept lowercased, every other byte ends
     * a word (it becomes the word's NUL). */
    size_t len = 0, lines = 0, bytes = 0;
    int c;
    while ((c = getchar()) != EOF) {
        bytes++;
        if (c == '\n')
            lines++;
        if (len + 1 >= TEXT_MAX)
            continue;
        text[len++] = isalpha(c) ? (char)tolower(c) : '\0';
    }
    text[len] = '\0';

    size_t nwords = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] != '\0' && (i == 0 || text[i - 1] == '\0') && nwords < WORDS_MAX)
            words[nwords++] = &text[i];
    printf("%zu bytes, %zu lines, %zu words\n", bytes, lines, nwords);

    qsort(words, nwords, sizeof words[0], by_word);
    size_t distinct = 0;
    for (size_t i = 0; i < nwords; i++) {
        if (distinct > 0 && strcmp(counts[distinct - 1].word, words[i]) == 0) {
            counts[distinct - 1].n++;
        } else {
            counts[distinct].word = words[i];
            counts[distinct].n = 1;
            distinct++;
        }
    }
    printf("%zu distinct; first %s, last %s\n", distinct, distinct ? counts[0].word : "-",
           distinct ? counts[distinct - 1].word : "-");

    qsort(counts, distinct, sizeof counts[0], by_count_then_word);
    size_t shown = (size_t)top < distinct ? (size_t)top : distinct;
    long long covered = 0;
    for (size_t i = 0; i < shown; i++) {
        covered += counts[i].n;
        printf("%3zu. %-10s %3lld%s\n", i + 1, counts[i].word, counts[i].n,
               i > 0 && counts[i].n == counts[i - 1].n ? " =" : "");
    }
    printf("top %zu cover %lld of %zu words (%lld%%)\n", shown, covered, nwords,
           nwords ? covered * 100 / (long long)nwords : 0LL);
    return 0;
}
