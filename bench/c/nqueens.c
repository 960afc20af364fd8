/* nqueens: count the placements of n queens by backtracking on boolean
 * arrays (columns and both diagonals), repeated.
 * Same algorithm and size as testdata/lisp/bench/nqueens.scm. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static volatile long size_n = 12, repeats = 2;

struct board {
    bool *cols, *d1, *d2;
    long n;
};

static bool is_free(const struct board *b, long row, long c)
{
    return !(b->cols[c] || b->d1[row + c] || b->d2[row - c + b->n]);
}

static void mark(struct board *b, long row, long c, bool v)
{
    b->cols[c] = v;
    b->d1[row + c] = v;
    b->d2[row - c + b->n] = v;
}

static long place(struct board *b, long row)
{
    if (row == b->n)
        return 1;
    long count = 0;
    for (long c = 0; c < b->n; c++) {
        if (is_free(b, row, c)) {
            mark(b, row, c, true);
            count += place(b, row + 1);
            mark(b, row, c, false);
        }
    }
    return count;
}

static long queens(long n)
{
    struct board b = { calloc(n, 1), calloc(2 * n, 1), calloc(2 * n, 1), n };
    if (!b.cols || !b.d1 || !b.d2) {
        fprintf(stderr, "nqueens: out of memory\n");
        exit(1);
    }
    long count = place(&b, 0);
    free(b.cols);
    free(b.d1);
    free(b.d2);
    return count;
}

int main(void)
{
    long acc = 0;
    for (long k = repeats; k != 0; k--)
        acc += queens(size_n);
    printf("%ld\n", acc);
    return 0;
}
