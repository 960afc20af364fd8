/* test_lift_frame_align.c -- a specialization's frame is 16-byte aligned
 * unless the code aligns a stack address by more (lift_ops.c lift_and):
 * then the analysis saw it and the frame is 64-byte aligned, so the
 * aligned addresses it computed at lift time are the run-time ones.
 * Each function reports how its buffer is misaligned, which is 0 natively;
 * a frame aligned less than the lifter assumed shows up as a difference.
 * Functions specialized in this process with lf_optimize. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "lineiform.h"

struct env { long k; };

__attribute__((noinline)) long f_align64(const struct env *e, long a)
{
    _Alignas(64) volatile long buf[8];
    for (int i = 0; i < 8; i++) buf[i] = a + i * e->k;
    return buf[a & 7] + (long)((uintptr_t)buf & 63) * 1000;
}

__attribute__((noinline)) long f_align32(const struct env *e, long a)
{
    _Alignas(32) volatile long buf[4];
    for (int i = 0; i < 4; i++) buf[i] = a * e->k + i;
    return buf[a & 3] + (long)((uintptr_t)buf & 31) * 1000;
}

__attribute__((noinline)) long f_align16(const struct env *e, long a)
{
    _Alignas(16) volatile long buf[2];
    buf[0] = a;
    buf[1] = e->k;
    return buf[0] + buf[1] + (long)((uintptr_t)buf & 15) * 1000;
}

/* A VLA: its address is rounded down to 16 at run time. */
__attribute__((noinline)) long f_vla(const struct env *e, long a)
{
    volatile long buf[e->k + (a & 1)];
    for (long i = 0; i < e->k; i++) buf[i] = i * a;
    return buf[e->k - 1] + (long)((uintptr_t)buf & 15) * 1000;
}

typedef long (*fn_t)(const struct env *, long);

static void check(fn_t f, long a, long want)
{
    static const struct env e0 = { 5 };
    const struct env *e = lf_freeze(&e0, sizeof e0);
    assert_non_null(e);
    fn_t o = (fn_t)lf_optimize((void *)f, e);
    if (o == f) fail_msg("not specialized: %s", lf_last_report()->reason);
    assert_int_equal(f(e, a), want);
    assert_int_equal(o(e, a), want);
}

static void test_frame_align_64(void **s) { (void)s; check(f_align64, 3, 3 + 3 * 5); }
static void test_frame_align_32(void **s) { (void)s; check(f_align32, 6, 6 * 5 + 2); }
static void test_frame_align_16(void **s) { (void)s; check(f_align16, 7, 12); }
static void test_frame_align_vla(void **s) { (void)s; check(f_vla, 4, 16); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_align_64),
        cmocka_unit_test(test_frame_align_32),
        cmocka_unit_test(test_frame_align_16),
        cmocka_unit_test(test_frame_align_vla),
    };
    return cmocka_run_group_tests_name("lift_frame_align", tests, NULL, NULL);
}
