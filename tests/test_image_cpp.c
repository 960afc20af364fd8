/* test_image_cpp.c -- an image of a C++ interpreter (testdata/cpp/
 * image.cpp) whose builtin throws below the compiled code: `lineiform run`
 * prints and exits exactly as the interpreter, the exception reaching the
 * program's own catch through the image's frames.  Images keep the
 * compiled code's .eh_frame and the loader registers it; before, the
 * image ended in std::terminate (status 134). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tutil.h"

static void same_as_interpreter(const char *cxx, const char *text, const char *want)
{
    const char *bin = tu_fmt("%s/image_%s", tu_tmpdir(), cxx);
    char *o1 = NULL, *o2 = NULL, *e = NULL, b[1024], scr[1024], img[1024];
    snprintf(b, sizeof b, "%s", bin);
    int rc = tu_run(tu_fmt("%s -O2 -g -I'%s' -o '%s' '%s' '%s'", cxx, tu_src("include"), b,
                           tu_src("testdata/cpp/image.cpp"), tu_build("liblineiform-rt.a")), NULL, &e);
    if (rc != 0) fail_msg("building with %s: %s", cxx, e);
    free(e);
    snprintf(scr, sizeof scr, "%s/script_%s.txt", tu_tmpdir(), cxx);
    snprintf(img, sizeof img, "%s/script_%s.img", tu_tmpdir(), cxx);
    assert_int_equal(tu_write_file(scr, text, strlen(text)), 0);
    int s1 = tu_run(tu_fmt("'%s' '%s'", b, scr), &o1, NULL);
    rc = tu_run(tu_fmt("'%s' snapshot -q --db '%s/meta.db' --interp '%s' '%s' -o '%s'", tu_build("lineiform"),
                       tu_tmpdir(), b, scr, img), NULL, &e);
    if (rc != 0) fail_msg("snapshot failed (%d): %s", rc, e);
    free(e);
    int s2 = tu_run(tu_fmt("'%s' run '%s'", tu_build("lineiform"), img), &o2, &e);
    if (s1 != s2 || strcmp(o1, o2) || strcmp(o1, want))
        fail_msg("%s: interpreter %d '%s', image %d '%s' (%s), want '%s'", cxx, s1, o1, s2, o2, e, want);
    free(o1);
    free(o2);
    free(e);
}

static void test_image_cpp_exception_below_compiled_code_reaches_the_programs_catch(void **s)
{
    (void)s;
    same_as_interpreter("g++", "5 2\n", "caught: division by zero\n");
    same_as_interpreter("clang++", "5 2\n", "caught: division by zero\n");
}

static void test_image_cpp_without_exception_agrees(void **s)
{
    (void)s;
    same_as_interpreter("g++", "5 9\n", "-734\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_cpp_exception_below_compiled_code_reaches_the_programs_catch),
        cmocka_unit_test(test_image_cpp_without_exception_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
