/* fixture.c -- the shapes the analyzer tests assert facts about, compiled
 * at test time with gcc and clang at -O2 -g (tests/test_analyzer_fixture.c).
 * Each function is noinline so it keeps its own symbol; loops call an
 * opaque function so neither compiler vectorizes or unrolls them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __clang__
#define NO_UNROLL _Pragma("clang loop unroll(disable) vectorize(disable)")
#else
#define NO_UNROLL _Pragma("GCC unroll 1")
#endif
#define KEEP __attribute__((noinline, used))

struct pair { long a; double b; };   /* INTEGER + SSE */
struct big { long x[3]; };           /* 24 bytes: MEMORY */
struct pt { double x, y; };          /* SSE + SSE */

volatile long fx_sink;

KEEP long fx_step(long i) { fx_sink = i; return fx_sink + 1; }

/* One loop, depth 1. */
KEEP long fx_counted_loop(int n)
{
    long s = 0;
    NO_UNROLL for (int i = 0; i < n; i++) s += fx_step(i);
    return s;
}

/* Two loops, the inner one at depth 2 (a constant inner trip count, so
 * no compiler versions the outer loop for an empty inner one). */
KEEP long fx_nested_loops(int n)
{
    long s = 0;
    NO_UNROLL for (int i = 0; i < n; i++) {
        NO_UNROLL for (int j = 0; j < 10; j++) s += fx_step(i * j);
    }
    return s;
}

/* Ten dense cases: a jump table of 10 entries. */
KEEP long fx_dense_switch(int op, long x)
{
    switch (op) {
    case 0: return fx_step(x + 1);
    case 1: return fx_step(x * 7) + 3;
    case 2: return fx_step(x - 13) * 5;
    case 3: return fx_step(x << 3) - 9;
    case 4: return fx_step(x ^ 0x55) + x;
    case 5: return fx_step(x / 3) * x;
    case 6: return fx_step(x % 11) - x;
    case 7: return fx_step(-x) + 17;
    case 8: return fx_step(x * x) ^ 3;
    case 9: return fx_step(~x) | 1;
    default: return 0;
    }
}

__attribute__((cold, noinline, used)) void fx_report(int x) { fprintf(stderr, "negative: %d\n", x); }

/* A path to a cold function: gcc moves it into fx_with_cold.cold. */
KEEP int fx_with_cold(int x)
{
    if (x < 0) {
        fx_report(x);
        fx_report(-x);
        abort();
    }
    return x * 2 + 1;
}

KEEP int fx_sum_ints(int n, ...)
{
    va_list ap;
    int s = 0;
    va_start(ap, n);
    for (int i = 0; i < n; i++) s += va_arg(ap, int);
    va_end(ap);
    return s;
}

KEEP double fx_mix(struct pair p, double d, struct big b, struct pt q, float f, long l)
{
    return (double)p.a + p.b + d + (double)b.x[2] + q.x * q.y + f + (double)l;
}

KEEP struct pt fx_make_pt(double x, double y)
{
    struct pt p = { x * 2, y + 1 };
    return p;
}

__attribute__((noreturn, noinline, used)) void fx_die(const char *msg)
{
    fputs(msg, stderr);
    exit(3);
}

/* The call to fx_die ends its block: no fallthrough after it. */
KEEP int fx_checked(int x)
{
    if (x == 42) fx_die("forty-two\n");
    return x + 1;
}

int main(int argc, char **argv)
{
    (void)argv;
    struct pair p = { argc, 1.5 };
    struct big b = { { 1, 2, argc } };
    struct pt q = fx_make_pt(argc, 2);
    long r = fx_counted_loop(argc) + fx_nested_loops(argc) + fx_dense_switch(argc, argc) +
             fx_with_cold(argc) + fx_sum_ints(3, argc, 2, 3) + fx_checked(argc);
    r += (long)fx_mix(p, 2.5, b, q, 1.0f, argc);
    printf("%ld\n", r);
    return 0;
}
