/* test_lift_ipara.c -- a call leaves the scratch registers its callee never
 * writes as they were (lifter/pe/lift_live.c lift_call_keeps): gcc keeps a
 * caller's values in them across a call of a function of the same unit
 * (-fipa-ra, on at -O2), here n in rdx across rtrib and a VLA's addresses
 * in r8-r10 across leafn.  Built by clang the same functions keep nothing
 * there and must give the same results too.  Functions specialized in this
 * process with lf_optimize. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lineiform.h"
#include "tests/tutil_leaf.h"


/* Recursive, so a specialization of its own: a call, never inlined. */
__attribute__((noinline)) long rtrib(const struct leaf *l, long n)
{
    if (n < l->k) return n;
    long a = rtrib(l, n - 1), b = rtrib(l, n - 2);
    return a - b + rtrib(l, n - 3) + n;
}

/* gcc: mov %rsi,%rdx; call rtrib; lea (%rax,%rdx,2),%rax. */
__attribute__((noinline)) long f_kept(const struct env *e, long n) { return rtrib(e->leaf, n) + 2 * n; }

/* A VLA filled with the callee's results, summed after: its address and
 * bounds live across the calls. */
__attribute__((noinline)) long sum(const long *p, long m)
{
    long s = 0;
    for (long i = 0; i < m; i++) s += p[i] * (i + 1);
    return s;
}

__attribute__((noinline)) long f_vla(const struct env *e, long n)
{
    long m = (n & 7) + 1;
    long buf[m];
    for (long i = 0; i < m; i++) buf[i] = rtrib(e->leaf, n - i);
    return sum(buf, m);
}

static void test_value_kept_in_rdx_across_a_call_survives(void **state)
{
    (void)state;
    const struct env *e;
    leaf_fn o = specialize_leaf((void *)f_kept, 3, &e);
    for (long n = -4; n <= 20; n++) assert_int_equal(o(e, n), f_kept(e, n));
}

static void test_vla_addresses_kept_across_calls_survive(void **state)
{
    (void)state;
    const struct env *e;
    leaf_fn o = specialize_leaf((void *)f_vla, 3, &e);
    for (long n = -4; n <= 20; n++) assert_int_equal(o(e, n), f_vla(e, n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_kept_in_rdx_across_a_call_survives),
        cmocka_unit_test(test_vla_addresses_kept_across_calls_survive),
    };
    return cmocka_run_group_tests_name("lift_ipara", tests, NULL, NULL);
}
