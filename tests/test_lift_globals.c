/* test_lift_globals.c -- a constant stored at a global address is forwarded
 * to later loads (lift_mem.c), and forgotten when something may have
 * changed it: a native call, a store through an unknown pointer, a memcpy
 * over it.  Functions specialized in this process with lf_optimize. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "lineiform.h"

struct env { long k; size_t n; };

long g_slot, g_other;
long *volatile g_alias = &g_slot;

__attribute__((noinline)) void bump(void) { g_slot += 5; }

__attribute__((noinline)) long f_forward(const struct env *e, long a) { g_slot = e->k; g_other = 3; return g_slot * 2 + g_other + a; }
__attribute__((noinline)) long f_native(const struct env *e, long a) { g_slot = e->k; bump(); return g_slot + a; }
__attribute__((noinline)) long f_alias(const struct env *e, long a) { long *p = g_alias; g_slot = e->k; *p = a; return g_slot; }
__attribute__((noinline)) long f_memcpy(const struct env *e, long a)
{
    long src[2] = { a, a };
    g_slot = e->k;
    g_other = e->k;
    memcpy(&g_slot, src, e->n);   /* e->n = 8: g_other keeps its value */
    return g_slot * 1000 + g_other;
}

typedef long (*fn_t)(const struct env *, long);

static long run(fn_t f, long a)
{
    static const struct env e0 = { 40, sizeof(long) };
    const struct env *e = lf_freeze(&e0, sizeof e0);
    assert_non_null(e);
    fn_t o = (fn_t)lf_optimize((void *)f, e);
    if (o == f) fail_msg("not specialized: %s", lf_last_report()->reason);
    long want = f(e, a), got = o(e, a);
    assert_int_equal(got, want);
    return got;
}

static void test_globals_forwarded(void **s) { (void)s; assert_int_equal(run(f_forward, 2), 85); }
static void test_globals_native_call_forgets(void **s) { (void)s; assert_int_equal(run(f_native, 1), 46); }
static void test_globals_unknown_store_forgets(void **s) { (void)s; assert_int_equal(run(f_alias, 7), 7); }
static void test_globals_memcpy_forgets_its_bytes_only(void **s) { (void)s; assert_int_equal(run(f_memcpy, 9), 9040); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_globals_forwarded),
        cmocka_unit_test(test_globals_native_call_forgets),
        cmocka_unit_test(test_globals_unknown_store_forgets),
        cmocka_unit_test(test_globals_memcpy_forgets_its_bytes_only),
    };
    return cmocka_run_group_tests_name("lift_globals", tests, NULL, NULL);
}
