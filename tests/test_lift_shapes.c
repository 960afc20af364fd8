/* test_lift_shapes.c -- lf_optimize on testdata/lift/shapes.c, a statement
 * interpreter of another design than closures.c (NaN-boxed values,
 * statements returning a status, children in an array), built by gcc and
 * by clang at -O2: a sequence of 1,000 statements, a 50-statement body
 * around a hot loop, a 200-way switch over an array of children, and a
 * closure made at run time (a heap object holding a frozen body).  Every
 * specialized run must leave the frame the interpreter leaves, and nothing
 * may stay interpreted but guard fallbacks (lf_report.interp_calls ==
 * interp_guarded): every child and the run-time closure's body are reached
 * through guards, not by calling the interpreter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tutil.h"

static char *build_and_run(const char *cc)
{
    const char *exe = tu_fmt("%s/shapes_%s", tu_tmpdir(), cc);
    char *out = NULL, *err = NULL;
    int st = tu_run(tu_fmt("%s -O2 -g -I%s %s %s -o %s $(llvm-config-14 --ldflags) -lLLVM-14 -lZydis -lZycore "
                           "-ldwarf -lelf -lz -lsqlite3 -lm -lpthread -ldl", cc, tu_src("include"),
                           tu_src("testdata/lift/shapes.c"), tu_build("liblineiform.a"), exe),
                    NULL, &err);
    if (st != 0) fail_msg("%s: build failed: %s", cc, err ? err : "");
    free(err);
    st = tu_run(exe, &out, &err);
    fprintf(stderr, "%s%s", out ? out : "", err ? err : "");
    free(err);
    assert_int_equal(st, 0);
    return out;
}

/* The shape's line: "ok   NAME interp N guarded G ratio R". */
static void resolved(const char *out, const char *name)
{
    const char *l = strstr(out, tu_fmt("ok   %s interp ", name));
    if (!l) fail_msg("%s: no result line", name);
    unsigned n, g;
    assert_int_equal(sscanf(l + 5 + strlen(name), " interp %u guarded %u", &n, &g), 2);
    if (n != g) fail_msg("%s: %u calls into the interpreter, only %u of them guard fallbacks", name, n, g);
}

static void every_shape(const char *cc)
{
    char *out = build_and_run(cc);
    assert_non_null(strstr(out, "passed: 0 failure(s)"));
    assert_null(strstr(out, "FAIL"));
    resolved(out, "sequence_1000");
    resolved(out, "body_50");
    resolved(out, "switch_200");
    resolved(out, "closures_at_run_time");
    free(out);
}

static void test_lift_shapes_gcc_match_and_reach_every_closure(void **s) { (void)s; every_shape("gcc"); }
static void test_lift_shapes_clang_match_and_reach_every_closure(void **s) { (void)s; every_shape("clang"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lift_shapes_gcc_match_and_reach_every_closure),
        cmocka_unit_test(test_lift_shapes_clang_match_and_reach_every_closure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
