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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_launcher_does_not_load_llvm),
        cmocka_unit_test(test_launcher_hands_snapshot_over),
        cmocka_unit_test(test_launcher_names_a_missing_snapshot_program),
        cmocka_unit_test(test_launcher_finds_the_installed_layout),
    };
    return cmocka_run_group_tests_name("cli_launcher", tests, NULL, NULL);
}
