/* test_lift_cpp.c -- lf_optimize on a C++ interpreter (testdata/cpp/
 * interp.cpp: AST nodes with a virtual eval, and std::function closures,
 * frozen with lf_freeze) equals the original, built by g++ and clang++ at
 * -O2, with and without -g.
 *
 * An exception a builtin throws inside optimized code reaches the host's
 * catch; a try/catch node and an RAII guard keep their handler and
 * destructor: a function whose calls have landing pads stays native and
 * is counted (lf_report.eh_native) and named (reason).  Before, the guard's
 * destructor was skipped when the exception passed (s3 -2 against -1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/tutil.h"

static const char *libs(void)
{
    return "$(llvm-config-14 --ldflags) -lLLVM-14 -lZydis -lZycore -ldwarf -lelf -lz -lsqlite3 -lm -lpthread -ldl";
}

/* Build interp.cpp with cxx (-O2, -g when g) and direct, the file that
 * defines tree_direct; the executable's path. */
static const char *build(const char *cxx, int g, const char *direct, const char *tag)
{
    const char *exe = tu_fmt("%s/interp_%s%s_%s", tu_tmpdir(), cxx, g ? "g" : "", tag);
    char *err = NULL;
    int st = tu_run(tu_fmt("%s -O2 %s -I%s %s %s %s -o %s %s", cxx, g ? "-g" : "", tu_src("include"),
                           tu_src("testdata/cpp/interp.cpp"), direct, tu_build("liblineiform.a"), exe, libs()),
                    NULL, &err);
    if (st != 0) fail_msg("%s -O2%s: build failed (status %d): %s", cxx, g ? " -g" : "", st, err ? err : "");
    free(err);
    return exe;
}

static char *run(const char *exe, const char *mode)
{
    char *out = NULL, *err = NULL;
    int st = tu_run(tu_fmt("%s %s", exe, mode), &out, &err);
    if (st != 0) fail_msg("%s %s: status %d\n%s%s", exe, mode, st, out ? out : "", err ? err : "");
    free(err);
    return out;
}

static const char *stub(void)
{
    const char *p = tu_fmt("%s/stub.cpp", tu_tmpdir());
    const char *src = "long tree_direct(const long *s) { return s[0]; }\n";
    assert_int_equal(tu_write_file(p, src, strlen(src)), 0);
    return p;
}

static void check_matches(const char *cxx, int g)
{
    char *out = run(build(cxx, g, stub(), "check"), "check");
    assert_non_null(strstr(out, "ok 640 results"));
    /* The try and guard nodes' eval have landing pads: kept native, named. */
    const char *t = strstr(out, "report try:"), *gd = strstr(out, "report guard:");
    assert_non_null(t);
    assert_non_null(gd);
    assert_non_null(strstr(t, "eh_native 1"));
    assert_non_null(strstr(gd, "eh_native 1"));
    assert_non_null(strstr(gd, "kept native: its calls have landing pads"));
    assert_non_null(strstr(out, "report throw: specializations 1 bailouts 0 eh_native 0"));
    free(out);
}

static void test_lift_cpp_gxx_matches(void **s) { (void)s; check_matches("g++", 0); }
static void test_lift_cpp_gxx_debuginfo_matches(void **s) { (void)s; check_matches("g++", 1); }
static void test_lift_cpp_clangxx_matches(void **s) { (void)s; check_matches("clang++", 0); }
static void test_lift_cpp_clangxx_debuginfo_matches(void **s) { (void)s; check_matches("clang++", 1); }

/* The 1,000-node trees, optimized against original and against the same
 * tree written directly (interp emit): printed; the sums agree; the
 * virtual-eval tree and, with -g, the std::function tree at least 20x
 * faster.  Without -g the std::function tree's frame stays in memory
 * (no prototype for its invoker, so no frame window): printed only. */
static void test_lift_cpp_thousand_node_trees_are_20x_faster(void **s)
{
    (void)s;
    static const char *const cxx[] = { "g++", "clang++" };
    for (int c = 0; c < 2; c++) {
        char *tree = run(build(cxx[c], 0, stub(), "check"), "emit");
        char *direct = strdup(tu_fmt("%s/direct_%s.cpp", tu_tmpdir(), cxx[c]));   /* tu_fmt's buffers rotate */
        assert_non_null(direct);
        assert_int_equal(tu_write_file(direct, tree, strlen(tree)), 0);
        free(tree);
        for (int g = 0; g <= 1; g++) {
            char *out = run(build(cxx[c], g, direct, "bench"), "bench");
            const char *b = strstr(out, "bench:");
            assert_non_null(b);
            double vo, vf, vx, fo, ff, fx, d;
            assert_int_equal(sscanf(b, "bench: virtual eval %lf ns, optimized %lf ns, speedup %lfx; std::function "
                                       "%lf ns, optimized %lf ns, speedup %lfx; direct %lf ns",
                                    &vo, &vf, &vx, &fo, &ff, &fx, &d), 7);
            printf("%s -O2%s: 1000-node tree: virtual eval %.1f ns, optimized %.1f ns (%.1fx); std::function "
                   "%.1f ns, optimized %.1f ns (%.1fx); written directly %.1f ns\n",
                   cxx[c], g ? " -g" : "", vo, vf, vx, fo, ff, fx, d);
            assert_true(vx >= 20.0);
            if (g) assert_true(fx >= 20.0);
            free(out);
        }
        free(direct);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lift_cpp_gxx_matches),
        cmocka_unit_test(test_lift_cpp_gxx_debuginfo_matches),
        cmocka_unit_test(test_lift_cpp_clangxx_matches),
        cmocka_unit_test(test_lift_cpp_clangxx_debuginfo_matches),
        cmocka_unit_test(test_lift_cpp_thousand_node_trees_are_20x_faster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
