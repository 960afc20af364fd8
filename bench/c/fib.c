/* fib: doubly recursive Fibonacci on integers.
 * Same algorithm and size as testdata/lisp/bench/fib.scm.  The size is read
 * from a volatile so the compiler cannot evaluate the result at build time. */
#include <stdio.h>

static volatile long size_n = 36;

static long fib(long n)
{
    if (n < 2)
        return n;
    return fib(n - 1) + fib(n - 2);
}

int main(void)
{
    printf("%ld\n", fib(size_n));
    return 0;
}
