/* test_analyzer_store.c -- the sqlite store holds exactly what the
 * in-memory analysis found, addresses as offsets from the load base, one
 * binary's rows replaced (never duplicated) when stored again, and a cache
 * lookup keyed by path + build-id + content hash. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/an_store.h"
#include "analyzer/analyzer.h"
#include "tests/tutil.h"

static char fx_nopie[512], fx_pie[512];

static int st_setup(void **state)
{
    (void)state;
    snprintf(fx_nopie, sizeof fx_nopie, "%s/fx_nopie", tu_tmpdir());
    snprintf(fx_pie, sizeof fx_pie, "%s/fx_pie", tu_tmpdir());
    const char *src = tu_src("testdata/analyzer/fixture.c");
    if (tu_run(tu_fmt("gcc -O2 -g -fno-pic -no-pie -o %s %s", fx_nopie, src), NULL, NULL)) return -1;
    if (tu_run(tu_fmt("clang -O2 -g -fpie -pie -o %s %s", fx_pie, src), NULL, NULL)) return -1;
    return 0;
}

static int64_t q1(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static void store(const char *db_path, const char *bin, struct an_binary **out)
{
    struct an_db *db;
    char e[512];
    assert_int_equal(an_open(bin, 0, out, e, sizeof e), LF_OK);
    assert_int_equal(an_db_open(db_path, 0, &db, e, sizeof e), LF_OK);
    assert_int_equal(an_db_store(db, bin, *out, 1.0, e, sizeof e), LF_OK);
    an_db_close(db);
}

static void test_store_rows_match_the_analysis(void **state)
{
    (void)state;
    const char *dbp = tu_fmt("%s/a.db", tu_tmpdir());
    struct an_binary *b;
    store(dbp, fx_nopie, &b);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(dbp, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    struct an_db_summary s;
    an_summarize(b, &s);
    assert_int_equal(q1(db, "SELECT count(*) FROM functions"), b->n_funcs);
    assert_int_equal(q1(db, "SELECT count(*) FROM blocks"), s.n_blocks);
    assert_int_equal(q1(db, "SELECT count(*) FROM edges"), s.n_edges);
    assert_int_equal(q1(db, "SELECT count(*) FROM loops"), s.n_loops);
    assert_int_equal(q1(db, "SELECT count(*) FROM indirect_sites"), s.n_indirect);
    assert_int_equal(q1(db, "SELECT n_functions FROM binaries"), b->n_funcs);
    /* non-PIE: load base 0x400000, addresses stored relative to it */
    assert_int_equal(q1(db, "SELECT load_base FROM binaries"), 0x400000);
    const struct an_func *f = an_func_by_name(b, "fx_nested_loops");
    assert_int_equal(q1(db, "SELECT addr FROM functions WHERE name='fx_nested_loops'"), f->addr - 0x400000);
    assert_int_equal(q1(db, "SELECT max(l.depth) FROM loops l JOIN functions f ON l.function_id=f.id"
                            " WHERE f.name='fx_nested_loops'"), 2);
    assert_int_equal(q1(db, "SELECT count(*) FROM loops l JOIN loops p ON l.parent_id=p.id JOIN functions f"
                            " ON l.function_id=f.id WHERE f.name='fx_nested_loops'"), 1);
    assert_int_equal(q1(db, "SELECT j.n_entries FROM jump_tables j JOIN functions f ON j.function_id=f.id"
                            " WHERE f.name='fx_dense_switch'"), 10);
    assert_int_equal(q1(db, "SELECT count(*) FROM jump_table_targets t JOIN jump_tables j ON"
                            " t.jump_table_id=j.id JOIN functions f ON j.function_id=f.id WHERE"
                            " f.name='fx_dense_switch' AND t.block_id IS NOT NULL"), 10);
    assert_int_equal(q1(db, "SELECT count(*) FROM params p JOIN functions f ON p.function_id=f.id"
                            " WHERE f.name='fx_mix' AND p.class IN ('INTEGER+SSE','SSE+SSE')"), 2);
    assert_int_equal(q1(db, "SELECT variadic FROM functions WHERE name='fx_sum_ints'"), 1);
    assert_int_equal(q1(db, "SELECT p.name='fx_with_cold' FROM functions c JOIN functions p ON"
                            " c.parent_id=p.id WHERE c.name='fx_with_cold.cold'"), 1);
    assert_int_equal(q1(db, "SELECT count(*) FROM functions WHERE liftable=0 AND unsupported IS NULL"), 0);
    sqlite3_close(db);
    an_close(b);
}

static void test_store_again_replaces_rows_and_keeps_others(void **state)
{
    (void)state;
    const char *dbp = tu_fmt("%s/b.db", tu_tmpdir());
    struct an_binary *a, *b;
    store(dbp, fx_nopie, &a);
    an_close(a);
    store(dbp, fx_pie, &b);
    store(dbp, fx_nopie, &a); /* again: replaced, not duplicated */
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(dbp, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    struct an_db_summary sa, sb;
    an_summarize(a, &sa);
    an_summarize(b, &sb);
    assert_int_equal(q1(db, "SELECT count(*) FROM binaries"), 2);
    assert_int_equal(q1(db, "SELECT count(*) FROM functions"), a->n_funcs + b->n_funcs);
    assert_int_equal(q1(db, "SELECT count(*) FROM blocks"), sa.n_blocks + sb.n_blocks);
    assert_int_equal(q1(db, "SELECT count(*) FROM loop_blocks lb LEFT JOIN loops l ON lb.loop_id=l.id"
                            " WHERE l.id IS NULL"), 0);
    assert_int_equal(q1(db, "SELECT count(*) FROM edges e LEFT JOIN blocks k ON e.from_block=k.id"
                            " WHERE k.id IS NULL"), 0);
    assert_int_equal(q1(db, "SELECT load_base FROM binaries WHERE pie=1"), 0);
    sqlite3_close(db);
    an_close(a);
    an_close(b);
}

static void test_store_lookup_needs_same_build_id_and_hash(void **state)
{
    (void)state;
    const char *dbp = tu_fmt("%s/c.db", tu_tmpdir());
    struct an_binary *b;
    store(dbp, fx_pie, &b);
    struct an_db *db;
    struct an_db_summary s;
    char e[256];
    assert_int_equal(an_db_open(dbp, 1, &db, e, sizeof e), LF_OK);
    assert_int_equal(an_db_lookup(db, fx_pie, b->build_id, b->content_hash, &s, e, sizeof e), 1);
    assert_int_equal(s.n_functions, b->n_funcs);
    assert_int_equal(an_db_lookup(db, fx_pie, b->build_id, "0000000000000000", &s, e, sizeof e), 0);
    assert_int_equal(an_db_lookup(db, fx_nopie, b->build_id, b->content_hash, &s, e, sizeof e), 0);
    an_db_close(db);
    an_close(b);
}

static void test_store_refuses_a_file_that_is_not_a_database(void **state)
{
    (void)state;
    const char *dbp = tu_fmt("%s/junk.db", tu_tmpdir());
    static const char junk[] = "this is not an sqlite database, just some text that is long enough\n";
    assert_int_equal(tu_write_file(dbp, junk, sizeof junk - 1), 0);
    struct an_db *db = NULL;
    char e[512];
    assert_int_equal(an_db_open(dbp, 0, &db, e, sizeof e), LF_ERR_DB);
    assert_null(db);
    assert_non_null(strstr(e, dbp));
    size_t len;
    char *after = tu_read_file(dbp, &len);
    assert_int_equal(len, sizeof junk - 1);
    assert_memory_equal(after, junk, len); /* left intact */
    free(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_rows_match_the_analysis),
        cmocka_unit_test(test_store_again_replaces_rows_and_keeps_others),
        cmocka_unit_test(test_store_lookup_needs_same_build_id_and_hash),
        cmocka_unit_test(test_store_refuses_a_file_that_is_not_a_database),
    };
    return cmocka_run_group_tests_name("analyzer_store", tests, st_setup, NULL);
}
