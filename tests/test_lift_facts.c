/* test_lift_facts.c -- lift_thread_by_bit (lifter/passes/lift_facts.c): an edge on
 * which a branch proved a value's low bit set goes past the switch that
 * compares that value with even markers only, straight to the switch's
 * default; not when a case is odd, nor when the bit test does not cover
 * the value, nor when the join's phi is read where the bypass would break
 * dominance.  IR modules parsed from text, checked by the verifier. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/IRReader.h>

#include "lifter/lift_job.h"

/* loop: r is 64 (the marker) from the back edge, or n + 2 after n's low
 * bit was tested set in `tag`; `join` switches on r.  Substituted: the
 * second marker, and how `done` ends. */
static const char ir_fmt[] =
    "define i64 @f(i64 %%n, i1 %%c) {\n"
    "entry:\n"
    "  br label %%loop\n"
    "loop:\n"
    "  %%k = phi i64 [ %%n, %%entry ], [ 7, %%join ]\n"
    "  br i1 %%c, label %%tag, label %%back\n"
    "tag:\n"
    "  %%b = and i64 %%k, 1\n"
    "  %%z = icmp eq i64 %%b, 0\n"
    "  br i1 %%z, label %%slow, label %%join\n"
    "back:\n"
    "  br label %%join\n"
    "join:\n"
    "  %%r = phi i64 [ %%k, %%tag ], [ 64, %%back ]\n"
    "  switch i64 %%r, label %%done [ i64 64, label %%loop\n"
    "                                i64 %s, label %%tail ]\n"
    "tail:\n"
    "  ret i64 -1\n"
    "slow:\n"
    "  ret i64 -2\n"
    "done:\n"
    "  %%d = add i64 %%r, 2\n"
    "%s"
    "}\n";

/* Parse the module, thread it, verify it; the edges moved. */
static const char ret_d[] = "  ret i64 %d\n";

static int thread(const char *case2, const char *extra, LLVMModuleRef *out)
{
    char ir[2048];
    snprintf(ir, sizeof ir, ir_fmt, case2, extra);
    LLVMContextRef lc = LLVMContextCreate();
    LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(ir, strlen(ir), "t");
    LLVMModuleRef m = NULL;
    char *msg = NULL;
    if (LLVMParseIRInContext(lc, buf, &m, &msg)) fail_msg("IR: %s", msg);
    int n = lift_thread_by_bit(m);
    if (LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) fail_msg("does not verify: %s", msg);
    LLVMDisposeMessage(msg);
    *out = m;
    return n;
}

static void done(LLVMModuleRef m)
{
    LLVMContextRef lc = LLVMGetModuleContext(m);
    LLVMDisposeModule(m);
    LLVMContextDispose(lc);
}

static LLVMBasicBlockRef block(LLVMModuleRef m, const char *name)
{
    for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(LLVMGetNamedFunction(m, "f")); b; b = LLVMGetNextBasicBlock(b))
        if (!strcmp(LLVMGetBasicBlockName(b), name)) return b;
    fail_msg("no block %s", name);
    return NULL;
}

static int branches_to(LLVMBasicBlockRef from, LLVMBasicBlockRef to)
{
    LLVMValueRef t = LLVMGetBasicBlockTerminator(from);
    for (unsigned k = 0; k < LLVMGetNumSuccessors(t); k++)
        if (LLVMGetSuccessor(t, k) == to) return 1;
    return 0;
}

static void test_odd_value_skips_a_switch_on_even_markers(void **state)
{
    (void)state;
    LLVMModuleRef m;
    assert_int_equal(thread("48", ret_d, &m), 1);
    assert_true(branches_to(block(m, "tag"), block(m, "done")));
    assert_false(branches_to(block(m, "tag"), block(m, "join")));
    done(m);
}

static void test_an_odd_case_keeps_the_switch(void **state)
{
    (void)state;
    LLVMModuleRef m;
    assert_int_equal(thread("49", ret_d, &m), 0);
    assert_true(branches_to(block(m, "tag"), block(m, "join")));
    done(m);
}

/* r read in a block after done, which join would no longer dominate. */
static void test_a_phi_read_elsewhere_keeps_the_switch(void **state)
{
    (void)state;
    LLVMModuleRef m;
    assert_int_equal(thread("48", "  br label %other\nother:\n  %e = add i64 %r, %d\n  ret i64 %e\n", &m), 0);
    done(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_odd_value_skips_a_switch_on_even_markers),
        cmocka_unit_test(test_an_odd_case_keeps_the_switch),
        cmocka_unit_test(test_a_phi_read_elsewhere_keeps_the_switch),
    };
    return cmocka_run_group_tests_name("lift_facts", tests, NULL, NULL);
}
