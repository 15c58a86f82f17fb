/*
 * exit_code.c -- exit() from deep inside the call stack: the program
 * prints a few lines, then a nested call exits with status 3 (the count of
 * lines printed); nothing after the exit may appear, and main's own return
 * value (99) must not become the status.
 */
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

static int lines;
static volatile int should_exit = 1; /* opaque to the compilers */

NOINLINE static void say(const char *what) {
    printf("%s\n", what);
    lines++;
}

NOINLINE static void leave_from_depth(int depth) {
    if (depth == 0) {
        say("exiting from depth 0");
        if (should_exit)
            exit(lines);
        return;
    }
    leave_from_depth(depth - 1);
    say("not reached");
}

int main(void) {
    say("start");
    say("descending 5 levels");
    leave_from_depth(5);
    say("not reached either");
    return 99;
}
