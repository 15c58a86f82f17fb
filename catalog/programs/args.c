/*
 * args.c -- the input image: prints argc and every argv string with its
 * length, checks that argv[argc] is NULL, and exits with argc.  argv[0] is
 * the program name ("args"); the manifest passes the other arguments.
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    int i;
    printf("argc = %d\n", argc);
    for (i = 0; i < argc; i++)
        printf("argv[%d] = \"%s\" (%d bytes)\n", i, argv[i], (int)strlen(argv[i]));
    printf("argv[argc] is %s\n", argv[argc] == NULL ? "NULL" : "not NULL");
    return argc;
}
