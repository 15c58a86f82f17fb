/*
 * hungarian.c -- minimum-cost assignment of 6 workers to 6 jobs with the
 * Hungarian algorithm (the O(n^3) shortest-augmenting-path form with row
 * and column potentials u, v).
 *
 * Workers are added one at a time; each is connected by an augmenting path
 * found Dijkstra-style over reduced costs a[i][j] - u[i] - v[j] >= 0.  The
 * program prints the cost matrix, each augmentation (path length, the
 * potential shift, the cost so far), the assignment and the total cost,
 * then checks the dual bound: the sum of potentials equals the total.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define N 6

/* (i*37 + j*53 + i*j*29) mod 89 + 4: four workers are cheapest on job 6,
 * so most additions need longer augmenting paths. */
static const int cost[N][N] = {
    {4, 57, 21, 74, 38, 91},
    {41, 34, 27, 20, 13, 6},
    {78, 11, 33, 55, 77, 10},
    {26, 77, 39, 90, 52, 14},
    {63, 54, 45, 36, 27, 18},
    {11, 31, 51, 71, 91, 22},
};

int main(void) {
    /* 1-based: index 0 is the virtual column / row of the algorithm. */
    int u[N + 1], v[N + 1], p[N + 1], way[N + 1], minv[N + 1];
    char used[N + 1];
    int assignment[N + 1];
    int i, j, total, dual;

    printf("cost matrix (workers x jobs):\n");
    for (i = 0; i < N; i++) {
        for (j = 0; j < N; j++)
            printf("%4d", cost[i][j]);
        printf("\n");
    }

    /* memset, not loops: clang would unroll a loop of constant stores and
     * merge neighbouring stores into 64-bit ones, which the machine lacks. */
    memset(u, 0, sizeof u);
    memset(v, 0, sizeof v);
    memset(p, 0, sizeof p);
    memset(way, 0, sizeof way);

    for (i = 1; i <= N; i++) {
        int j0 = 0;
        int steps = 0;
        int shift = 0;
        p[0] = i;
        memset(minv, 0x7f, sizeof minv); /* 0x7f7f7f7f: larger than any path */
        memset(used, 0, sizeof used);
        /* Grow the alternating tree until it reaches a free column. */
        do {
            int i0 = p[j0];
            int delta = INT_MAX;
            int j1 = 0;
            used[j0] = 1;
            for (j = 1; j <= N; j++) {
                if (!used[j]) {
                    int reduced = cost[i0 - 1][j - 1] - u[i0] - v[j];
                    if (reduced < minv[j]) {
                        minv[j] = reduced;
                        way[j] = j0;
                    }
                    if (minv[j] < delta) {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for (j = 0; j <= N; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            shift += delta;
            steps++;
            j0 = j1;
        } while (p[j0] != 0);
        /* Flip the path back to the root. */
        do {
            int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0 != 0);
        printf("worker %d added: %d step%s, potentials shifted by %d, cost so far %d\n", i, steps,
               steps == 1 ? "" : "s", shift, -v[0]);
    }

    for (j = 1; j <= N; j++)
        assignment[p[j]] = j;
    total = 0;
    printf("assignment:\n");
    for (i = 1; i <= N; i++) {
        int c = cost[i - 1][assignment[i] - 1];
        total += c;
        printf("  worker %d -> job %d (cost %d)\n", i, assignment[i], c);
    }
    printf("total cost: %d\n", total);

    /* Dual feasibility and the matching bound: u[i] + v[j] <= cost, and
     * sum(u) + sum(v) equals the total at the optimum. */
    dual = 0;
    for (i = 1; i <= N; i++)
        dual += u[i] + v[i];
    for (i = 1; i <= N; i++)
        for (j = 1; j <= N; j++)
            if (u[i] + v[j] > cost[i - 1][j - 1]) {
                printf("dual infeasible at (%d, %d)\n", i, j);
                return 1;
            }
    printf("dual bound: %d (%s)\n", dual, dual == total ? "optimal" : "NOT optimal");
    return dual == total ? 0 : 1;
}
