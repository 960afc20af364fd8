/* test_lift_protos.c -- the argument registers of a DWARF prototype
 * (lifter/lift_proc.c lift_an_args): the integer and SSE registers its
 * parameters take, and LIFT_ARGS_STACK when some parameter is passed on
 * the stack (past the sixth integer register, or a struct of the MEMORY
 * class).  A native call passes the guest stack's words as stack
 * arguments only then, and a frame window is refused then (its copy sits
 * where the stack arguments are). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lifter/lift_proc.h"

struct big { long x[4]; };

__attribute__((noinline)) long p_three(long a, long b, long c) { return a + b * c; }
__attribute__((noinline)) long p_eight(long a, long b, long c, long d, long e, long f, long g, long h)
{
    return a + b + c + d + e + f + g * h;
}
__attribute__((noinline)) long p_big(struct big b, long a) { return b.x[0] + b.x[3] + a; }
__attribute__((noinline)) double p_mixed(double x, long a, double y) { return x * (double)a + y; }

static void args_of(void *fn, unsigned *gpr, unsigned *xmm)
{
    struct lift_proc p;
    assert_int_equal(lift_proc_open(&p, (uint64_t)(uintptr_t)fn), LF_OK);
    assert_non_null(p.an);
    assert_int_equal(lift_an_args(p.an, p.bias, (uint64_t)(uintptr_t)fn, gpr, xmm), 1);
    lift_proc_close(&p);
}

static void test_register_arguments_take_no_stack(void **state)
{
    (void)state;
    unsigned g, x;
    args_of((void *)p_three, &g, &x);
    assert_int_equal(g, 0x7u);
    assert_int_equal(x, 0u);
    args_of((void *)p_mixed, &g, &x);
    assert_int_equal(g, 0x1u);
    assert_int_equal(x, 0x3u);
}

static void test_a_seventh_integer_argument_is_on_the_stack(void **state)
{
    (void)state;
    unsigned g, x;
    args_of((void *)p_eight, &g, &x);
    assert_int_equal(g, 0x3fu | LIFT_ARGS_STACK);
}

static void test_a_memory_class_struct_is_on_the_stack(void **state)
{
    (void)state;
    unsigned g, x;
    args_of((void *)p_big, &g, &x);
    assert_int_equal(g, 0x1u | LIFT_ARGS_STACK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_arguments_take_no_stack),
        cmocka_unit_test(test_a_seventh_integer_argument_is_on_the_stack),
        cmocka_unit_test(test_a_memory_class_struct_is_on_the_stack),
    };
    return cmocka_run_group_tests_name("lift_protos", tests, NULL, NULL);
}
