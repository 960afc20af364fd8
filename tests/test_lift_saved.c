/* test_lift_saved.c -- a function's saved registers are no object a
 * pointer to one of its locals reaches (lifter/pe/lift_frame.c, invariant 9):
 * when a local buffer escapes to a native call, the registers its prologue
 * pushed stay out of the escaped range, so their slots move to the private
 * frame (registers after SROA) and their pops stay forwarded.  Functions
 * specialized in this process with lf_optimize. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "lineiform.h"

struct env { long k; };

/* x lives across snprintf in a callee-saved register the prologue pushes;
 * buf escapes into snprintf. */
__attribute__((noinline)) long f_buf(const struct env *e, long a)
{
    char buf[32];
    long x = a * 3 + e->k;
    snprintf(buf, sizeof buf, "%ld", x);
    return x * 1000 + (long)strlen(buf);
}

static void test_saved_registers_stay_private_when_a_buffer_escapes(void **state)
{
    (void)state;
    static const struct env e0 = { 5 };
    const struct env *e = lf_freeze(&e0, sizeof e0);
    assert_non_null(e);
    long (*o)(const struct env *, long) = (long (*)(const struct env *, long))lf_optimize((void *)f_buf, e);
    if ((void *)o == (void *)f_buf) fail_msg("not specialized: %s", lf_last_report()->reason);
    /* Both pushes (and the return address) are private; the buffer's
     * accesses are not. */
    assert_true(lf_last_report()->frame_private >= 3);
    assert_true(lf_last_report()->frame_shared > 0);
    for (long a = -40; a <= 40; a += 7) assert_int_equal(o(e, a), f_buf(e, a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_saved_registers_stay_private_when_a_buffer_escapes),
    };
    return cmocka_run_group_tests_name("lift_saved", tests, NULL, NULL);
}
