/* test_cli_analyze.c -- 'lineiform analyze': summary, cache hit, --force,
 * --json, a changed binary replacing its rows, the default database path
 * rules, and every kind of bad input getting one line naming the file, exit
 * 1, no crash and no database change. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/tutil.h"

static char fx[512], fx2[512];

/* A path kept in its own buffer (tu_fmt's buffers rotate). */
#define TMP_PATH(var, name) char var[512]; snprintf(var, sizeof var, "%s/%s", tu_tmpdir(), name)

static int cli_setup(void **state)
{
    (void)state;
    snprintf(fx, sizeof fx, "%s/fx", tu_tmpdir());
    snprintf(fx2, sizeof fx2, "%s/fx2", tu_tmpdir());
    const char *src = tu_src("testdata/analyzer/fixture.c");
    if (tu_run(tu_fmt("gcc -O2 -g -o %s %s", fx, src), NULL, NULL)) return -1;
    if (tu_run(tu_fmt("clang -O2 -g -o %s %s", fx2, src), NULL, NULL)) return -1;
    return 0;
}

/* Run lineiform with args; returns the exit status. */
static int lf(const char *args, char **out, char **err)
{
    return tu_run(tu_fmt("%s %s", tu_build("lineiform"), args), out, err);
}

static unsigned lines(const char *s)
{
    unsigned n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

static void test_cli_analyze_then_cached_then_force(void **state)
{
    (void)state;
    TMP_PATH(db, "a.db");
    char *out = NULL;
    assert_int_equal(lf(tu_fmt("analyze %s --db %s", fx, db), &out, NULL), 0);
    assert_non_null(strstr(out, "with prototypes"));
    assert_non_null(strstr(out, "1 jump tables"));
    assert_null(strstr(out, "cached"));
    free(out);
    assert_int_equal(lf(tu_fmt("analyze %s --db %s", fx, db), &out, NULL), 0);
    assert_true(strncmp(out, "cached: ", 8) == 0);
    assert_int_equal(lines(out), 1);
    free(out);
    assert_int_equal(lf(tu_fmt("analyze --force --db %s %s", db, fx), &out, NULL), 0);
    assert_null(strstr(out, "cached"));
    free(out);
    assert_int_equal(lf(tu_fmt("query --db %s 'SELECT count(*) FROM binaries' --csv", db), &out, NULL), 0);
    assert_string_equal(out, "count(*)\n1\n");
    free(out);
}

static void test_cli_analyze_json_summary(void **state)
{
    (void)state;
    TMP_PATH(db, "j.db");
    char *out = NULL;
    assert_int_equal(lf(tu_fmt("analyze %s --db %s --json", fx2, db), &out, NULL), 0);
    assert_int_equal(lines(out), 1);
    assert_true(out[0] == '{');
    assert_non_null(strstr(out, "\"cached\": false"));
    assert_non_null(strstr(out, "\"jump_tables\": 1,"));
    assert_non_null(strstr(out, "\"with_prototypes\": 12,"));
    free(out);
    assert_int_equal(lf(tu_fmt("analyze %s --db %s --json", fx2, db), &out, NULL), 0);
    assert_non_null(strstr(out, "\"cached\": true"));
    free(out);
}

static void test_cli_analyze_changed_binary_replaces_rows(void **state)
{
    (void)state;
    TMP_PATH(db, "c.db");
    TMP_PATH(p, "changing");
    char *out = NULL;
    assert_int_equal(tu_run(tu_fmt("cp %s %s", fx, p), NULL, NULL), 0);
    assert_int_equal(lf(tu_fmt("analyze %s --db %s", p, db), NULL, NULL), 0);
    assert_int_equal(tu_run(tu_fmt("cp %s %s", fx2, p), NULL, NULL), 0);
    assert_int_equal(lf(tu_fmt("analyze %s --db %s", p, db), &out, NULL), 0);
    assert_null(strstr(out, "cached"));
    free(out);
    assert_int_equal(lf(tu_fmt("query --db %s --csv 'SELECT count(*), min(n_functions) FROM binaries'", db),
                        &out, NULL), 0);
    assert_string_equal(out, "count(*),min(n_functions)\n1,26\n"); /* the clang build's 26 functions */
    free(out);
    assert_int_equal(lf(tu_fmt("query --db %s --csv 'SELECT count(*) FROM functions'", db), &out, NULL), 0);
    assert_string_equal(out, "count(*)\n26\n");
    free(out);
}

static void test_cli_analyze_default_db_path_rules(void **state)
{
    (void)state;
    TMP_PATH(d, "xdg");
    TMP_PATH(h, "home");
    TMP_PATH(env, "env.db");
    assert_int_equal(tu_run(tu_fmt("env -u LINEIFORM_DB XDG_CACHE_HOME=%s %s analyze %s", d, tu_build("lineiform"),
                                   fx), NULL, NULL), 0);
    struct stat st;
    assert_int_equal(stat(tu_fmt("%s/lineiform/metadata.db", d), &st), 0);
    assert_int_equal(tu_run(tu_fmt("env -u LINEIFORM_DB -u XDG_CACHE_HOME HOME=%s %s analyze %s", h,
                                   tu_build("lineiform"), fx), NULL, NULL), 0);
    assert_int_equal(stat(tu_fmt("%s/.cache/lineiform/metadata.db", h), &st), 0);
    assert_int_equal(tu_run(tu_fmt("LINEIFORM_DB=%s XDG_CACHE_HOME=%s %s analyze %s", env, d,
                                   tu_build("lineiform"), fx), NULL, NULL), 0);
    assert_int_equal(stat(env, &st), 0);
}

/* A copy of fx with bytes patched at off (off < 0: truncated to n bytes);
 * its path in a malloc'd string (tu_fmt buffers rotate). */
static char *patched(const char *name, long off, const char *bytes, size_t n)
{
    size_t len;
    char *b = tu_read_file(fx, &len);
    assert_non_null(b);
    if (off >= 0) memcpy(b + off, bytes, n);
    else len = n;
    char *p = strdup(tu_fmt("%s/%s", tu_tmpdir(), name));
    assert_int_equal(tu_write_file(p, b, len), 0);
    free(b);
    return p;
}

/* Overwrite .debug_info with 0xff. */
static char *corrupt_dwarf(void)
{
    char *out = NULL;
    assert_int_equal(tu_run(tu_fmt("readelf -SW %s | awk '$2==\".debug_info\" {print $5, $6}'", fx), &out, NULL), 0);
    unsigned long off = 0, size = 0;
    assert_int_equal(sscanf(out, "%lx %lx", &off, &size), 2);
    free(out);
    char *ff = malloc(size);
    memset(ff, 0xff, size);
    char *p = patched("baddwarf", (long)off, ff, size);
    free(ff);
    return p;
}

static void expect_one_line_error(const char *args, const char *name, const char *what)
{
    char *err = NULL;
    int rc = lf(args, NULL, &err);
    assert_int_equal(rc, 1);
    assert_int_equal(lines(err), 1);
    assert_true(strncmp(err, "lineiform: ", 11) == 0);
    if (!strstr(err, name) || !strstr(err, what)) fail_msg("'%s' lacks '%s' or '%s'", err, name, what);
    free(err);
}

static void test_cli_analyze_bad_input_one_line_errors(void **state)
{
    (void)state;
    TMP_PATH(db, "bad.db");
    char *txt = strdup(tu_fmt("%s/notelf.txt", tu_tmpdir()));
    assert_int_equal(tu_write_file(txt, "hello\n", 6), 0);
    struct { char *path; const char *what; } cases[] = {
        { strdup(tu_fmt("%s/missing", tu_tmpdir())), "No such file" },
        { strdup(tu_tmpdir()), "is a directory" },
        { txt, "not an ELF file" },
        { patched("elf32", 4, "\x01", 1), "32-bit" },
        { patched("arm", 18, "\xb7\x00", 2), "not x86-64" },
        { patched("trunc", -1, NULL, 3000), "truncated" },
        { corrupt_dwarf(), "corrupt DWARF" },
        /* libdwarf itself crashes on this one (a fuzzing finding) */
        { strdup(tu_src("testdata/analyzer/rnglists_double_free.elf")), "corrupt DWARF" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_one_line_error(tu_fmt("analyze %s --db %s", cases[i].path, db), cases[i].path, cases[i].what);
        free(cases[i].path);
    }
    struct stat st;
    assert_int_equal(stat(db, &st), -1); /* nothing stored, no database created */
}

static void test_cli_analyze_bad_database_is_left_intact(void **state)
{
    (void)state;
    TMP_PATH(j, "junk.db");
    static const char text[] = "not a database at all, but a text file of some length\n";
    assert_int_equal(tu_write_file(j, text, sizeof text - 1), 0);
    expect_one_line_error(tu_fmt("analyze %s --db %s", fx, j), j, "database");
    size_t len;
    char *after = tu_read_file(j, &len);
    assert_int_equal(len, sizeof text - 1);
    assert_memory_equal(after, text, len);
    free(after);
    TMP_PATH(nd, "no/such/dir/x.db");
    expect_one_line_error(tu_fmt("analyze %s --db %s", fx, nd), nd, "cannot open");
}

static void test_cli_analyze_usage_errors_exit_2(void **state)
{
    (void)state;
    assert_int_equal(lf("analyze", NULL, NULL), 2);
    assert_int_equal(lf("analyze --bogus x", NULL, NULL), 2);
    assert_int_equal(lf("analyze a b", NULL, NULL), 2);
    assert_int_equal(lf("analyze x --db", NULL, NULL), 2);
    char *out = NULL;
    assert_int_equal(lf("analyze --help", &out, NULL), 0);
    assert_non_null(strstr(out, "usage: lineiform analyze"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_analyze_then_cached_then_force),
        cmocka_unit_test(test_cli_analyze_json_summary),
        cmocka_unit_test(test_cli_analyze_changed_binary_replaces_rows),
        cmocka_unit_test(test_cli_analyze_default_db_path_rules),
        cmocka_unit_test(test_cli_analyze_bad_input_one_line_errors),
        cmocka_unit_test(test_cli_analyze_bad_database_is_left_intact),
        cmocka_unit_test(test_cli_analyze_usage_errors_exit_2),
    };
    return cmocka_run_group_tests_name("cli_analyze", tests, cli_setup, NULL);
}
