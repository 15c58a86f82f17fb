/*
 * addition.c -- long addition of two decimal numbers given as arguments
 * (up to 60 digits each), the way it is done on paper: digit arrays, least
 * significant digit first, an explicit carry per column.
 *
 * Prints the carry into every column, the operands right-aligned and the
 * sum:
 *
 *     carry 0111...
 *            123...
 *         +  987...
 *         = 1111...
 *
 * Exit status 1 for bad usage or a non-digit argument.
 */
#include <stdio.h>
#include <string.h>

#define MAX_DIGITS 60

/* Reads a decimal string into digits[], least significant first; returns
 * the number of digits, or -1 if the string is empty, too long or not all
 * digits. */
static int read_number(const char *s, unsigned char *digits) {
    int len = (int)strlen(s);
    int i;
    if (len == 0 || len > MAX_DIGITS)
        return -1;
    for (i = 0; i < len; i++) {
        char c = s[len - 1 - i];
        if (c < '0' || c > '9')
            return -1;
        digits[i] = (unsigned char)(c - '0');
    }
    return len;
}

static void print_spaces(int n) {
    while (n-- > 0)
        putchar(' ');
}

/* Prints digits[len-1] .. digits[0] right-aligned in a field of `width`. */
static void print_number(const unsigned char *digits, int len, int width) {
    int i;
    print_spaces(width - len);
    for (i = len - 1; i >= 0; i--)
        putchar('0' + digits[i]);
    putchar('\n');
}

int main(int argc, char **argv) {
    unsigned char a[MAX_DIGITS + 1];
    unsigned char b[MAX_DIGITS + 1];
    unsigned char sum[MAX_DIGITS + 1];
    unsigned char carry[MAX_DIGITS + 2];
    int la, lb, len, i, width;

    if (argc != 3) {
        printf("usage: %s A B   (decimal, up to %d digits)\n", argv[0], MAX_DIGITS);
        return 1;
    }
    la = read_number(argv[1], a);
    lb = read_number(argv[2], b);
    if (la < 0 || lb < 0) {
        printf("arguments must be 1 to %d decimal digits\n", MAX_DIGITS);
        return 1;
    }

    /* Pad the shorter number with zeros. */
    len = la > lb ? la : lb;
    memset(a + la, 0, (size_t)(len - la));
    memset(b + lb, 0, (size_t)(len - lb));

    /* Column by column, carry into the next column. */
    carry[0] = 0;
    for (i = 0; i < len; i++) {
        int column = a[i] + b[i] + carry[i];
        if (column >= 10) {
            sum[i] = (unsigned char)(column - 10);
            carry[i + 1] = 1;
        } else {
            sum[i] = (unsigned char)column;
            carry[i + 1] = 0;
        }
    }
    if (carry[len]) {
        sum[len] = 1;
        len++;
    }

    /* Layout: two characters of operator column, then the digits. */
    width = len;
    printf("carry ");
    print_spaces(width - len);
    for (i = len - 1; i >= 0; i--)
        putchar('0' + carry[i]);
    putchar('\n');
    printf("      ");
    print_number(a, la, width);
    printf("    + ");
    print_number(b, lb, width);
    printf("    = ");
    print_number(sum, len, width);
    printf("%d + %d digits -> %d digits\n", la, lb, len);
    return 0;
}
