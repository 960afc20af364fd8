/* test_lift_kept.c -- a callee that lowers rsp by an amount the lift does
 * not know (a VLA sized by run-time data) is called, not inlined
 * (lifter/lift_job.h, lift_mod.noinl): inlined, it would give the caller a
 * dynamic frame on every path.  Where the amount is known on the callee's
 * first pass (its size stored just before the call), it still inlines.
 * Functions specialized in this process with lf_optimize. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "lineiform.h"

struct env { long k; };

/* A pending call, as an interpreter's trampoline reads it: not frozen. */
struct pending { long argc; long argv[8]; };
struct pending pend;

__attribute__((noinline)) long sum_args(long n, const long *a)
{
    long s = 0;
    for (long i = 0; i < n; i++) s = s * 3 + a[i];
    return s;
}

/* Copies the pending arguments into a VLA of run-time size (gcc: `sub rsp, rax`). */
__attribute__((noinline)) long run_pending(void)
{
    long n = pend.argc;
    long args[n > 0 ? n : 1];
    memcpy(args, pend.argv, (size_t)n * sizeof *args);
    return sum_args(n, args);
}

/* The cold path calls run_pending with the pending call unknown. */
__attribute__((noinline)) long f_cold(const struct env *e, long a)
{
    long r = a * e->k + 1;
    if (__builtin_expect(r == 31, 0)) r += run_pending();
    return r;
}

/* Stores the pending call first: run_pending's VLA has a known size. */
__attribute__((noinline)) long f_known(const struct env *e, long a)
{
    for (long i = 0; i < 8; i++) pend.argv[i] = a + i;
    pend.argc = e->k;
    return run_pending() + 1;
}

typedef long (*fn)(const struct env *, long);

/* f specialized for a frozen env { k } (*e). */
static fn specialize(fn f, long k, const struct env **e)
{
    const struct env e0 = { k };
    *e = lf_freeze(&e0, sizeof e0);
    assert_non_null(*e);
    fn o = (fn)lf_optimize((void *)f, *e);
    if (o == f) fail_msg("not specialized: %s", lf_last_report()->reason);
    return o;
}

static void test_vla_of_run_time_size_is_called_not_inlined(void **state)
{
    (void)state;
    const struct env *e;
    fn o = specialize(f_cold, 3, &e);
    assert_int_equal(lf_last_report()->kept_calls, 1);
    assert_int_equal(lf_last_report()->bailouts, 0);
    pend.argc = 4;
    for (long i = 0; i < 8; i++) pend.argv[i] = 7 * i - 5;
    for (long a = -20; a <= 20; a++) assert_int_equal(o(e, a), f_cold(e, a));   /* a = 10 runs it */
}

static void test_vla_of_known_size_still_inlines(void **state)
{
    (void)state;
    const struct env *e;
    fn o = specialize(f_known, 5, &e);
    assert_int_equal(lf_last_report()->kept_calls, 0);
    assert_true(lf_last_report()->inlined >= 2);   /* run_pending and sum_args */
    for (long a = -20; a <= 20; a += 3) assert_int_equal(o(e, a), f_known(e, a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vla_of_run_time_size_is_called_not_inlined),
        cmocka_unit_test(test_vla_of_known_size_still_inlines),
    };
    return cmocka_run_group_tests_name("lift_kept", tests, NULL, NULL);
}
