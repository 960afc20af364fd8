/* fuzz_lift_nodes.c -- the closure kinds tests/fuzz/fuzz_lift.c builds
 * random frozen trees from, in the style of testdata/lift/closures.c: a
 * node's code takes the node and one long and calls its children through
 * their frozen code pointers.
 *
 * Compiled without sanitizer or coverage instrumentation (make fuzz-lift):
 * this is the code lf_optimize lifts, so it must look like an ordinary
 * interpreter's, not like an instrumented one.
 *
 * Invariants: every kind is total on every long (no division trap, no
 * unbounded loop): the driver compares results, so a kind may not crash
 * natively.  Loop trip counts come from the argument masked to 0..15 or
 * from the node's k masked to 0..3; the driver bounds the nesting. */
#include "tests/fuzz/fuzz_lift.h"

#include <ctype.h>

#define NOINLINE __attribute__((noinline))

NOINLINE static long fl_const(const struct fl_node *n, long x) { (void)x; return n->k; }
NOINLINE static long fl_arg(const struct fl_node *n, long x) { (void)n; return x; }
NOINLINE static long fl_add(const struct fl_node *n, long x) { return n->l->fn(n->l, x) + n->r->fn(n->r, x); }
NOINLINE static long fl_sub(const struct fl_node *n, long x) { return n->l->fn(n->l, x) - n->r->fn(n->r, x); }
NOINLINE static long fl_mul(const struct fl_node *n, long x) { return n->l->fn(n->l, x) * n->r->fn(n->r, x); }
NOINLINE static long fl_div(const struct fl_node *n, long x)
{
    long d = n->r->fn(n->r, x);
    if (d == 0 || d == -1) return d;                 /* no trap: x/0, LONG_MIN/-1 */
    return n->l->fn(n->l, x) / d;
}
NOINLINE static long fl_rem(const struct fl_node *n, long x)
{
    long d = n->r->fn(n->r, x);
    if (d == 0 || d == -1) return 0;
    return n->l->fn(n->l, x) % d;
}
NOINLINE static long fl_shl(const struct fl_node *n, long x)
{
    return (long)((unsigned long)n->l->fn(n->l, x) << (n->k & 63));
}
NOINLINE static long fl_sar(const struct fl_node *n, long x) { return n->l->fn(n->l, x) >> (n->k & 63); }
NOINLINE static long fl_and(const struct fl_node *n, long x) { return n->l->fn(n->l, x) & n->r->fn(n->r, x); }
NOINLINE static long fl_xor(const struct fl_node *n, long x) { return n->l->fn(n->l, x) ^ n->r->fn(n->r, x); }
NOINLINE static long fl_lt(const struct fl_node *n, long x) { return n->l->fn(n->l, x) < n->r->fn(n->r, x); }
NOINLINE static long fl_if(const struct fl_node *n, long x)   /* branch on the argument */
{
    return x < n->k ? n->l->fn(n->l, x) : n->r->fn(n->r, x);
}
NOINLINE static long fl_ifz(const struct fl_node *n, long x)  /* branch on a child: l ? r : k */
{
    return n->l->fn(n->l, x) ? n->r->fn(n->r, x) : n->k;
}
NOINLINE static long fl_sum(const struct fl_node *n, long x)  /* loop: sum body(i), i < x & 15 */
{
    long s = 0;
    for (long i = 0; i < (x & 15); i++) s += n->l->fn(n->l, i);
    return s;
}
NOINLINE static long fl_rep(const struct fl_node *n, long x)  /* loop with a frozen trip count */
{
    for (long i = 0; i < (n->k & 3); i++) x = n->l->fn(n->l, x);
    return x;
}
NOINLINE static long fl_let(const struct fl_node *n, long x)  /* r applied to l's value */
{
    return n->r->fn(n->r, n->l->fn(n->l, x));
}
NOINLINE static long fl_var(const struct fl_node *n, long x)  /* walk a frozen environment chain */
{
    const struct fl_env *e = n->env;
    for (long d = n->k; d > 0 && e->up; d--) e = e->up;
    return e->val + x;
}
NOINLINE static long fl_fib(const struct fl_node *n, long x)  /* recursion through the node itself */
{
    x &= 15;
    if (x < 2) return x + n->k;
    return n->fn(n, x - 1) + n->fn(n, x - 2);
}
NOINLINE static long fl_switch(const struct fl_node *n, long x)
{
    long v = n->l->fn(n->l, x);
    switch (n->k & 7) {
    case 0: return v + 1;
    case 1: return v * 3;
    case 2: return v - 7;
    case 3: return v ^ 0x55;
    case 4: return (long)((unsigned long)v << 2);
    case 5: return (long)(0ul - (unsigned long)v);
    case 6: return v / 3;
    default: return (int)v;
    }
}
NOINLINE static long fl_narrow(const struct fl_node *n, long x)  /* partial-width arithmetic */
{
    long v = n->l->fn(n->l, x);
    switch (n->k & 3) {
    case 0: return (signed char)v;
    case 1: return (unsigned short)v;
    case 2: return (int)v * 7;
    default: return (unsigned)v >> 3;
    }
}
/* A C library call.  Not strlen, as closures.c has: in this binary ASan
 * interposes strlen with an interceptor that lives in the program itself,
 * which the lifter then lifts as interpreter code (see make fuzz-lift). */
NOINLINE static long fl_libc(const struct fl_node *n, long x) { return toupper((int)(x & 127)) + n->k; }
NOINLINE static long fl_spill(const struct fl_node *n, long x)  /* node pointer forced to the stack */
{
    const struct fl_node *volatile self = n;
    long a = self->l->fn(self->l, x);
    long b = self->r->fn(self->r, a);
    return a * b + self->k;
}

const struct fl_kind fl_kinds[] = {
    { "const", fl_const, 0 }, { "arg", fl_arg, 0 },   { "add", fl_add, 2 },    { "sub", fl_sub, 2 },
    { "mul", fl_mul, 2 },     { "div", fl_div, 2 },   { "rem", fl_rem, 2 },    { "shl", fl_shl, 1 },
    { "sar", fl_sar, 1 },     { "and", fl_and, 2 },   { "xor", fl_xor, 2 },    { "lt", fl_lt, 2 },
    { "if", fl_if, 2 },       { "ifz", fl_ifz, 2 },   { "sum", fl_sum, 1 },    { "rep", fl_rep, 1 },
    { "let", fl_let, 2 },     { "var", fl_var, 0 },   { "fib", fl_fib, 0 },    { "switch", fl_switch, 1 },
    { "narrow", fl_narrow, 1 }, { "libc", fl_libc, 0 }, { "spill", fl_spill, 2 },
};
const unsigned fl_nkinds = sizeof fl_kinds / sizeof fl_kinds[0];
