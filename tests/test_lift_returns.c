/* test_lift_returns.c -- a specialization returns its result in the
 * registers its DWARF prototype names (rax, rdx, xmm0, xmm1 by the SysV
 * classification of each eightbyte) and zero in the others (lift_call.c,
 * lift_proc.c lift_an_rets).  Each function mixes its result from the
 * frozen env and its argument; the specialization must return exactly what
 * the function does, whichever registers carry it.
 * Functions specialized in this process with lf_optimize. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "lineiform.h"

struct env { long k; double x; };

struct ll { long a, b; };          /* INTEGER, INTEGER: rax, rdx */
struct dd { double a, b; };        /* SSE, SSE: xmm0, xmm1 */
struct ld { long a; double b; };   /* INTEGER, SSE: rax, xmm0 */
struct dl { double a; long b; };   /* SSE, INTEGER: xmm0, rax */
struct big { long a, b, c; };      /* MEMORY: the address in rax */

static volatile long sink;

__attribute__((noinline)) long r_long(const struct env *e, long a) { return e->k * a + 1; }
__attribute__((noinline)) double r_double(const struct env *e, long a) { return e->x * (double)a; }
__attribute__((noinline)) struct ll r_ll(const struct env *e, long a) { return (struct ll){ e->k + a, e->k - a }; }
__attribute__((noinline)) struct dd r_dd(const struct env *e, long a) { return (struct dd){ e->x + (double)a, e->x - (double)a }; }
__attribute__((noinline)) struct ld r_ld(const struct env *e, long a) { return (struct ld){ e->k * a, e->x / (double)(a | 1) }; }
__attribute__((noinline)) struct dl r_dl(const struct env *e, long a) { return (struct dl){ e->x * 2.5, e->k ^ a }; }
__attribute__((noinline)) struct big r_big(const struct env *e, long a) { return (struct big){ a, e->k, a * e->k }; }
__attribute__((noinline)) void r_void(const struct env *e, long a) { sink = e->k + a; }

static const struct env *frozen_env(void)
{
    static const struct env e0 = { 7, 1.5 };
    const struct env *e = lf_freeze(&e0, sizeof e0);
    assert_non_null(e);
    return e;
}

/* lf_optimize(f, e), which must be a specialization. */
static void *specialize(void *f, const struct env *e)
{
    void *o = lf_optimize(f, e);
    if (o == f) fail_msg("not specialized: %s", lf_last_report()->reason);
    return o;
}

static void test_scalar_results(void **state)
{
    (void)state;
    const struct env *e = frozen_env();
    long (*ol)(const struct env *, long) = (long (*)(const struct env *, long))specialize((void *)r_long, e);
    double (*od)(const struct env *, long) = (double (*)(const struct env *, long))specialize((void *)r_double, e);
    void (*ov)(const struct env *, long) = (void (*)(const struct env *, long))specialize((void *)r_void, e);
    for (long a = -3; a <= 3; a++) {
        assert_int_equal(ol(e, a), r_long(e, a));
        assert_true(od(e, a) == r_double(e, a));
        ov(e, a);
        assert_int_equal(sink, e->k + a);
    }
}

static void test_two_register_results(void **state)
{
    (void)state;
    const struct env *e = frozen_env();
    struct ll (*oll)(const struct env *, long) = (struct ll (*)(const struct env *, long))specialize((void *)r_ll, e);
    struct dd (*odd)(const struct env *, long) = (struct dd (*)(const struct env *, long))specialize((void *)r_dd, e);
    struct ld (*old)(const struct env *, long) = (struct ld (*)(const struct env *, long))specialize((void *)r_ld, e);
    struct dl (*odl)(const struct env *, long) = (struct dl (*)(const struct env *, long))specialize((void *)r_dl, e);
    for (long a = -3; a <= 3; a++) {
        struct ll x = oll(e, a), y = r_ll(e, a);
        assert_int_equal(x.a, y.a);
        assert_int_equal(x.b, y.b);
        struct dd p = odd(e, a), q = r_dd(e, a);
        assert_true(p.a == q.a && p.b == q.b);
        struct ld s = old(e, a), t = r_ld(e, a);
        assert_true(s.a == t.a && s.b == t.b);
        struct dl u = odl(e, a), v = r_dl(e, a);
        assert_true(u.a == v.a && u.b == v.b);
    }
}

static void test_memory_result(void **state)
{
    (void)state;
    const struct env *e = frozen_env();
    struct big (*ob)(const struct env *, long) = (struct big (*)(const struct env *, long))specialize((void *)r_big, e);
    for (long a = -3; a <= 3; a++) {
        struct big x = ob(e, a), y = r_big(e, a);
        assert_true(x.a == y.a && x.b == y.b && x.c == y.c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalar_results),
        cmocka_unit_test(test_two_register_results),
        cmocka_unit_test(test_memory_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
