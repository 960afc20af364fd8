/* tak: the Takeuchi function, repeated.
 * Same algorithm and size as testdata/lisp/bench/tak.scm.  The arguments are
 * read from volatiles on every repetition so the calls cannot be hoisted. */
#include <stdio.h>

static volatile long arg_x = 18, arg_y = 12, arg_z = 6, repeats = 1000;

static long tak(long x, long y, long z)
{
    if (!(y < x))
        return z;
    return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y));
}

int main(void)
{
    long acc = 0;
    for (long k = repeats; k != 0; k--)
        acc += tak(arg_x, arg_y, arg_z);
    printf("%ld\n", acc);
    return 0;
}
