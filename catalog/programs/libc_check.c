/*
 * libc_check.c -- exercises the tvm libc (frontend/libc) against the host C
 * library: printf conversions, flags, widths and precisions; snprintf
 * truncation; the string, memory, number-parsing, ctype and allocation
 * functions.  Built natively with glibc it must print exactly the same, so
 * this program is the libc's conformance test.
 *
 * Only behaviour that the C standard pins down is printed: comparison
 * functions are reduced to their sign, pointers to offsets or properties.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Values the compiler cannot fold into the calls.  (Folded, neighbouring
 * constant arguments are stored as 64-bit words by clang, and the machine
 * has no 64-bit instructions.) */
static volatile int vi[] = {0, -7, 42, INT_MAX, INT_MIN, 123456};
static volatile unsigned vu[] = {0u, 255u, 0xdeadbeefu, 0xffffffffu};
static volatile char letters[] = "xyz";
static volatile int sizes[] = {6, 1};
static volatile char first_letter = 'a';

static int sign(int x) { return x < 0 ? -1 : x > 0 ? 1 : 0; }

static void check_printf(void) {
    char buf[64];
    int n, i;

    printf("-- printf\n");
    for (i = 0; i < 6; i++)
        printf("[%d] [%i] [%5d] [%-5d|] [%05d] [%+d] [% d] [%.3d] [%8.3d] [%-8.3d|]\n", vi[i], vi[i],
               vi[i], vi[i], vi[i], vi[i], vi[i], vi[i], vi[i], vi[i]);
    for (i = 0; i < 4; i++)
        printf("[%u] [%x] [%X] [%08x] [%#x] [%#X] [%-10x|] [%.5x] [%lu] [%lx]\n", vu[i], vu[i], vu[i],
               vu[i], vu[i], vu[i], vu[i], vu[i], (unsigned long)vu[i], (unsigned long)vu[i]);
    printf("[%ld] [%5ld] [%zu]\n", (long)vi[1], (long)vi[2], (size_t)vu[1]);
    printf("[%c] [%3c] [%-3c|] [%%] [%s] [%8s] [%-8s|] [%.2s] [%5.1s]\n", letters[0], letters[1],
           letters[2], "str", "right", "left", "truncate", "abc");
    printf("[%*d] [%-*d|] [%.*d] [%*s|]\n", vi[2] - 36, vi[1], vi[2] - 36, vi[1], vi[2] - 38, vi[1],
           vi[1] + 2, "ab");
    printf("[%.0d] [%.0x] [%5.0d|] [%#.0x]\n", vi[0], vu[0], vi[0], vu[0]);

    n = snprintf(buf, sizeof buf, "%s-%d-%x", "abc", vi[1], vu[2]);
    printf("snprintf -> %d \"%s\"\n", n, buf);
    n = snprintf(buf, (size_t)sizes[0], "%s", "truncated text");
    printf("snprintf(6) -> %d \"%s\"\n", n, buf);
    n = snprintf(buf, (size_t)sizes[1], "%d", vi[3]);
    printf("snprintf(1) -> %d \"%s\"\n", n, buf);
    n = snprintf(NULL, 0, "%d%d", vi[3], vi[4]);
    printf("snprintf(NULL, 0) -> %d\n", n);
    n = sprintf(buf, "%05d|%-4x|%c", vi[2], vu[1], letters[1]);
    printf("sprintf -> %d \"%s\"\n", n, buf);
    n = printf("twelve chars");
    printf(" <- printf returned %d\n", n);
    n = puts("puts adds a newline");
    printf("puts returned %s\n", n >= 0 ? "non-negative" : "EOF");
    putchar('p');
    putchar('c');
    putchar('\n');
}

static void check_strings(void) {
    char a[32], b[32];
    const char *text = "the quick brown fox";
    int i;

    printf("-- strings\n");
    printf("strlen %d %d\n", (int)strlen(""), (int)strlen(text));
    printf("strcmp %d %d %d %d\n", sign(strcmp("abc", "abd")), sign(strcmp("abc", "abc")),
           sign(strcmp("b", "abc")), sign(strcmp("ab", "abc")));
    printf("strcmp high bytes %d\n", sign(strcmp("\xe9", "e")));
    printf("strncmp %d %d %d\n", sign(strncmp("abcx", "abcy", 3)), sign(strncmp("abcx", "abcy", 4)),
           sign(strncmp("a", "b", 0)));
    strcpy(a, "copy");
    strcat(a, "+cat");
    printf("strcpy/strcat \"%s\"\n", a);
    memset(b, 'x', sizeof b);
    strncpy(b, "ab", 5);
    printf("strncpy pads: %d %d %d %d %c\n", b[0], b[2], b[3], b[4], b[5]);
    printf("strchr %d %d %s\n", (int)(strchr(text, 'q') - text), (int)(strchr(text, 0) - text),
           strchr(text, 'z') == NULL ? "NULL" : "found");
    printf("strrchr %d\n", (int)(strrchr(text, 'o') - text));
    printf("strstr %d %d %s\n", (int)(strstr(text, "brown") - text), (int)(strstr(text, "") - text),
           strstr(text, "cat") == NULL ? "NULL" : "found");

    for (i = 0; i < 20; i++)
        a[i] = (char)(first_letter + i);
    memmove(a + 2, a, 10); /* overlapping, forward destination */
    a[12] = 0;
    printf("memmove up   \"%s\"\n", a);
    for (i = 0; i < 20; i++)
        a[i] = (char)(first_letter + i);
    memmove(a, a + 3, 17); /* overlapping, backward destination */
    a[17] = 0;
    printf("memmove down \"%s\"\n", a);
    memcpy(b, "0123456789abcdefghij", 21);
    printf("memcpy \"%s\"\n", b);
    memset(b + 3, '-', 13);
    printf("memset \"%s\"\n", b);
    printf("memcmp %d %d %d\n", sign(memcmp("abc", "abd", 3)), sign(memcmp("abc", "abd", 2)),
           sign(memcmp("\x80", "\x7f", 1)));
    printf("memchr %d %s\n", (int)((const char *)memchr(text, 'k', 19) - text),
           memchr(text, 'k', 5) == NULL ? "NULL" : "found");
}

static void check_numbers(void) {
    char *end;
    long v;

    printf("-- numbers\n");
    printf("atoi %d %d %d %d %d\n", atoi("123"), atoi("  -45xyz"), atoi("+7"), atoi("abc"),
           atoi("2147483647"));
    printf("atol %ld\n", atol("-2147483648"));
    v = strtol("0x1f rest", &end, 16);
    printf("strtol hex %ld rest \"%s\"\n", v, end);
    v = strtol("0x1f", &end, 0);
    printf("strtol auto hex %ld\n", v);
    v = strtol("0755", &end, 0);
    printf("strtol auto octal %ld\n", v);
    v = strtol("-101", &end, 2);
    printf("strtol binary %ld\n", v);
    v = strtol("zz", &end, 36);
    printf("strtol base 36 %ld\n", v);
    v = strtol("  +99 bottles", &end, 10);
    printf("strtol %ld rest \"%s\"\n", v, end);
    v = strtol("none", &end, 10);
    printf("strtol no digits %ld, end at start: %s\n", v, *end == 'n' ? "yes" : "no");
    printf("strtoul %lu\n", strtoul("4294967295", NULL, 10));
    printf("abs %d %d %ld\n", abs(vi[1]), abs(vi[2]), labs((long)vi[1]));
}

static void check_ctype(void) {
    static const char *names[] = {"digit", "xdigit", "alpha", "alnum", "upper", "lower",
                                  "space", "blank",  "print", "graph", "punct", "cntrl"};
    int k, c;

    printf("-- ctype\n");
    for (k = 0; k < 12; k++) {
        int count = 0;
        int first = -1;
        int last = -1;
        for (c = 0; c < 128; c++) {
            int yes;
            switch (k) {
            case 0: yes = isdigit(c); break;
            case 1: yes = isxdigit(c); break;
            case 2: yes = isalpha(c); break;
            case 3: yes = isalnum(c); break;
            case 4: yes = isupper(c); break;
            case 5: yes = islower(c); break;
            case 6: yes = isspace(c); break;
            case 7: yes = isblank(c); break;
            case 8: yes = isprint(c); break;
            case 9: yes = isgraph(c); break;
            case 10: yes = ispunct(c); break;
            default: yes = iscntrl(c); break;
            }
            if (yes) {
                count++;
                if (first < 0)
                    first = c;
                last = c;
            }
        }
        printf("is%-6s %3d chars, first %3d, last %3d\n", names[k], count, first, last);
    }
    printf("toupper %c%c%c tolower %c%c%c\n", toupper('a'), toupper('Z'), toupper('5'), tolower('A'),
           tolower('z'), tolower('#'));
}

static void check_memory(void) {
    char *p, *q, *r;
    int *zeros;
    int i, sum = 0, aligned = 1;

    printf("-- memory\n");
    for (i = 1; i <= 5; i++) {
        p = malloc((size_t)(i + i + 1));
        if (p == NULL || ((unsigned long)p) % 8 != 0)
            aligned = 0;
    }
    printf("malloc: 8-byte aligned: %s\n", aligned ? "yes" : "no");
    zeros = calloc(10, sizeof(int));
    for (i = 0; i < 10; i++)
        sum += zeros[i];
    printf("calloc: zeroed: %s\n", zeros != NULL && sum == 0 ? "yes" : "no");
    p = malloc(6);
    strcpy(p, "hello");
    q = realloc(p, 100);
    printf("realloc keeps data: %s\n", strcmp(q, "hello") == 0 ? "yes" : "no");
    r = malloc(16);
    printf("distinct blocks: %s\n", r != q && r != NULL ? "yes" : "no");
    free(r);
    free(q);
    free(zeros);
}

int main(void) {
    check_printf();
    check_strings();
    check_numbers();
    check_ctype();
    check_memory();
    return 0;
}
