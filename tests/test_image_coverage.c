/* test_image_coverage.c -- Scheme programs shaped like real scripts, not
 * like the small bench programs: fib behind 120 top-level forms, a
 * procedure with a 50-form body around a hot loop, a 200-branch cond, and
 * higher-order code with closures made at run time (make-adder, compose, a
 * fold over a lambda, a thunk run by a runner).  Each is snapshotted and
 * run as an image with the bundled interpreter (gcc) and the same sources
 * built by clang: the image gives the interpreter's stdout, stderr and exit
 * status byte for byte; the snapshot summary names what stays interpreted;
 * `lineiform run --stats` prints the run-time count of calls from compiled
 * code into the interpreter, which must be 0 for fib behind 120 forms (every
 * top-level form is a frozen closure the guard over the sequence's children
 * reaches) and small for the higher-order program (its closures made at run
 * time are reached through guards on their frozen bodies). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/tutil.h"

static char lineiform[1024], lisp_gcc[1024], lisp_clang[1024], db[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(lineiform, sizeof lineiform, "%s", tu_build("lineiform"));
    snprintf(lisp_gcc, sizeof lisp_gcc, "%s", tu_build("bin/lisp"));
    snprintf(db, sizeof db, "%s", tu_build("tests/image-coverage-metadata.db"));
    snprintf(lisp_clang, sizeof lisp_clang, "%s", tu_build("tests/lisp-clang-coverage"));
    if (access(lineiform, X_OK) || access(lisp_gcc, X_OK)) return -1;
    char *err = NULL;
    int rc = tu_run(tu_fmt("clang -std=gnu11 -O2 -g -I'%s' -o '%s/lc' %s/*.c '%s' -lgc -lm && mv -f '%s/lc' '%s'",
                           tu_src("include"), tu_tmpdir(), tu_src("testdata/lisp"), tu_build("liblineiform-rt.a"),
                           tu_tmpdir(), lisp_clang), NULL, &err);
    if (rc) fprintf(stderr, "test_image_coverage: building the interpreter with clang: %s\n", err);
    free(err);
    return rc;
}

/* -- The programs ------------------------------------------------------------ */

static char *prog;
static size_t plen, pcap;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (plen + (size_t)n + 1 > pcap) {
        pcap = 2 * (plen + (size_t)n + 1);
        prog = realloc(prog, pcap);
        assert_non_null(prog);
    }
    va_start(ap, fmt);
    vsnprintf(prog + plen, (size_t)n + 1, fmt, ap);
    va_end(ap);
    plen += (size_t)n;
}

static const char *write_prog(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s.scm", tu_tmpdir(), name);
    assert_int_equal(tu_write_file(path, prog, plen), 0);
    plen = 0;
    return path;
}

static const char *fib_behind_forms(int forms)
{
    for (int i = 0; i < forms; i++) emit("(define v%d %d)\n", i, i);
    emit("(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n(display (fib 25))\n(newline)\n");
    return write_prog("fib_forms");
}

static const char *long_body(int forms)
{
    for (int i = 0; i < forms; i++) emit("(define g%d %d)\n", i, i);
    emit("(define (work n)\n");
    for (int i = 0; i < forms / 2; i++) emit("  (set! g%d (+ g%d 1))\n", i, i);
    emit("  (let loop ((i 0) (acc 0)) (if (< i n) (loop (+ i 1) (+ acc (* i 2))) (begin (display acc) (newline))))\n");
    for (int i = forms / 2; i < forms; i++) emit("  (set! g%d (+ g%d 1))\n", i, i);
    emit("  g%d)\n(display (work 100000))\n(newline)\n", forms - 1);
    return write_prog("long_body");
}

static const char *big_cond(int branches)
{
    emit("(define (classify x)\n  (cond\n");
    for (int i = 0; i < branches; i++) emit("    ((= x %d) %d)\n", i, 3 * i);
    emit("    (else -1)))\n(define (run n acc) (if (= n 0) acc (run (- n 1) (+ acc (classify (remainder n %d))))))\n"
         "(display (run 20000 0))\n(newline)\n", branches);
    return write_prog("big_cond");
}

static const char *higher_order(void)
{
    emit("(define (make-adder k) (lambda (x) (+ x k)))\n"
         "(define (compose f g) (lambda (x) (f (g x))))\n"
         "(define (fold f acc lst) (if (null? lst) acc (fold f (f acc (car lst)) (cdr lst))))\n"
         "(define (iota n) (let loop ((i (- n 1)) (acc '())) (if (< i 0) acc (loop (- i 1) (cons i acc)))))\n"
         "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n"
         "(define (run-bench name thunk) (display name) (display \": \") (display (thunk)) (newline))\n"
         "(define add5 (make-adder 5))\n(define inc2 (compose add5 (make-adder -3)))\n(define xs (iota 100))\n"
         "(run-bench \"fold\" (lambda () (fold (lambda (a x) (+ a (inc2 x))) 0 xs)))\n"
         "(run-bench \"map\" (lambda () (map add5 (iota 5))))\n"
         "(run-bench \"fib\" (lambda () (fib 20)))\n");
    return write_prog("higher_order");
}

/* -- Checks --------------------------------------------------------------------- */

/* Snapshot scr with interp and run it with --stats: the image's stdout,
 * stderr (less the stats line) and status equal the interpreter's; the
 * summary has its "interpreted" line.  Returns the run-time count. */
static long image_run(const char *interp, const char *scr)
{
    char im[1024], *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *sum = NULL;
    snprintf(im, sizeof im, "%s/cov.img", tu_tmpdir());
    int s1 = tu_run(tu_fmt("'%s' '%s'", interp, scr), &o1, &e1);
    int rc = tu_run(tu_fmt("'%s' snapshot --db '%s' --interp '%s' '%s' -o '%s'", lineiform, db, interp, scr, im), &sum,
                    NULL);
    if (rc) fail_msg("%s: snapshot failed (%d)", scr, rc);
    if (!strstr(sum, "  interpreted ")) fail_msg("%s: the summary does not say what stays interpreted:\n%s", scr, sum);
    int s2 = tu_run(tu_fmt("'%s' run --stats '%s'", lineiform, im), &o2, &e2);
    const char *st = strstr(e2, "lineiform: ");
    long n = -1;
    if (!st || sscanf(st, "lineiform: %ld calls from compiled code into the interpreter", &n) != 1)
        fail_msg("%s: no run-time count from run --stats: %s", scr, e2);
    *(char *)st = 0;   /* the rest is the program's own stderr */
    if (s1 != s2 || strcmp(o1, o2) || strcmp(e1, e2))
        fail_msg("%s (%s): interpreter %d, image %d\n--- interpreter\n%s%s--- image\n%s%s", scr, interp, s1, s2, o1, e1,
                 o2, e2);
    free(o1), free(o2), free(e1), free(e2), free(sum);
    return n;
}

static void fib_behind_120_forms_runs_compiled(const char *interp)
{
    assert_int_equal(image_run(interp, fib_behind_forms(120)), 0);
}

static void test_fib_behind_120_forms_runs_compiled_gcc(void **s) { (void)s; fib_behind_120_forms_runs_compiled(lisp_gcc); }
static void test_fib_behind_120_forms_runs_compiled_clang(void **s) { (void)s; fib_behind_120_forms_runs_compiled(lisp_clang); }

static void test_long_body_50_forms_matches_gcc(void **s) { (void)s; assert_true(image_run(lisp_gcc, long_body(50)) < 100); }
static void test_long_body_50_forms_matches_clang(void **s) { (void)s; assert_true(image_run(lisp_clang, long_body(50)) < 100); }
static void test_cond_200_branches_matches_gcc(void **s) { (void)s; assert_true(image_run(lisp_gcc, big_cond(200)) >= 0); }
static void test_cond_200_branches_matches_clang(void **s) { (void)s; assert_true(image_run(lisp_clang, big_cond(200)) >= 0); }
static void test_higher_order_matches_gcc(void **s) { (void)s; assert_true(image_run(lisp_gcc, higher_order()) < 100); }
static void test_higher_order_matches_clang(void **s) { (void)s; assert_true(image_run(lisp_clang, higher_order()) < 100); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fib_behind_120_forms_runs_compiled_gcc),
        cmocka_unit_test(test_fib_behind_120_forms_runs_compiled_clang),
        cmocka_unit_test(test_long_body_50_forms_matches_gcc),
        cmocka_unit_test(test_long_body_50_forms_matches_clang),
        cmocka_unit_test(test_cond_200_branches_matches_gcc),
        cmocka_unit_test(test_cond_200_branches_matches_clang),
        cmocka_unit_test(test_higher_order_matches_gcc),
        cmocka_unit_test(test_higher_order_matches_clang),
    };
    int rc = cmocka_run_group_tests(tests, setup, NULL);
    free(prog);
    return rc;
}
