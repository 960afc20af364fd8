/* test_lift_cc.c -- recursion without callee-saved registers
 * (lifter/passes/lift_cc.c): a specialization that calls itself gets LLVM's GHC
 * convention and still computes what the original does; one called from a
 * function that addresses its frame through rbp (a VLA) keeps the C
 * convention, since the GHC callee would not preserve that rbp.  Two C
 * functions calling each other, specialized with lf_optimize, compute what
 * the originals do (the lifter unrolls each into calling itself too, so
 * both convert).  The rule itself, on parsed IR: a function calling itself
 * gets GHC; functions on a longer cycle of calls and functions off every
 * cycle keep the C convention (see lift_cc.c for the measurement); the
 * self-recursive function keeps it when called from a VLA frame or when
 * it takes a double. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/IRReader.h>

#include "lineiform.h"
#include "lifter/lift_job.h"
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

/* Specialize f over a frozen leaf chain of the given bound, require cc
 * functions under the GHC convention, and the original's results for
 * n = -4 .. hi. */
static void expect_cc(leaf_fn f, int bound, unsigned cc, long hi)
{
    const struct env *e;
    leaf_fn o = specialize_leaf((void *)f, bound, &e);
    assert_int_equal(lf_last_report()->recursion_cc, cc);
    for (long n = -4; n <= hi; n++) assert_int_equal(o(e, n), f(e, n));
}

static void test_recursion_saves_no_registers_and_gives_the_same_results(void **state)
{
    (void)state;
    expect_cc(f_trib, 3, 1, 20);
}

static void test_recursion_called_from_a_vla_frame_keeps_the_c_convention(void **state)
{
    (void)state;
    expect_cc(f_vla, 3, 0, 20);
}

static void test_mutual_recursion_saves_no_registers_and_gives_the_same_results(void **state)
{
    (void)state;
    expect_cc(f_mutual, 2, 2, 22);
}

static void test_mutual_recursion_from_a_vla_frame_converts_only_the_function_it_does_not_call(void **state)
{
    (void)state;
    expect_cc(f_mutual_vla, 2, 1, 22);
}

/* s calls itself; a -> b -> e -> a is a cycle with no self call; c -> d
 * is off every cycle; root (external) enters all three.  %s: the type of
 * s's second parameter; %s: root's extra code (a VLA or nothing). */
static const char ir_fmt[] =
    "define internal i64 @s(i64 %%n, %s %%k) {\n"
    "  %%z = icmp slt i64 %%n, 1\n"
    "  br i1 %%z, label %%leaf, label %%rec\n"
    "leaf:\n"
    "  ret i64 1\n"
    "rec:\n"
    "  %%m = sub i64 %%n, 1\n"
    "  %%r = call i64 @s(i64 %%m, %s %%k)\n"
    "  %%t = add i64 %%r, %%n\n"
    "  ret i64 %%t\n"
    "}\n"
    "define internal i64 @a(i64 %%n) {\n"
    "  %%z = icmp slt i64 %%n, 1\n"
    "  br i1 %%z, label %%leaf, label %%rec\n"
    "leaf:\n"
    "  ret i64 1\n"
    "rec:\n"
    "  %%m = sub i64 %%n, 1\n"
    "  %%r = call i64 @b(i64 %%m)\n"
    "  %%t = add i64 %%r, %%n\n"
    "  ret i64 %%t\n"
    "}\n"
    "define internal i64 @b(i64 %%n) {\n"
    "  %%x = mul i64 %%n, 3\n"
    "  %%r = call i64 @e(i64 %%x)\n"
    "  ret i64 %%r\n"
    "}\n"
    "define internal i64 @e(i64 %%n) {\n"
    "  %%r = call i64 @a(i64 %%n)\n"
    "  ret i64 %%r\n"
    "}\n"
    "define internal i64 @c(i64 %%n) {\n"
    "  %%r = call i64 @d(i64 %%n)\n"
    "  %%t = call i64 @d(i64 %%r)\n"
    "  ret i64 %%t\n"
    "}\n"
    "define internal i64 @d(i64 %%n) {\n"
    "  %%t = shl i64 %%n, 2\n"
    "  ret i64 %%t\n"
    "}\n"
    "define i64 @root(i64 %%n) {\n"
    "%s"
    "  %%q = call i64 @s(i64 %%n, %s undef)\n"
    "  %%r = call i64 @a(i64 %%q)\n"
    "  %%t = call i64 @c(i64 %%r)\n"
    "  ret i64 %%t\n"
    "}\n";

static const char vla[] = "  %v = alloca i64, i64 %n\n  store volatile i64 1, i64* %v\n";

/* Parses the module, runs the pass, verifies; the number it converted. */
static int convert(const char *s_param, const char *root_extra, LLVMModuleRef *out)
{
    char ir[2048];
    snprintf(ir, sizeof ir, ir_fmt, s_param, s_param, root_extra, s_param);
    LLVMContextRef lc = LLVMContextCreate();
    LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(ir, strlen(ir), "t");
    LLVMModuleRef m = NULL;
    char *msg = NULL;
    if (LLVMParseIRInContext(lc, buf, &m, &msg)) fail_msg("IR: %s", msg);
    int n = lift_recursion_cc(m);
    if (LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) fail_msg("does not verify: %s", msg);
    LLVMDisposeMessage(msg);
    *out = m;
    return n;
}

static void dispose(LLVMModuleRef m)
{
    LLVMContextRef lc = LLVMGetModuleContext(m);
    LLVMDisposeModule(m);
    LLVMContextDispose(lc);
}

/* 1 when name and every call of it have the GHC convention, 0 when they
 * all have C's; fails the test on a mix (a call not matching its callee). */
static int is_ghc(LLVMModuleRef m, const char *name)
{
    LLVMValueRef f = LLVMGetNamedFunction(m, name);
    assert_non_null(f);
    unsigned cc = LLVMGetFunctionCallConv(f);
    for (LLVMUseRef u = LLVMGetFirstUse(f); u; u = LLVMGetNextUse(u))
        if (LLVMGetInstructionCallConv(LLVMGetUser(u)) != cc) fail_msg("a call of %s with another convention", name);
    if (cc != LLVMGHCCallConv && cc != LLVMCCallConv) fail_msg("%s: convention %u", name, cc);
    return cc == LLVMGHCCallConv;
}

static void test_only_the_self_recursive_function_converts(void **state)
{
    (void)state;
    LLVMModuleRef m;
    assert_int_equal(convert("i64", "", &m), 1);
    assert_true(is_ghc(m, "s"));
    assert_false(is_ghc(m, "a") || is_ghc(m, "b") || is_ghc(m, "e"));
    assert_false(is_ghc(m, "c") || is_ghc(m, "d") || is_ghc(m, "root"));
    dispose(m);
}

static void test_a_self_recursive_function_called_from_a_vla_frame_keeps_c(void **state)
{
    (void)state;
    LLVMModuleRef m;
    assert_int_equal(convert("i64", vla, &m), 0);
    assert_false(is_ghc(m, "s"));
    dispose(m);
}

static void test_a_self_recursive_function_taking_a_double_keeps_c(void **state)
{
    (void)state;
    LLVMModuleRef m;
    assert_int_equal(convert("double", "", &m), 0);
    assert_false(is_ghc(m, "s"));
    dispose(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recursion_saves_no_registers_and_gives_the_same_results),
        cmocka_unit_test(test_recursion_called_from_a_vla_frame_keeps_the_c_convention),
        cmocka_unit_test(test_mutual_recursion_saves_no_registers_and_gives_the_same_results),
        cmocka_unit_test(test_mutual_recursion_from_a_vla_frame_converts_only_the_function_it_does_not_call),
        cmocka_unit_test(test_only_the_self_recursive_function_converts),
        cmocka_unit_test(test_a_self_recursive_function_called_from_a_vla_frame_keeps_c),
        cmocka_unit_test(test_a_self_recursive_function_taking_a_double_keeps_c),
    };
    return cmocka_run_group_tests_name("lift_cc", tests, NULL, NULL);
}
