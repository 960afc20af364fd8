/* test_cli_launcher.c -- lineiform starts without LLVM and hands `snapshot`
 * to lineiform-snapshot, found next to it or in libexec/lineiform/. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tests/tutil.h"

static void test_launcher_does_not_load_llvm(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(tu_run(tu_fmt("ldd '%s'", tu_build("lineiform")), &out, NULL), 0);
    assert_non_null(out);
    assert_null(strstr(out, "libLLVM"));
    free(out);
    assert_int_equal(tu_run(tu_fmt("ldd '%s'", tu_build("lineiform-snapshot")), &out, NULL), 0);
    assert_non_null(strstr(out, "libLLVM"));
    free(out);
}

static void test_launcher_hands_snapshot_over(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot --help", tu_build("lineiform")), &out, NULL), 0);
    assert_non_null(strstr(out, "usage: lineiform snapshot"));
    free(out);
}

static void test_launcher_names_a_missing_snapshot_program(void **state)
{
    (void)state;
    const char *dir = tu_fmt("%s/alone", tu_tmpdir());
    char *err = NULL;
    assert_int_equal(tu_run(tu_fmt("mkdir -p '%s' && cp '%s' '%s/'", dir, tu_build("lineiform"), dir),
                            NULL, NULL), 0);
    int st = tu_run(tu_fmt("'%s/lineiform' snapshot x.scm -o x.img", dir), NULL, &err);
    assert_int_equal(st, 1);
    assert_non_null(strstr(err, "lineiform-snapshot not found"));
    assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1); /* one line */
    free(err);
}

static void test_launcher_finds_the_installed_layout(void **state)
{
    (void)state;
    const char *pre = tu_fmt("%s/prefix", tu_tmpdir());
    char *out = NULL;
    assert_int_equal(tu_run(tu_fmt("mkdir -p '%s/bin' '%s/libexec/lineiform' && cp '%s' '%s/bin/' && "
                                   "cp '%s' '%s/libexec/lineiform/'", pre, pre, tu_build("lineiform"), pre,
                                   tu_build("lineiform-snapshot"), pre), NULL, NULL), 0);
    assert_int_equal(tu_run(tu_fmt("'%s/bin/lineiform' snapshot --help", pre), &out, NULL), 0);
    assert_non_null(strstr(out, "usage: lineiform snapshot"));
    free(out);
}

/* The launcher raises glibc's malloc cache for lineiform-snapshot through
 * GLIBC_TUNABLES; the interpreter that lineiform-snapshot runs must see
 * the user's environment, not that.  The "interpreter" here prints what it
 * sees and fails (so no image is written). */
static void test_snapshot_malloc_tunables_stay_out_of_the_interpreter(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir(), *src = tu_fmt("%s/showenv.c", dir), *bin = tu_fmt("%s/showenv", dir);
    static const char prog[] =
        "#include <stdio.h>\n#include <stdlib.h>\n"
        "static const char *v(const char *n) { const char *s = getenv(n); return s ? s : \"-\"; }\n"
        "int main(void) { fprintf(stderr, \"T=%s M=%s\\n\", v(\"GLIBC_TUNABLES\"), v(\"LINEIFORM_TUNED\")); return 1; }\n";
    assert_int_equal(tu_write_file(src, prog, strlen(prog)), 0);
    assert_int_equal(tu_run(tu_fmt("cc -g -o '%s' '%s'", bin, src), NULL, NULL), 0);
    const char *scm = tu_fmt("%s/empty.scm", dir);
    assert_int_equal(tu_write_file(scm, "", 0), 0);
    char *err = NULL;
    int st = tu_run(tu_fmt("env -u GLIBC_TUNABLES '%s' snapshot --db '%s/t.db' --interp '%s' '%s' -o '%s/t.img'",
                           tu_build("lineiform"), dir, bin, scm, dir), NULL, &err);
    assert_int_equal(st, 1);
    assert_non_null(strstr(err, "T=- M=-"));
    free(err);
    st = tu_run(tu_fmt("GLIBC_TUNABLES=glibc.malloc.check=0 '%s' snapshot --db '%s/t.db' --interp '%s' '%s' -o '%s/t.img'",
                       tu_build("lineiform"), dir, bin, scm, dir), NULL, &err);
    assert_int_equal(st, 1);
    assert_non_null(strstr(err, "T=glibc.malloc.check=0 M=-"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_launcher_does_not_load_llvm),
        cmocka_unit_test(test_launcher_hands_snapshot_over),
        cmocka_unit_test(test_launcher_names_a_missing_snapshot_program),
        cmocka_unit_test(test_launcher_finds_the_installed_layout),
        cmocka_unit_test(test_snapshot_malloc_tunables_stay_out_of_the_interpreter),
    };
    return cmocka_run_group_tests_name("cli_launcher", tests, NULL, NULL);
}
