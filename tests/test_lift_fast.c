/* test_lift_fast.c -- fast exits (lifter/passes/lift_fast.c): a specialization
 * whose entry returns early through code without side effects gets that
 * early return inlined at its calls, its recursion included; one whose
 * entry has a side effect does not (running the entry twice, once inline
 * and once in the call, would repeat it).  Functions specialized in this
 * process with lf_optimize. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lineiform.h"
#include "tests/tutil_leaf.h"


long fast_count;

/* Recursive on its own closure: a specialization of its own, called from
 * the root's inlined copy and from itself. */
__attribute__((noinline)) long rfib(const struct leaf *l, long n)
{
    if (n < l->k) return n;
    return rfib(l, n - 1) + rfib(l, n - 2);
}

__attribute__((noinline)) long f_fib(const struct env *e, long n) { return rfib(e->leaf, n) + 1; }

/* The same, with a store before the early return. */
__attribute__((noinline)) long rcount(const struct leaf *l, long n)
{
    fast_count++;
    if (n < l->k) return n;
    return rcount(l, n - 1) + rcount(l, n - 2);
}

__attribute__((noinline)) long f_count(const struct env *e, long n) { return rcount(e->leaf, n) + 1; }

static void test_early_return_is_inlined_at_its_calls(void **state)
{
    (void)state;
    const struct env *e;
    leaf_fn o = specialize_leaf((void *)f_fib, 2, &e);
    assert_true(lf_last_report()->fast_exits >= 1);
    /* rfib's specialization is small: its first call of itself is
     * inlined once (lifter/pe/lift_block.c LIFT_UNROLL_BLOCKS). */
    assert_int_equal(lf_last_report()->unrolled, 1);
    for (long n = -3; n <= 22; n++) assert_int_equal(o(e, n), f_fib(e, n));
}

static void test_early_return_after_a_store_is_not(void **state)
{
    (void)state;
    const struct env *e;
    leaf_fn o = specialize_leaf((void *)f_count, 2, &e);
    assert_int_equal(lf_last_report()->fast_exits, 0);
    for (long n = -3; n <= 18; n++) {
        fast_count = 0;
        long want = f_count(e, n), calls = fast_count;
        fast_count = 0;
        assert_int_equal(o(e, n), want);
        assert_int_equal(fast_count, calls);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_early_return_is_inlined_at_its_calls),
        cmocka_unit_test(test_early_return_after_a_store_is_not),
    };
    return cmocka_run_group_tests_name("lift_fast", tests, NULL, NULL);
}
