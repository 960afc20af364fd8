/* test_cli_query.c -- 'lineiform query': aligned table, JSON and CSV of
 * exactly the rows sqlite returns, read-only (writes refused, database
 * unchanged), bad SQL and a missing database as one-line errors, exit 1. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tutil.h"

static char db[512];

static int q_setup(void **state)
{
    (void)state;
    char fx[512];
    snprintf(fx, sizeof fx, "%s/fx", tu_tmpdir());
    snprintf(db, sizeof db, "%s/q.db", tu_tmpdir());
    if (tu_run(tu_fmt("gcc -O2 -g -o %s %s", fx, tu_src("testdata/analyzer/fixture.c")), NULL, NULL)) return -1;
    return tu_run(tu_fmt("%s analyze %s --db %s", tu_build("lineiform"), fx, db), NULL, NULL) ? -1 : 0;
}

static int q(const char *sql_and_opts, char **out, char **err)
{
    return tu_run(tu_fmt("%s query --db %s %s", tu_build("lineiform"), db, sql_and_opts), out, err);
}

static void test_cli_query_prints_aligned_table(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(q("\"SELECT 'ab' AS name, 12345 AS n UNION ALL SELECT 'longer', 7\"", &out, NULL), 0);
    assert_string_equal(out, "name    n\n"
                             "------  -----\n"
                             "ab      12345\n"
                             "longer      7\n"
                             "(2 rows)\n");
    free(out);
}

static void test_cli_query_json_and_csv(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(q("--json \"SELECT 1 AS a, 'x\\\"y' AS b, NULL AS c, 2.5 AS d\"", &out, NULL), 0);
    assert_string_equal(out, "[{\"a\": 1, \"b\": \"x\\\"y\", \"c\": null, \"d\": 2.5}]\n");
    free(out);
    assert_int_equal(q("--csv \"SELECT 1 AS a, 'x,y' AS b, 'q\\\"' AS c, NULL AS d\"", &out, NULL), 0);
    assert_string_equal(out, "a,b,c,d\n1,\"x,y\",\"q\"\"\",\n");
    free(out);
}

static void test_cli_query_reads_the_analysis(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(q("--csv \"SELECT n_entries, entry_size, relative FROM jump_tables j JOIN functions f"
                       " ON j.function_id=f.id WHERE f.name='fx_dense_switch'\"", &out, NULL), 0);
    assert_string_equal(out, "n_entries,entry_size,relative\n10,4,1\n");
    free(out);
    assert_int_equal(q("--csv \"SELECT idx, p.name, class FROM params p JOIN functions f ON p.function_id=f.id"
                       " WHERE f.name='fx_mix' ORDER BY idx\"", &out, NULL), 0);
    assert_string_equal(out, "idx,name,class\n0,p,INTEGER+SSE\n1,d,SSE\n2,b,MEMORY\n3,q,SSE+SSE\n4,f,SSE\n"
                             "5,l,INTEGER\n");
    free(out);
}

static void test_cli_query_bad_sql_is_one_line_exit_1(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(q("'SELEC 1'", &out, &err), 1);
    assert_string_equal(err, "lineiform: query: near \"SELEC\": syntax error\n");
    free(out);
    free(err);
    assert_int_equal(q("'SELECT * FROM no_such_table'", NULL, &err), 1);
    assert_non_null(strstr(err, "no such table: no_such_table"));
    free(err);
}

static void test_cli_query_is_read_only(void **state)
{
    (void)state;
    size_t before_len, after_len;
    char *before = tu_read_file(db, &before_len), *err = NULL, *out = NULL;
    assert_int_equal(q("'DELETE FROM functions'", NULL, &err), 1);
    assert_non_null(strstr(err, "readonly"));
    free(err);
    assert_int_equal(q("'CREATE TABLE x(a)'", NULL, &err), 1);
    free(err);
    char *after = tu_read_file(db, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    free(before);
    free(after);
    assert_int_equal(q("--csv 'SELECT count(*) > 0 FROM functions'", &out, NULL), 0);
    assert_string_equal(out, "count(*) > 0\n1\n");
    free(out);
}

static void test_cli_query_missing_database(void **state)
{
    (void)state;
    char *err = NULL;
    const char *missing = tu_fmt("%s/none.db", tu_tmpdir());
    char m[512];
    snprintf(m, sizeof m, "%s", missing);
    assert_int_equal(tu_run(tu_fmt("%s query --db %s 'SELECT 1'", tu_build("lineiform"), m), NULL, &err), 1);
    assert_non_null(strstr(err, m));
    assert_non_null(strstr(err, "no metadata database"));
    free(err);
    assert_int_equal(tu_run(tu_fmt("%s query", tu_build("lineiform")), NULL, NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_query_prints_aligned_table),
        cmocka_unit_test(test_cli_query_json_and_csv),
        cmocka_unit_test(test_cli_query_reads_the_analysis),
        cmocka_unit_test(test_cli_query_bad_sql_is_one_line_exit_1),
        cmocka_unit_test(test_cli_query_is_read_only),
        cmocka_unit_test(test_cli_query_missing_database),
    };
    return cmocka_run_group_tests_name("cli_query", tests, q_setup, NULL);
}
