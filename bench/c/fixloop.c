/* fixloop: a tight integer loop (a polynomial hash of 0..n-1).
 * Same algorithm and size as testdata/lisp/bench/fixloop.scm. */
#include <stdio.h>

static volatile long size_n = 100000000;

static long hash_range(long n)
{
    long acc = 0;
    for (long i = 0; i != n; i++)
        acc = (acc * 31 + i) % 1000003;
    return acc;
}

int main(void)
{
    printf("%ld\n", hash_range(size_n));
    return 0;
}
