/* test_cli_query.c -- 'lineiform query': aligned table, JSON and CSV of
 * exactly the rows sqlite returns, read-only (writes refused, database
 * unchanged), bad SQL and a missing database as one-line errors, exit 1;
 * with other processes: a writer's lock is waited for, then "busy" (also
 * for analyze), a hot journal left by a killed writer is rolled back
 * rather than refused; CSV streams its rows (bounded memory), JSON is valid
 * whatever the values (infinity, blobs, invalid UTF-8, NUL). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* A child that holds an exclusive lock on path for ms milliseconds. */
static pid_t hold_lock(const char *path, int ms)
{
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sqlite3 *h;
        if (sqlite3_open(path, &h) != SQLITE_OK || sqlite3_exec(h, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK)
            _exit(1);
        (void)!write(ready[1], "x", 1);
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(h);
        _exit(0);
    }
    char c;
    close(ready[1]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    return pid;
}

static void reap(pid_t pid)
{
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Before: query failed at once with "database is locked". */
static void test_cli_query_waits_for_a_writers_lock(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    pid_t h = hold_lock(db, 800);
    assert_int_equal(q("\"SELECT count(*) AS n FROM binaries\"", &out, &err), 0);
    assert_non_null(strstr(out, "(1 row)"));
    reap(h);
    free(out);
    free(err);
}

/* Past the wait ($LINEIFORM_DB_TIMEOUT), query and analyze say "busy" (analyze
 * said "not a usable database: database is locked" after 5 s). */
static void test_cli_busy_database_is_called_busy(void **state)
{
    (void)state;
    char *err = NULL;
    pid_t h = hold_lock(db, 3000);
    assert_int_equal(tu_run(tu_fmt("LINEIFORM_DB_TIMEOUT=0.3 %s query --db %s 'SELECT 1 FROM binaries'",
                                   tu_build("lineiform"), db), NULL, &err), 1);
    assert_non_null(strstr(err, "busy"));
    assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
    free(err);
    assert_int_equal(tu_run(tu_fmt("LINEIFORM_DB_TIMEOUT=0.3 %s analyze --force --db %s %s/fx", tu_build("lineiform"),
                                   db, tu_tmpdir()), NULL, &err), 1);
    assert_non_null(strstr(err, "busy"));
    assert_non_null(strstr(err, db));
    free(err);
    reap(h);
}

/* A writer killed mid-transaction leaves a hot journal; a read-only
 * connection cannot roll it back ("attempt to write a readonly database"). */
static void test_cli_query_reads_a_database_with_a_hot_journal(void **state)
{
    (void)state;
    char copy[600], *before = NULL, *after = NULL, *err = NULL;
    snprintf(copy, sizeof copy, "%s/hot.db", tu_tmpdir());
    assert_int_equal(tu_run(tu_fmt("cp %s %s", db, copy), NULL, NULL), 0);
    const char *sql = "\"SELECT count(*) AS n, sum(size) AS s FROM functions\"";
    assert_int_equal(tu_run(tu_fmt("%s query --db %s %s", tu_build("lineiform"), copy, sql), &before, NULL), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* change pages past a one-page cache (so they reach the file), then die */
        sqlite3 *h;
        if (sqlite3_open(copy, &h) != SQLITE_OK) _exit(1);
        sqlite3_exec(h, "PRAGMA cache_size=1; BEGIN; UPDATE functions SET size = size + 1; DELETE FROM blocks;",
                     NULL, NULL, NULL);
        kill(getpid(), SIGKILL);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(access(tu_fmt("%s-journal", copy), F_OK), 0); /* hot */
    int rc = tu_run(tu_fmt("%s query --db %s %s", tu_build("lineiform"), copy, sql), &after, &err);
    if (rc != 0) fail_msg("status %d: %s", rc, err);
    assert_string_equal(before, after); /* rolled back */
    free(before);
    free(after);
    free(err);
}

/* Three million rows through --csv under a 200 MB address-space limit: the
 * rows were all kept in memory before (885 MB for the query). */
static void test_cli_query_csv_streams_its_rows(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip(); /* the sanitizers' shadow memory needs more than the limit */
#endif
    char *out = NULL, *err = NULL;
    int rc = tu_run(tu_fmt("ulimit -v 200000; %s query --db %s --csv \"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
                           "SELECT x + 1 FROM c LIMIT 3000000) SELECT x, 'a value of some length' AS v FROM c\" "
                           "| tail -n 1", tu_build("lineiform"), db), &out, &err);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "3000000,a value of some length\n");
    free(out);
    free(err);
}

/* Python's json module (strict: allow_nan off) must read what --json
 * writes, and get the values back. */
static void test_cli_query_json_is_valid_for_any_value(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    int rc = tu_run(tu_fmt("%s query --db %s --json \"SELECT 1e999 AS inf, -1e999 AS ninf, x'00ff41' AS blob, "
                           "cast(x'ff41c3a9' AS text) AS bad, 'a' || char(0) || 'b' AS nul, 0.1 AS r, "
                           "char(233) AS e\" | python3 -c 'import json,sys; "
                           "v = json.loads(sys.stdin.read(), parse_constant=lambda c: sys.exit(\"bare \" + c))[0]; "
                           "print(v[\"inf\"], v[\"ninf\"], v[\"blob\"], ascii(v[\"bad\"]), "
                           "ascii(v[\"nul\"]), v[\"r\"], ascii(v[\"e\"]))'", tu_build("lineiform"), db),
                    &out, &err);
    if (rc != 0) fail_msg("status %d: %s", rc, err);
    assert_string_equal(out, "inf -inf x'00ff41' '\\ufffdA\\xe9' 'a\\x00b' 0.1 '\\xe9'\n");
    free(out);
    free(err);
}

/* query_only lets PRAGMA journal_mode=WAL and VACUUM INTO through; each
 * statement is checked before it runs. */
static void test_cli_query_refuses_statements_that_would_write(void **state)
{
    (void)state;
    char *err = NULL, *out = NULL;
    assert_int_equal(q("\"PRAGMA journal_mode=WAL\"", NULL, &err), 1);
    assert_non_null(strstr(err, "readonly"));
    free(err);
    assert_int_equal(q(tu_fmt("\"VACUUM INTO '%s/v.db'\"", tu_tmpdir()), NULL, &err), 1);
    assert_int_not_equal(access(tu_fmt("%s/v.db", tu_tmpdir()), F_OK), 0);
    free(err);
    assert_int_equal(q("\"PRAGMA table_info(binaries)\"", &out, NULL), 0); /* reading pragmas run */
    assert_non_null(strstr(out, "build_id"));
    free(out);
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
        cmocka_unit_test(test_cli_query_waits_for_a_writers_lock),
        cmocka_unit_test(test_cli_busy_database_is_called_busy),
        cmocka_unit_test(test_cli_query_reads_a_database_with_a_hot_journal),
        cmocka_unit_test(test_cli_query_csv_streams_its_rows),
        cmocka_unit_test(test_cli_query_json_is_valid_for_any_value),
        cmocka_unit_test(test_cli_query_refuses_statements_that_would_write),
    };
    return cmocka_run_group_tests_name("cli_query", tests, q_setup, NULL);
}
