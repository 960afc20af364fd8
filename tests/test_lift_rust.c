/* test_lift_rust.c -- lf_optimize on a Rust closure interpreter
 * (testdata/rust/closures.rs: Box<dyn Fn(&mut [i64]) -> i64> nodes frozen
 * with lf_freeze) equals the plain closures, built by rustc at
 * -C opt-level=2 and 3, with and without -g.
 *
 * With -g, rustc's DWARF describes a closure body without its environment
 * argument and core::panicking::panic_bounds_check without its
 * #[track_caller] location: a prototype trusted as written passed the
 * slice length as 0 and the panic location as NULL.  The prototypes are
 * now checked against the registers the code reads (lift_proc.c).
 *
 * The compiler is Debian's /usr/bin/rustc (make deps installs it) when
 * present, else the rustc on PATH; the program links liblineiform.a as an
 * outside author would (README, "Rust"). */
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

static const char *rustc(void)
{
    return access("/usr/bin/rustc", X_OK) == 0 ? "/usr/bin/rustc" : "rustc";
}

/* Build closures.rs at opt-level opt, with debug information when g; the
 * executable's path. */
static const char *build(const char *opt, int g)
{
    const char *exe = tu_fmt("%s/closures_O%s%s", tu_tmpdir(), opt, g ? "g" : "");
    if (access(exe, X_OK) == 0) return exe;
    char *err = NULL;
    int st = tu_run(tu_fmt("%s --edition 2021 -C opt-level=%s %s %s -o %s -L native=%s -l static=lineiform "
                           "-C link-arg=-L$(llvm-config-14 --libdir) -l dylib=LLVM-14 -l Zydis -l Zycore "
                           "-l dwarf -l elf -l z -l sqlite3",
                           rustc(), opt, g ? "-g" : "", tu_src("testdata/rust/closures.rs"), exe,
                           tu_build("")),
                    NULL, &err);
    if (st != 0) fail_msg("rustc -C opt-level=%s%s: build failed (status %d): %s", opt, g ? " -g" : "", st,
                          err ? err : "");
    free(err);
    return exe;
}

/* Run exe mode; its stdout, with the status checked. */
static char *run(const char *exe, const char *mode, int want_status)
{
    char *out = NULL, *err = NULL;
    int st = tu_run(tu_fmt("%s %s", exe, mode), &out, &err);
    if (st != want_status) fail_msg("%s %s: status %d\n%s%s", exe, mode, st, out ? out : "", err ? err : "");
    free(err);
    return out;
}

/* Every program, original against optimized, on 400 inputs each. */
static void check_matches(const char *opt, int g)
{
    char *out = run(build(opt, g), "check", 0);
    assert_non_null(strstr(out, "ok 1200 results"));
    assert_null(strstr(out, "reason 'cached'"));
    free(out);
}

static void test_lift_rust_O2_matches(void **s) { (void)s; check_matches("2", 0); }
static void test_lift_rust_O2_debuginfo_matches(void **s) { (void)s; check_matches("2", 1); }
static void test_lift_rust_O3_matches(void **s) { (void)s; check_matches("3", 0); }
static void test_lift_rust_O3_debuginfo_matches(void **s) { (void)s; check_matches("3", 1); }

/* An out-of-range slot inside optimized code panics with Rust's own
 * message (panic_bounds_check gets its index, length and location) and
 * catch_unwind catches it. */
static void panic_caught(const char *opt, int g)
{
    char *out = run(build(opt, g), "panic", 0);
    assert_non_null(strstr(out, "panicked: index out of bounds: the len is 4 but the index is 9"));
    assert_non_null(strstr(out, "caught: true"));
    free(out);
}

static void test_lift_rust_panic_in_optimized_code_is_caught(void **s)
{
    (void)s;
    panic_caught("2", 0);
    panic_caught("2", 1);
    panic_caught("3", 1);
}

/* The 1,000-node tree: optimized at least 20x faster than the closures,
 * with and without -g; printed beside the same tree written directly in
 * Rust (closures emit, appended to direct.rs), whose sum must agree. */
static void test_lift_rust_thousand_node_tree_is_20x_faster(void **s)
{
    (void)s;
    char *src = tu_read_file(tu_src("testdata/rust/direct.rs"), NULL);
    assert_non_null(src);
    char *tree = run(build("2", 0), "emit", 0);
    const char *dsrc = tu_fmt("%s/direct.rs", tu_tmpdir());
    char *all = malloc(strlen(src) + strlen(tree) + 1);
    assert_non_null(all);
    strcpy(all, src);
    strcat(all, tree);
    assert_int_equal(tu_write_file(dsrc, all, strlen(all)), 0);
    free(all);
    free(src);
    free(tree);
    const char *dexe = tu_fmt("%s/direct", tu_tmpdir());
    assert_int_equal(tu_run(tu_fmt("%s -C opt-level=2 %s -o %s", rustc(), dsrc, dexe), NULL, NULL), 0);
    char *direct = run(dexe, "", 0);
    double dns = 0;
    long long dsum = 0;
    assert_int_equal(sscanf(direct, "direct: %lf ns, sum %lld", &dns, &dsum), 2);
    for (int g = 0; g <= 1; g++) {
        char *out = run(build("2", g), "bench", 0);
        const char *b = strstr(out, "bench:");
        assert_non_null(b);
        double orig = 0, fast = 0, speedup = 0;
        long long sum = 0;
        assert_int_equal(sscanf(b, "bench: 1000-node tree: closures %lf ns, optimized %lf ns, speedup %lfx, sum %lld",
                                &orig, &fast, &speedup, &sum), 4);
        printf("rust -C opt-level=2%s: 1000-node tree: closures %.1f ns, optimized %.1f ns (%.1fx), "
               "written directly %.1f ns (optimized/direct %.2f)\n",
               g ? " -g" : "", orig, fast, speedup, dns, fast / dns);
        assert_true(sum == dsum);
        assert_true(speedup >= 20.0);
        free(out);
    }
    free(direct);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lift_rust_O2_matches),
        cmocka_unit_test(test_lift_rust_O2_debuginfo_matches),
        cmocka_unit_test(test_lift_rust_O3_matches),
        cmocka_unit_test(test_lift_rust_O3_debuginfo_matches),
        cmocka_unit_test(test_lift_rust_panic_in_optimized_code_is_caught),
        cmocka_unit_test(test_lift_rust_thousand_node_tree_is_20x_faster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
