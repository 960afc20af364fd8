/* ack: the Ackermann function, repeated.
 * Same algorithm and size as testdata/lisp/bench/ack.scm. */
#include <stdio.h>

static volatile long arg_m = 3, arg_n = 9, repeats = 6;

static long ack(long m, long n)
{
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

int main(void)
{
    long acc = 0;
    for (long k = repeats; k != 0; k--)
        acc += ack(arg_m, arg_n);
    printf("%ld\n", acc);
    return 0;
}
