/* sieve: the sieve of Eratosthenes on an array, repeated.
 * Same algorithm and size as testdata/lisp/bench/sieve.scm (a fresh array
 * per repetition, as make-vector allocates a fresh vector). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile long size_n = 1000000, repeats = 25;

static long sieve(long n)
{
    bool *v = malloc(n + 1);
    if (!v) {
        fprintf(stderr, "sieve: out of memory\n");
        exit(1);
    }
    memset(v, true, n + 1);
    long count = 0;
    for (long i = 2; i <= n; i++) {
        if (v[i]) {
            for (long j = i * i; j <= n; j += i)
                v[j] = false;
            count++;
        }
    }
    free(v);
    return count;
}

int main(void)
{
    long acc = 0;
    for (long k = repeats; k != 0; k--)
        acc += sieve(size_n);
    printf("%ld\n", acc);
    return 0;
}
