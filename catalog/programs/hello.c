/* hello.c -- the smallest catalog program: one printf, exit status 0. */
#include <stdio.h>

int main(void) {
    printf("Hello, world!\n");
    return 0;
}
