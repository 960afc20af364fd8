/* test_lisp_cli.c -- build/bin/lisp as a program: usage and file errors,
 * the snapshot point (a snapshot-mode run compiles but never runs the
 * program), bounded memory under allocation churn, constant stack for 10^7
 * tail calls. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "tests/tutil.h"

static int run_lisp(const char *args, const char *env, char **out, char **err)
{
    return tu_run(tu_fmt("%s '%s' %s", env ? env : "", tu_build("bin/lisp"), args), out, err);
}

static const char *script(const char *name, const char *text)
{
    const char *path = tu_fmt("%s/%s", tu_tmpdir(), name);
    assert_int_equal(tu_write_file(path, text, strlen(text)), 0);
    return path;
}

static void test_lisp_without_script_prints_usage_and_exits_2(void **state)
{
    (void)state;
    char *out, *err;
    assert_int_equal(run_lisp("", NULL, &out, &err), 2);
    assert_string_equal(out, "");
    assert_string_equal(err, "usage: lisp FILE.scm\n");
    free(out);
    free(err);
}

static void test_lisp_missing_file_is_one_line_exit_2(void **state)
{
    (void)state;
    char *out, *err;
    assert_int_equal(run_lisp("/nonexistent/x.scm", NULL, &out, &err), 2);
    assert_string_equal(err, "lisp: cannot open /nonexistent/x.scm: No such file or directory\n");
    free(out);
    free(err);
}

static void test_lisp_snapshot_mode_stops_before_running(void **state)
{
    (void)state;
    const char *s = script("snap.scm", "(define (f x) (* x 2))\n(display (f 21))\n(newline)\n");
    const char *dump = tu_fmt("%s/snap.dump", tu_tmpdir());
    char *out, *err;
    int st = run_lisp(tu_fmt("'%s'", s),
                      tu_fmt("LINEIFORM_MODE=snapshot LINEIFORM_DUMP='%s'", dump), &out, &err);
    assert_int_equal(st, 0);
    assert_string_equal(out, "");               /* compiled, not run */
    struct stat sb;
    assert_int_equal(stat(dump, &sb), 0);
    assert_true(sb.st_size > 0);
    free(out);
    free(err);
    assert_int_equal(run_lisp(tu_fmt("'%s'", s), NULL, &out, &err), 0);
    assert_string_equal(out, "42\n");
    free(out);
    free(err);
}

static void test_lisp_allocation_churn_runs_in_bounded_memory(void **state)
{
    (void)state;
    /* 4 * 10^7 pairs (640 MB if never reclaimed). */
    const char *s = script("churn.scm",
        "(define (mk n acc) (if (= n 0) acc (mk (- n 1) (cons n acc))))\n"
        "(define (churn k t) (if (= k 0) t (churn (- k 1) (+ t (length (mk 10000 '()))))))\n"
        "(display (churn 4000 0))\n");
    char *out, *err;
    assert_int_equal(run_lisp(tu_fmt("'%s'", s), NULL, &out, &err), 0);
    assert_string_equal(out, "40000000");
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    assert_true(ru.ru_maxrss < 100 * 1024);     /* KiB */
    free(out);
    free(err);
}

static void test_lisp_ten_million_tail_calls_use_constant_stack(void **state)
{
    (void)state;
    /* Under a 1 MiB stack: a loop that used stack per iteration dies. */
    const char *s = script("tail.scm",
        "(define (ev? n) (if (= n 0) #t (od? (- n 1))))\n"
        "(define (od? n) (if (= n 0) #f (ev? (- n 1))))\n"
        "(display (ev? 10000000))\n"
        "(display (let loop ((i 0)) (if (< i 10000000) (loop (+ i 1)) i)))\n"
        "(define (ap n) (if (= n 0) 'ap (apply ap (list (- n 1)))))\n"
        "(display (ap 1000000))\n");
    char *out, *err;
    int st = tu_run(tu_fmt("ulimit -s 1024 && LISP_STACK_RAISED=1 '%s' '%s'", tu_build("bin/lisp"), s),
                    &out, &err);
    assert_string_equal(err, "");
    assert_int_equal(st, 0);
    assert_string_equal(out, "#t10000000ap");
    free(out);
    free(err);
}

/* Under a file size limit the frozen arena cannot grow: the interpreter's
 * own line names the real cause (errno), not a generic "exhausted". */
static void test_lisp_under_ulimit_f_names_the_real_cause(void **state)
{
    (void)state;
    const char *s = script("fsz.scm", "(define (f x) (* x 2))\n(display (f 21))\n(newline)\n");
    char *out, *err;
    assert_int_equal(run_lisp(tu_fmt("'%s'", s), "ulimit -f 4;", &out, &err), 1);
    assert_non_null(strstr(err, "error: cannot freeze "));
    assert_non_null(strstr(err, strerror(EFBIG)));
    assert_null(strstr(err, "exhausted"));
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lisp_without_script_prints_usage_and_exits_2),
        cmocka_unit_test(test_lisp_missing_file_is_one_line_exit_2),
        cmocka_unit_test(test_lisp_snapshot_mode_stops_before_running),
        cmocka_unit_test(test_lisp_allocation_churn_runs_in_bounded_memory),
        cmocka_unit_test(test_lisp_ten_million_tail_calls_use_constant_stack),
        cmocka_unit_test(test_lisp_under_ulimit_f_names_the_real_cause),
    };
    return cmocka_run_group_tests_name("lisp_cli", tests, NULL, NULL);
}
