/* test_lift_lisp.c -- lf_optimize on the reference interpreter's top-level
 * closure gives the same output as the interpreter, for every test program.
 *
 * The interpreter's sources (the .c files of testdata/lisp/) are compiled here with gcc
 * and with clang at -O2 and linked twice: as is (the reference), and with
 * testdata/lift/lisp_opt.c wrapping lf_snapshot so the entry closure runs
 * through lf_optimize in-process.  For each .scm program of testdata/lisp/tests/,
 * stdout, stderr and the exit status must be identical. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tutil.h"

static const char *LIBS = TU_SAN_LIBS "$(llvm-config-14 --ldflags) -lLLVM-14 -lZydis -lZycore -ldwarf -lelf -lz "
                          "-lsqlite3 -lgc -lm -lpthread -ldl";

static void build(const char *cc, const char *dir)
{
    char *err = NULL;
    int st = tu_run(tu_fmt("mkdir -p %s && cd %s && for f in %s/*.c; do %s -std=gnu11 -O2 -g -I%s -c $f "
                           "-o $(basename $f .c).o || exit 1; done && "
                           "%s -o lisp_ref *.o %s %s && "
                           "%s -std=gnu11 -O2 -g -I%s -o lisp_opt %s *.o %s -Wl,--wrap=lf_snapshot %s",
                           dir, dir, tu_src("testdata/lisp"), cc, tu_src("include"),
                           cc, tu_build("liblineiform.a"), LIBS,
                           cc, tu_src("include"), tu_src("testdata/lift/lisp_opt.c"), tu_build("liblineiform.a"), LIBS),
                    NULL, &err);
    if (st != 0) fail_msg("%s build failed: %s", cc, err ? err : "");
    free(err);
}

static int same_run(const char *dir, const char *script_path)
{
    char script[1024];
    snprintf(script, sizeof script, "%s", script_path);
    char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL;
    int s1 = tu_run(tu_fmt("%s/lisp_ref %s", dir, script), &o1, &e1);
    int s2 = tu_run(tu_fmt("%s/lisp_opt %s", dir, script), &o2, &e2);
    int same = s1 == s2 && strcmp(o1, o2) == 0 && strcmp(e1, e2) == 0;
    if (!same)
        fprintf(stderr, "%s: status %d vs %d\n--- interpreter\n%s%s--- lf_optimize\n%s%s", script, s1, s2,
                o1, e1, o2, e2);
    free(o1), free(e1), free(o2), free(e2);
    return same;
}

static void run_all(const char *cc)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/lisp_%s", tu_tmpdir(), cc);
    build(cc, dir);
    DIR *d = opendir(tu_src("testdata/lisp/tests"));
    assert_non_null(d);
    int n = 0, bad = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".scm") != 0) continue;
        n++;
        bad += !same_run(dir, tu_src(tu_fmt("testdata/lisp/tests/%s", de->d_name)));
    }
    closedir(d);
    fprintf(stderr, "%s: %d programs, %d differ\n", cc, n, bad);
    assert_true(n > 0);
    assert_int_equal(bad, 0);
}

static void test_lift_lisp_gcc_optimized_entry_gives_same_output(void **s) { (void)s; run_all("gcc"); }
static void test_lift_lisp_clang_optimized_entry_gives_same_output(void **s) { (void)s; run_all("clang"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lift_lisp_gcc_optimized_entry_gives_same_output),
        cmocka_unit_test(test_lift_lisp_clang_optimized_entry_gives_same_output),
    };
    return cmocka_run_group_tests_name("lift_lisp", tests, NULL, NULL);
}
