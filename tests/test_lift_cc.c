/* test_lift_cc.c -- recursion without callee-saved registers
 * (lifter/passes/lift_cc.c): a specialization that calls itself gets LLVM's GHC
 * convention and still computes what the original does; one called from a
 * function that addresses its frame through rbp (a VLA) keeps the C
 * convention, since the GHC callee would not preserve that rbp.  Two
 * functions that call each other (a cycle of the call graph, not a self
 * call) both get it; entered from a VLA frame, the one that frame calls
 * keeps the C convention and the other, called only inside the cycle,
 * still gets GHC.
 * Functions specialized in this process with lf_optimize. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lineiform.h"
#include "tests/tutil_leaf.h"


/* Three calls of itself and values live across them (n, the first two
 * results): what the caller must now keep in its frame. */
__attribute__((noinline)) long rtrib(const struct leaf *l, long n)
{
    if (n < l->k) return n;
    long a = rtrib(l, n - 1), b = rtrib(l, n - 2);
    return a - b + rtrib(l, n - 3) + n;
}

__attribute__((noinline)) long f_trib(const struct env *e, long n) { return rtrib(e->leaf, n) * 3; }

/* The same recursion called from a frame with a VLA, read after the call. */
__attribute__((noinline)) long f_vla(const struct env *e, long n)
{
    long m = (n & 7) + 1;
    volatile long buf[m];
    for (long i = 0; i < m; i++) buf[i] = i * 7 + n;
    long r = rtrib(e->leaf, n);
    return r + buf[m - 1] + buf[0];
}

/* Two functions calling each other, each too big to be inlined into the
 * other, with values live across the calls. */
__attribute__((noinline)) long mwalk_b(const struct leaf *l, long n);

__attribute__((noinline)) long mwalk_a(const struct leaf *l, long n)
{
    if (n < l->k) return n * 5 + 1;
    long x = mwalk_b(l, n - 1);
    long y = mwalk_b(l, n - 2);
    long z = (x ^ (y << 3)) + (n * 7) - (x >> 2);
    return z % 1000003 + (n & 1 ? mwalk_b(l, n - 3) : 11);
}

__attribute__((noinline)) long mwalk_b(const struct leaf *l, long n)
{
    if (n < l->k) return 3 - n;
    long x = mwalk_a(l, n - 1);
    long y = mwalk_a(l, n - 3);
    long z = (x * 3 - y) ^ (n << 2);
    return z % 999983 + (n % 3 == 0 ? mwalk_a(l, n - 2) : 5);
}

__attribute__((noinline)) long f_mutual(const struct env *e, long n) { return mwalk_a(e->leaf, n) + 2; }

__attribute__((noinline)) long f_mutual_vla(const struct env *e, long n)
{
    long m = (n & 7) + 1;
    volatile long buf[m];
    for (long i = 0; i < m; i++) buf[i] = i * 5 - n;
    long r = mwalk_a(e->leaf, n);
    return r + buf[m - 1] + buf[0];
}

static void test_recursion_saves_no_registers_and_gives_the_same_results(void **state)
{
    (void)state;
    const struct env *e;
    leaf_fn o = specialize_leaf((void *)f_trib, 3, &e);
    assert_int_equal(lf_last_report()->recursion_cc, 1);
    for (long n = -4; n <= 20; n++) assert_int_equal(o(e, n), f_trib(e, n));
}

static void test_recursion_called_from_a_vla_frame_keeps_the_c_convention(void **state)
{
    (void)state;
    const struct env *e;
    leaf_fn o = specialize_leaf((void *)f_vla, 3, &e);
    assert_int_equal(lf_last_report()->recursion_cc, 0);
    for (long n = -4; n <= 20; n++) assert_int_equal(o(e, n), f_vla(e, n));
}

static void test_mutual_recursion_saves_no_registers_and_gives_the_same_results(void **state)
{
    (void)state;
    const struct env *e;
    leaf_fn o = specialize_leaf((void *)f_mutual, 2, &e);
    assert_int_equal(lf_last_report()->recursion_cc, 2);
    for (long n = -4; n <= 22; n++) assert_int_equal(o(e, n), f_mutual(e, n));
}

static void test_mutual_recursion_entered_from_a_vla_frame_converts_only_the_inner_function(void **state)
{
    (void)state;
    const struct env *e;
    leaf_fn o = specialize_leaf((void *)f_mutual_vla, 2, &e);
    assert_int_equal(lf_last_report()->recursion_cc, 1);
    for (long n = -4; n <= 22; n++) assert_int_equal(o(e, n), f_mutual_vla(e, n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recursion_saves_no_registers_and_gives_the_same_results),
        cmocka_unit_test(test_recursion_called_from_a_vla_frame_keeps_the_c_convention),
        cmocka_unit_test(test_mutual_recursion_saves_no_registers_and_gives_the_same_results),
        cmocka_unit_test(test_mutual_recursion_entered_from_a_vla_frame_converts_only_the_inner_function),
    };
    return cmocka_run_group_tests_name("lift_cc", tests, NULL, NULL);
}
