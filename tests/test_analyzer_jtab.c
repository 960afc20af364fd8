/* test_analyzer_jtab.c -- jump tables recovered exactly: the fixture
 * testdata/analyzer/switches.c built by gcc and clang, PIE and not (8-, 16-
 * and 32-bit switch indexes, a computed-goto loop), and the dispatch loops
 * of three real interpreters of the system (lua5.4, CPython 3.11, SQLite). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/analyzer.h"
#include "tests/tutil.h"

enum { SW_GCC, SW_CLANG, SW_GCC_NOPIE, SW_CLANG_NOPIE, SW__MAX };
static const char *const sw_cmd[SW__MAX] = {
    "gcc -O2 -g -fpie -pie", "clang -O2 -g -fpie -pie", "gcc -O2 -g -fno-pic -no-pie", "clang -O2 -g -fno-pic -no-pie",
};
static struct an_binary *sw[SW__MAX];

static int sw_setup(void **state)
{
    (void)state;
    for (int i = 0; i < SW__MAX; i++) {
        const char *path = tu_fmt("%s/sw%d", tu_tmpdir(), i);
        char *err = NULL;
        if (tu_run(tu_fmt("%s -o %s %s", sw_cmd[i], path, tu_src("testdata/analyzer/switches.c")), NULL, &err)) {
            fprintf(stderr, "fixture build failed: %s\n", err ? err : "");
            return -1;
        }
        free(err);
        char e[256];
        if (an_open(path, 0, &sw[i], e, sizeof e) != LF_OK) {
            fprintf(stderr, "%s\n", e);
            return -1;
        }
    }
    return 0;
}

static int sw_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < SW__MAX; i++) an_close(sw[i]);
    return 0;
}

static const struct an_func *fn(const struct an_binary *b, const char *name)
{
    const struct an_func *f = an_func_by_name(b, name);
    if (!f) fail_msg("%s: no function %s", b->path, name);
    if (f->incomplete) fail_msg("%s: %s", name, f->incomplete);
    return f;
}

/* f's one table: its entry count and whether a guard bounds it. */
static void one_table(const struct an_func *f, unsigned n, int bounded, int i)
{
    if (f->cfg->n_jump_tables != 1) fail_msg("%s (%s): %u tables", f->name, sw_cmd[i], f->cfg->n_jump_tables);
    if (f->cfg->jump_tables[0].n_entries != n)
        fail_msg("%s (%s): %u entries, want %u", f->name, sw_cmd[i], f->cfg->jump_tables[0].n_entries, n);
    assert_int_equal(f->cfg->jump_tables[0].bounded, bounded);
}

static void test_analyzer_uint8_switch_guard_is_read_unsigned(void **state)
{
    (void)state;
    /* gcc: cmp dil, 0xb5; ja -> 182 entries.  clang rebases the index by
     * 128 and fills all 256 entries of the zero-extended byte. */
    for (int i = 0; i < SW__MAX; i++) {
        int gcc = i == SW_GCC || i == SW_GCC_NOPIE;
        one_table(fn(sw[i], "sw8"), gcc ? 182 : 256, gcc, i);
    }
}

static void test_analyzer_uint16_and_uint32_switches_have_41_entries(void **state)
{
    (void)state;
    for (int i = 0; i < SW__MAX; i++) {
        one_table(fn(sw[i], "sw16"), 41, 1, i);
        one_table(fn(sw[i], "sw32"), 41, 1, i);
    }
}

static void test_analyzer_dispatch_base_loaded_blocks_away_is_followed(void **state)
{
    (void)state;
    for (int i = 0; i < SW__MAX; i++) {
        const struct an_func *f = fn(sw[i], "vm");
        unsigned jmps = 0;
        for (unsigned k = 0; k < f->cfg->n_sites; k++) {
            if (f->cfg->sites[k].is_call) continue;
            jmps++;
            int t = f->cfg->sites[k].jump_table;
            if (t < 0) fail_msg("vm (%s): jmp at %#llx without a table", sw_cmd[i], (unsigned long long)f->cfg->sites[k].addr);
            assert_int_equal(f->cfg->jump_tables[t].n_entries, 16);
        }
        assert_true(jmps >= 1);
        assert_int_equal(f->cfg->n_jump_tables, jmps);
    }
}

/* -- Real interpreters ------------------------------------------------------------ */

static struct an_binary *open_or_skip(const char *path)
{
    if (access(path, R_OK)) {
        print_message("skipped: %s not installed\n", path);
        skip();
    }
    struct an_binary *b = NULL;
    char e[256];
    if (an_open(path, AN_OPEN_NO_DWARF, &b, e, sizeof e) != LF_OK) fail_msg("%s", e);
    return b;
}

/* Every table of f has n entries; returns how many tables. */
static unsigned tables_of(const struct an_func *f, unsigned n)
{
    if (f->incomplete) fail_msg("%s: %s", f->name, f->incomplete);
    for (unsigned k = 0; k < f->cfg->n_jump_tables; k++)
        if (f->cfg->jump_tables[k].n_entries != n)
            fail_msg("%s: table %u has %u entries, want %u", f->name, k, f->cfg->jump_tables[k].n_entries, n);
    return f->cfg->n_jump_tables;
}

static void test_analyzer_lua_execute_table_has_83_entries(void **state)
{
    (void)state;
    struct an_binary *b = open_or_skip("/usr/bin/lua5.4");
    const struct an_func *big = NULL; /* stripped: luaV_execute is the largest function */
    for (unsigned i = 0; i < b->n_funcs; i++)
        if (!big || b->funcs[i].size > big->size) big = &b->funcs[i];
    assert_true(tables_of(big, 83) >= 1);
    assert_int_equal(big->liftable, 1);
    an_close(b);
}

static void test_analyzer_cpython_eval_table_has_256_entries_into_cold(void **state)
{
    (void)state;
    struct an_binary *b = open_or_skip("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0");
    const struct an_func *f = an_func_by_name(b, "_PyEval_EvalFrameDefault");
    assert_non_null(f);
    assert_true(tables_of(f, 256) >= 100);
    /* entry 0 (CACHE, never executed) lands in the function's .cold part */
    uint64_t t0 = f->cfg->jump_tables[0].targets[0];
    assert_true(t0 < f->addr || t0 >= f->addr + f->size);
    const struct an_func *cold = an_func_at(b, t0);
    assert_non_null(cold);
    assert_int_equal(cold->parent_addr, f->addr);
    an_close(b);
}

static void test_analyzer_sqlite_vdbe_table_has_182_entries(void **state)
{
    (void)state;
    struct an_binary *b = open_or_skip("/usr/lib/x86_64-linux-gnu/libsqlite3.so.0");
    const struct an_func *f = an_func_by_name(b, "sqlite3VdbeExec");
    assert_non_null(f);
    int found = 0;
    for (unsigned k = 0; k < f->cfg->n_jump_tables; k++)
        found |= f->cfg->jump_tables[k].n_entries == 182 && f->cfg->jump_tables[k].bounded;
    assert_true(found);
    assert_null(f->incomplete);
    an_close(b);
}

int main(void)
{
    const struct CMUnitTest fixture[] = {
        cmocka_unit_test(test_analyzer_uint8_switch_guard_is_read_unsigned),
        cmocka_unit_test(test_analyzer_uint16_and_uint32_switches_have_41_entries),
        cmocka_unit_test(test_analyzer_dispatch_base_loaded_blocks_away_is_followed),
    };
    const struct CMUnitTest real[] = {
        cmocka_unit_test(test_analyzer_lua_execute_table_has_83_entries),
        cmocka_unit_test(test_analyzer_cpython_eval_table_has_256_entries_into_cold),
        cmocka_unit_test(test_analyzer_sqlite_vdbe_table_has_182_entries),
    };
    int r = cmocka_run_group_tests(fixture, sw_setup, sw_teardown);
    return r | cmocka_run_group_tests(real, NULL, NULL);
}
