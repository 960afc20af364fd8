/* test_lift_interp.c -- the frame shapes of closure interpreters lift
 * without bailing out, in-process and in images of the reference
 * interpreter.
 *
 * testdata/lift/frames.c holds closure cases in the shape of the reference
 * interpreter's nodes (VLA argument buffers filled by a loop, nested VLA
 * frames, frames sized by a frozen count); it is built with gcc and clang at
 * -O1/-O2/-O3, linked with liblineiform.a, and every case must match the
 * closures, be specialized and count no bailout.  The analyzer must bound
 * the jump table of its switch on a tag in memory by the cmp on that word.
 * Images of every reference script (testdata/lisp/tests and bench) compile
 * their entry and bail out nowhere, except where known_bailouts lists it. */
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
    return TU_SAN_LIBS "$(llvm-config-14 --ldflags) -lLLVM-14 -lZydis -lZycore -ldwarf -lelf -lz -lsqlite3 -lm -lpthread -ldl";
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

/* Scripts whose images still bail out somewhere, with at most how many
 * bailouts; every other script of testdata/lisp/tests and bench must have
 * none, and no image may leave its entry uncompiled. */
static const struct { const char *script; unsigned max; } known_bailouts[] = {
    { "tests/err_map_not_procedure.scm", 1 },
    { "tests/err_not_procedure.scm", 2 },
    { "tests/frames.scm", 2 },
    { "tests/lists.scm", 1 },
    { "tests/numbers.scm", 2 },
    { "tests/r7rs_extras.scm", 2 },
    { "tests/strings.scm", 2 },
};

static unsigned allowed_bailouts(const char *rel)
{
    for (size_t k = 0; k < sizeof known_bailouts / sizeof known_bailouts[0]; k++)
        if (strcmp(known_bailouts[k].script, rel) == 0) return known_bailouts[k].max;
    return 0;
}

/* Snapshot one script; 0 when it never reaches the snapshot point. */
static int snapshot_bailouts(const char *rel, unsigned *bailouts, int *entry_compiled)
{
    char *out = NULL, *err = NULL;
    const char *img = tu_fmt("%s/interp.img", tu_tmpdir());
    int st = tu_run(tu_fmt("LINEIFORM_DB=%s/interp.db %s snapshot %s -o %s", tu_tmpdir(), tu_build("lineiform"),
                           tu_src(tu_fmt("testdata/lisp/%s", rel)), img), &out, &err);
    const char *b = out ? strstr(out, "bailouts ") : NULL;
    int ok = st == 0 && b;
    if (ok) {
        *bailouts = (unsigned)strtoul(b + 9, NULL, 10);
        *entry_compiled = strstr(out, "not compiled") == NULL;
    }
    free(out);
    free(err);
    return ok;
}

static void test_lift_interp_reference_scripts_have_no_unlisted_bailouts(void **s)
{
    (void)s;
    char *list = NULL, *err = NULL;
    int st = tu_run(tu_fmt("cd %s && ls bench/*.scm tests/*.scm", tu_src("testdata/lisp")), &list, &err);
    assert_int_equal(st, 0);
    int checked = 0, bad = 0;
    for (char *save = NULL, *rel = strtok_r(list, "\n", &save); rel; rel = strtok_r(NULL, "\n", &save)) {
        unsigned n = 0;
        int compiled = 0;
        if (!snapshot_bailouts(rel, &n, &compiled)) continue;
        checked++;
        if (n > allowed_bailouts(rel) || !compiled) {
            fprintf(stderr, "%s: %u bailout(s), %u allowed%s\n", rel, n, allowed_bailouts(rel),
                    compiled ? "" : ", entry not compiled");
            bad++;
        }
    }
    free(list);
    free(err);
    assert_true(checked >= 20);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lift_interp_vla_frames_lift_without_bailout_gcc),
        cmocka_unit_test(test_lift_interp_vla_frames_lift_without_bailout_clang),
        cmocka_unit_test(test_lift_interp_jump_table_bounded_by_cmp_on_memory),
        cmocka_unit_test(test_lift_interp_reference_scripts_have_no_unlisted_bailouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
