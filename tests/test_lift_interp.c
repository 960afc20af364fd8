/* test_lift_interp.c -- the frame shapes of closure interpreters lift
 * without bailing out, in-process and in images of the reference
 * interpreter.
 *
 * testdata/lift/frames.c holds closure cases in the shape of the reference
 * interpreter's nodes (VLA argument buffers filled by a loop, nested VLA
 * frames, frames sized by a frozen count); it is built with gcc and clang at
 * -O1/-O2/-O3, linked with liblineiform.a, and every case must match the
 * closures, be specialized and count no bailout.  The analyzer must bound
 * the jump table of its switch on a tag in memory by the cmp on that word. */
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

/* Build frames.c with cc at opt, run it; every case must pass. */
static void frames_at(const char *cc, const char *opt)
{
    const char *exe = tu_fmt("%s/frames_%s%s", tu_tmpdir(), cc, opt);
    char *out = NULL, *err = NULL;
    int st = tu_run(tu_fmt("%s %s -g -I%s %s %s -o %s %s", cc, opt, tu_src("include"),
                           tu_src("testdata/lift/frames.c"), tu_build("liblineiform.a"), exe, link_flags()),
                    NULL, &err);
    if (st != 0) fail_msg("%s %s: build failed: %s", cc, opt, err ? err : "");
    free(err);
    err = NULL;
    st = tu_run(exe, &out, &err);
    if (st != 0) fprintf(stderr, "%s %s:\n%s%s", cc, opt, out ? out : "", err ? err : "");
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "passed: 0 failure(s)"));
    assert_null(strstr(out, "FAIL"));
    free(out);
    free(err);
}

static void test_lift_interp_vla_frames_lift_without_bailout_gcc(void **s)
{
    (void)s;
    frames_at("gcc", "-O1");
    frames_at("gcc", "-O2");
    frames_at("gcc", "-O3");
}

static void test_lift_interp_vla_frames_lift_without_bailout_clang(void **s)
{
    (void)s;
    frames_at("clang", "-O1");
    frames_at("clang", "-O2");
    frames_at("clang", "-O3");
}

/* The jump table of a switch on a 16-bit tag in memory is bounded by the
 * cmp on that memory word (7 cases), not read on into unrelated bytes. */
static void test_lift_interp_jump_table_bounded_by_cmp_on_memory(void **s)
{
    (void)s;
    frames_at("gcc", "-O2");
    const char *db = tu_fmt("%s/frames.db", tu_tmpdir());
    char *out = NULL, *err = NULL;
    int st = tu_run(tu_fmt("LINEIFORM_DB=%s %s analyze %s/frames_gcc-O2", db, tu_build("lineiform"), tu_tmpdir()),
                    NULL, &err);
    if (st != 0) fail_msg("analyze: %s", err ? err : "");
    free(err);
    err = NULL;
    st = tu_run(tu_fmt("LINEIFORM_DB=%s %s query \"SELECT 'entries=' || j.n_entries || ' bounded=' || j.bounded "
                       "FROM jump_tables j JOIN functions f ON f.id = j.function_id WHERE f.name = 'ev_tag'\"",
                       db, tu_build("lineiform")), &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "entries=7 bounded=1"));
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lift_interp_vla_frames_lift_without_bailout_gcc),
        cmocka_unit_test(test_lift_interp_vla_frames_lift_without_bailout_clang),
        cmocka_unit_test(test_lift_interp_jump_table_bounded_by_cmp_on_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
