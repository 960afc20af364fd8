/* test_lift_refuse.c -- lf_optimize returns fn itself, with a reason in
 * lf_report.reason, for what it cannot specialize (an environment the
 * program may still write), and reports the size of the code it makes
 * in-process (lf_report.code_size). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lineiform.h"

struct env { long k, m; };

__attribute__((noinline)) long scale(const struct env *e, long a) { return e->k * a + e->m; }

typedef long (*fn_t)(const struct env *, long);

static const struct env ro_env = { 6, 1 };   /* .rodata: constant, like frozen memory */

/* A heap environment: specializing on today's value would be wrong once
 * the program writes it, so fn comes back as is, with the reason. */
static void test_lift_refuse_heap_environment_returns_fn_with_reason(void **s)
{
    (void)s;
    struct env *e = malloc(sizeof *e);
    assert_non_null(e);
    e->k = 3, e->m = 4;
    fn_t o = (fn_t)lf_optimize((void *)scale, e);
    assert_ptr_equal(o, scale);
    assert_non_null(strstr(lf_last_report()->reason, "not in frozen or read-only memory"));
    assert_int_equal(lf_last_report()->specializations, 0);
    e->k = 5;
    assert_int_equal(o(e, 2), 14);
    free(e);
}

/* Frozen and read-only environments are specialized, and the report
 * gives the bytes of machine code made. */
static void test_lift_refuse_frozen_environment_is_specialized_with_code_size(void **s)
{
    (void)s;
    static const struct env e0 = { 7, 2 };
    const struct env *e = lf_freeze(&e0, sizeof e0);
    assert_non_null(e);
    fn_t o = (fn_t)lf_optimize((void *)scale, e);
    if (o == scale) fail_msg("not specialized: %s", lf_last_report()->reason);
    assert_true(lf_last_report()->code_size > 0);
    assert_true(lf_last_report()->code_size < 4096);
    assert_int_equal(o(e, 3), 23);
    o = (fn_t)lf_optimize((void *)scale, &ro_env);
    if (o == scale) fail_msg("not specialized: %s", lf_last_report()->reason);
    assert_true(lf_last_report()->code_size > 0);
    assert_int_equal(o(&ro_env, 3), 19);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lift_refuse_heap_environment_returns_fn_with_reason),
        cmocka_unit_test(test_lift_refuse_frozen_environment_is_specialized_with_code_size),
    };
    return cmocka_run_group_tests_name("lift_refuse", tests, NULL, NULL);
}
