/* fibfp: doubly recursive Fibonacci on doubles.
 * Same algorithm and size as testdata/lisp/bench/fibfp.scm. */
#include <stdio.h>

static volatile double size_n = 36.0;

static double fibfp(double n)
{
    if (n < 2.0)
        return n;
    return fibfp(n - 1.0) + fibfp(n - 2.0);
}

int main(void)
{
    printf("%.1f\n", fibfp(size_n));
    return 0;
}
