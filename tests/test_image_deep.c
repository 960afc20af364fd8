/* test_image_deep.c -- a snapshot of a deeply nested expression finishes in
 * bounded time and memory and gives the interpreter's output; where the
 * lift budget runs out, the summary says so.
 *
 * (display (+ 1 (+ 1 ... 0))) nested 1,000 and 10,000 deep, written to a
 * temporary directory, is snapshotted with `lineiform snapshot` and run with
 * `lineiform run`.  Before the module-wide lift budget (lifter/codegen/
 * lift_aot.h LIFT_BUDGET_BLOCKS) the 10,000-deep one lifted a chain of 256
 * specializations of 1,500 blocks each, many of them twice.  The bounds
 * here are loose on purpose (a loaded machine): under 120 s of wall time
 * and 1.5 GB of peak memory per snapshot; the figures are printed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tests/tutil.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* The count after label in a snapshot's summary. */
static unsigned summary_count(const char *sum, const char *label)
{
    const char *p = strstr(sum, label);
    unsigned v = 0;
    if (!p) fail_msg("summary has no '%s' line:\n%s", label, sum);
    assert_int_equal(sscanf(p + strlen(label), " %u", &v), 1);
    return v;
}

/* Snapshot and run the expression nested depth deep; the summary's
 * lift-budget count. */
static unsigned deep_expression(int depth)
{
    size_t n = (size_t)depth * 7 + 64, k = 0;
    char *src = malloc(n);
    assert_non_null(src);
    k += (size_t)sprintf(src + k, "(display ");
    for (int i = 0; i < depth; i++) k += (size_t)sprintf(src + k, "(+ 1 ");
    src[k++] = '0';
    for (int i = 0; i < depth; i++) src[k++] = ')';
    k += (size_t)sprintf(src + k, ")\n(newline)\n");
    const char *scm = tu_fmt("%s/deep%d.scm", tu_tmpdir(), depth);
    assert_int_equal(tu_write_file(scm, src, k), 0);
    free(src);
    const char *img = tu_fmt("%s/deep%d.img", tu_tmpdir(), depth);
    char *sum = NULL, *err = NULL, *out = NULL;
    double t0 = now_s();
    int st = tu_run(tu_fmt("'%s' snapshot --db '%s' '%s' -o '%s'", tu_build("lineiform"),
                           tu_build("tests/image-deep-metadata.db"), scm, img),
                    &sum, &err);
    double secs = now_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    if (st != 0) fail_msg("%d deep: snapshot exit %d: %s", depth, st, err);
    fprintf(stderr, "  %d deep: snapshot %.1f s, peak memory of a child so far %ld MB, lift budget %u\n", depth,
            secs, ru.ru_maxrss / 1024, summary_count(sum, "lift budget"));
    free(err);
    err = NULL;
    st = tu_run(tu_fmt("'%s' run '%s'", tu_build("lineiform"), img), &out, &err);
    assert_int_equal(st, 0);
    assert_string_equal(out, tu_fmt("%d\n", depth));
    assert_true(secs < 120.0);
    assert_true(ru.ru_maxrss < 1536L * 1024);
    unsigned budget = summary_count(sum, "lift budget");
    free(sum);
    free(out);
    free(err);
    return budget;
}

/* 1,000 deep: about 90,000 blocks, within the budget of 100,000 today;
 * the count is printed, not required to be 0, so that a lift that grows
 * its blocks per node does not fail here for the wrong reason. */
static void test_deep_expression_1000_snapshots(void **state)
{
    (void)state;
    (void)deep_expression(1000);
}

/* 10,000 deep: the budget runs out, the rest runs in the interpreter's
 * code, and the summary counts it. */
static void test_deep_expression_10000_is_bounded_and_says_so(void **state)
{
    (void)state;
    assert_true(deep_expression(10000) >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deep_expression_1000_snapshots),
        cmocka_unit_test(test_deep_expression_10000_is_bounded_and_says_so),
    };
    return cmocka_run_group_tests_name("image_deep", tests, NULL, NULL);
}
