/* test_lift_nanbox.c -- a NaN-boxed statement interpreter (testdata/nanbox)
 * specialized with lf_optimize keeps its run-time-sized frames private,
 * built by gcc as by clang.
 *
 * gcc -O2 addresses a VLA through an aligned base computed by a shift
 * (`lea rdx, [rsp+7]; shr rbx, 3`, then `[rbx*8]`), keeps the shifted value
 * in a callee-saved register across calls and re-bases it later; before the
 * frame model followed that value, the frame split was refused and every
 * frame access stayed in memory (0 of 110 private in the sum-of-squares
 * program).  nanbox compares every program with the closures over many
 * inputs and prints each one's frame accesses; this test requires all to
 * match and the programs without a native call to have no shared access. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tutil.h"

static const char *link_flags(void)
{
    return "$(llvm-config-14 --ldflags) -lLLVM-14 -lZydis -lZycore -ldwarf -lelf -lz -lsqlite3 -lm -lpthread -ldl";
}

/* Build nanbox.c with cc -O2 and run it; its stdout (every case passed). */
static char *nanbox_run(const char *cc)
{
    const char *exe = tu_fmt("%s/nanbox_%s", tu_tmpdir(), cc);
    char *out = NULL, *err = NULL;
    int st = tu_run(tu_fmt("%s -O2 -g -I%s %s %s -o %s %s", cc, tu_src("include"), tu_src("testdata/nanbox/nanbox.c"),
                           tu_build("liblineiform.a"), exe, link_flags()),
                    NULL, &err);
    if (st != 0) fail_msg("%s: build failed: %s", cc, err ? err : "");
    free(err);
    err = NULL;
    st = tu_run(exe, &out, &err);
    if (st != 0) fprintf(stderr, "%s:\n%s%s", cc, out ? out : "", err ? err : "");
    free(err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "passed: 0 failure(s)"));
    assert_null(strstr(out, "FAIL"));
    return out;
}

/* Case `name` of nanbox's output: every frame access private. */
static void all_private(const char *out, const char *cc, const char *name)
{
    const char *l = strstr(out, tu_fmt("%s: frame accesses ", name));
    if (!l) fail_msg("%s: no line for %s", cc, name);
    unsigned priv = 0, shared = 0;
    assert_int_equal(sscanf(strchr(l, ':') + 1, " frame accesses %u private, %u shared", &priv, &shared), 2);
    if (priv == 0 || shared != 0) fail_msg("%s: %s: %u frame accesses private, %u shared", cc, name, priv, shared);
}

static void frames_private(const char *cc)
{
    char *out = nanbox_run(cc);
    all_private(out, cc, "sum of squares (while)");
    all_private(out, cc, "calls as arguments of a call");
    free(out);
}

static void test_lift_nanbox_gcc_shifted_frame_base_stays_private(void **s) { (void)s; frames_private("gcc"); }
static void test_lift_nanbox_clang_frames_stay_private(void **s) { (void)s; frames_private("clang"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lift_nanbox_gcc_shifted_frame_base_stays_private),
        cmocka_unit_test(test_lift_nanbox_clang_frames_stay_private),
    };
    return cmocka_run_group_tests_name("lift_nanbox", tests, NULL, NULL);
}
