/* test_analyzer_fixture.c -- exact facts the analyzer must find in
 * testdata/analyzer/fixture.c compiled at -O2 -g by gcc and by clang (PIE),
 * by gcc without PIE, and in a stripped copy: loops and nesting, the jump
 * table of a dense switch, a .cold part, a variadic function, struct and
 * double parameter classes, a noreturn call. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/analyzer.h"
#include "tests/tutil.h"

enum { FX_GCC, FX_CLANG, FX_GCC_NOPIE, FX_CLANG_NOPIE, FX__MAX };
static const char *const fx_cmd[FX__MAX] = {
    "gcc -O2 -g -fpie -pie", "clang -O2 -g -fpie -pie", "gcc -O2 -g -fno-pic -no-pie", "clang -O2 -g -fno-pic -no-pie",
};
static struct an_binary *fx[FX__MAX];
static char fx_path[FX__MAX][512];

static int fx_setup(void **state)
{
    (void)state;
    for (int i = 0; i < FX__MAX; i++) {
        snprintf(fx_path[i], sizeof fx_path[i], "%s/fx%d", tu_tmpdir(), i);
        char *err = NULL;
        if (tu_run(tu_fmt("%s -o %s %s", fx_cmd[i], fx_path[i], tu_src("testdata/analyzer/fixture.c")), NULL, &err)) {
            fprintf(stderr, "fixture build failed: %s\n", err ? err : "");
            return -1;
        }
        free(err);
        char e[256];
        if (an_open(fx_path[i], 0, &fx[i], e, sizeof e) != LF_OK) {
            fprintf(stderr, "%s\n", e);
            return -1;
        }
    }
    return 0;
}

static int fx_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < FX__MAX; i++) an_close(fx[i]);
    return 0;
}

static const struct an_func *fn(int i, const char *name)
{
    const struct an_func *f = an_func_by_name(fx[i], name);
    if (!f) fail_msg("%s: no function %s", fx_cmd[i], name);
    return f;
}

static void test_analyzer_counted_loop_is_one_loop_of_depth_1(void **state)
{
    (void)state;
    for (int i = 0; i < FX__MAX; i++) {
        const struct an_func *f = fn(i, "fx_counted_loop");
        assert_int_equal(f->n_loops, 1);
        assert_int_equal(f->cfg->loops[0].depth, 1);
        assert_int_equal(f->cfg->loops[0].parent, AN_NONE);
        assert_true(f->cfg->loops[0].n_back_edges >= 1);
    }
}

static void test_analyzer_nested_loops_have_depth_2(void **state)
{
    (void)state;
    for (int i = 0; i < FX__MAX; i++) {
        const struct an_func *f = fn(i, "fx_nested_loops");
        const struct an_cfg *c = f->cfg;
        assert_int_equal(c->n_loops, 2);
        assert_int_equal(c->loops[0].depth, 1);
        assert_int_equal(c->loops[1].depth, 2);
        assert_int_equal(c->loops[1].parent, 0);
        assert_true(c->loops[1].n_blocks < c->loops[0].n_blocks);
        /* the inner loop's blocks are all blocks of the outer loop, at depth 2 */
        for (unsigned k = 0; k < c->loops[1].n_blocks; k++) {
            const struct an_block *b = &c->blocks[c->loops[1].blocks[k]];
            assert_int_equal(b->loop_depth, 2);
            assert_int_equal(b->loop, 1);
        }
        /* the header dominates every block of its loop */
        for (unsigned k = 0; k < c->loops[0].n_blocks; k++) {
            uint32_t v = c->loops[0].blocks[k];
            while (v != c->loops[0].header && v != AN_NONE) v = c->blocks[v].idom;
            assert_int_equal(v, c->loops[0].header);
        }
    }
}

static void test_analyzer_dense_switch_has_10_entry_jump_table(void **state)
{
    (void)state;
    for (int i = 0; i < FX__MAX; i++) {
        const struct an_func *f = fn(i, "fx_dense_switch");
        const struct an_cfg *c = f->cfg;
        assert_int_equal(c->n_jump_tables, 1);
        const struct an_jump_table *t = &c->jump_tables[0];
        assert_int_equal(t->n_entries, 10);
        assert_int_equal(t->bounded, 1);
        int pie = i == FX_GCC || i == FX_CLANG;
        assert_int_equal(t->relative, pie);
        assert_int_equal(t->entry_size, pie ? 4 : 8);
        /* the table lives in .rodata; every target is a block of the function */
        const struct an_segment *seg = an_segment_at(fx[i], t->table);
        assert_non_null(seg);
        assert_int_equal(seg->flags & 3, 0); /* read-only, not executable */
        unsigned jt_edges = 0;
        for (unsigned e = 0; e < c->n_edges; e++) jt_edges += c->edges[e].kind == AN_EDGE_JUMPTABLE;
        assert_int_equal(jt_edges, 10);
        for (unsigned k = 0; k < t->n_entries; k++) assert_ptr_equal(an_func_at(fx[i], t->targets[k]), f);
        assert_int_equal(c->n_sites, 1);
        assert_int_equal(c->sites[0].jump_table, 0);
        assert_int_equal(c->sites[0].is_call, 0);
        assert_int_equal(c->n_loops, 0);
    }
}

static void test_analyzer_cold_part_is_tied_to_its_parent(void **state)
{
    (void)state;
    for (int i = 0; i < FX__MAX; i += 2) { /* gcc splits, clang does not */
        const struct an_func *p = fn(i, "fx_with_cold"), *cold = fn(i, "fx_with_cold.cold");
        assert_int_equal(cold->parent_addr, p->addr);
        assert_ptr_equal(an_func_at(fx[i], cold->addr + 1), cold);
        /* the parent's CFG reaches into the cold part */
        int reached = 0;
        for (unsigned k = 0; k < p->cfg->n_blocks; k++)
            reached |= p->cfg->blocks[k].addr >= cold->addr && p->cfg->blocks[k].addr < cold->addr + cold->size;
        assert_true(reached);
        assert_int_equal(p->parent_addr, 0);
    }
}

static void test_analyzer_variadic_prototype(void **state)
{
    (void)state;
    for (int i = 0; i < FX__MAX; i++) {
        const struct an_func *f = fn(i, "fx_sum_ints");
        assert_int_equal(f->has_proto, 1);
        assert_int_equal(f->variadic, 1);
        assert_int_equal(f->nparams, 1);
        assert_string_equal(f->params[0].name, "n");
        assert_string_equal(f->params[0].ctype, "int");
        assert_int_equal(f->params[0].cls[0], AN_ABI_INTEGER);
        assert_int_equal(f->ret.cls[0], AN_ABI_INTEGER);
        assert_int_equal(fn(i, "fx_counted_loop")->variadic, 0);
    }
}

static void test_analyzer_struct_and_double_params_get_sysv_classes(void **state)
{
    (void)state;
    static const struct { const char *ctype; enum an_abi_class c0, c1; uint64_t size; } want[] = {
        { "struct pair", AN_ABI_INTEGER, AN_ABI_SSE, 16 }, { "double", AN_ABI_SSE, AN_ABI_NONE, 8 },
        { "struct big", AN_ABI_MEMORY, AN_ABI_NONE, 24 },  { "struct pt", AN_ABI_SSE, AN_ABI_SSE, 16 },
        { "float", AN_ABI_SSE, AN_ABI_NONE, 4 },           { NULL, AN_ABI_INTEGER, AN_ABI_NONE, 8 },
    };
    for (int i = 0; i < FX__MAX; i++) {
        const struct an_func *f = fn(i, "fx_mix");
        assert_int_equal(f->nparams, 6);
        for (int k = 0; k < 6; k++) {
            if (want[k].ctype) assert_string_equal(f->params[k].ctype, want[k].ctype);
            assert_int_equal(f->params[k].cls[0], want[k].c0);
            assert_int_equal(f->params[k].cls[1], want[k].c1);
            assert_int_equal(f->params[k].size, want[k].size);
        }
        char buf[32];
        assert_string_equal(an_param_class_str(&f->params[0], buf, sizeof buf), "INTEGER+SSE");
        assert_int_equal(f->ret.cls[0], AN_ABI_SSE);
        const struct an_func *m = fn(i, "fx_make_pt");
        assert_string_equal(m->ret.ctype, "struct pt");
        assert_int_equal(m->ret.cls[0], AN_ABI_SSE);
        assert_int_equal(m->ret.cls[1], AN_ABI_SSE);
        assert_int_equal(m->nparams, 2);
        assert_int_equal(m->params[1].cls[0], AN_ABI_SSE);
        assert_int_equal(fn(i, "fx_die")->ret.cls[0], AN_ABI_NONE);
    }
}

static void test_analyzer_noreturn_call_ends_its_block(void **state)
{
    (void)state;
    for (int i = 0; i < FX__MAX; i++) {
        const struct an_func *die = fn(i, "fx_die"), *f = fn(i, "fx_checked");
        assert_int_equal(die->noreturn, 1);
        assert_int_equal(f->noreturn, 0);
        const struct an_cfg *c = f->cfg;
        int calls = 0;
        for (unsigned e = 0; e < c->n_edges; e++) {
            if (c->edges[e].kind != AN_EDGE_CALL || c->edges[e].target != die->addr) continue;
            calls++;
            for (unsigned x = 0; x < c->n_edges; x++)
                assert_false(c->edges[x].from == c->edges[e].from && c->edges[x].kind == AN_EDGE_FALLTHROUGH);
        }
        /* gcc and clang may tail-jump to fx_die instead of calling it */
        for (unsigned e = 0; e < c->n_edges; e++)
            calls += (c->edges[e].kind == AN_EDGE_BRANCH || c->edges[e].kind == AN_EDGE_COND) &&
                     c->edges[e].target == die->addr;
        assert_int_equal(calls, 1);
    }
}

static void test_analyzer_plt_stubs_are_named_after_relocations(void **state)
{
    (void)state;
    for (int i = 0; i < FX__MAX; i++) {
        const struct an_func *f = fn(i, "abort@plt");
        assert_int_equal(f->is_plt, 1);
        assert_string_equal(f->plt_target, "abort");
        assert_int_equal(f->source, AN_SRC_PLT);
        /* fx_with_cold calls abort@plt; the call ends the block (noreturn by name) */
        const struct an_func *p = fn(i, "fx_with_cold");
        int seen = 0;
        for (unsigned e = 0; e < p->cfg->n_edges; e++) seen |= p->cfg->edges[e].target == f->addr;
        assert_true(seen);
    }
}

static void test_analyzer_liftable_verdict_names_first_unsupported(void **state)
{
    (void)state;
    for (int i = 0; i < FX__MAX; i++) {
        for (unsigned k = 0; k < fx[i]->n_funcs; k++) {
            const struct an_func *f = &fx[i]->funcs[k];
            if (f->liftable < 0) continue;
            assert_int_equal(f->liftable == 0, f->unsupported_addr != 0);
            if (!f->liftable) {
                assert_non_null(f->unsupported_text);
                assert_non_null(an_func_at(fx[i], f->unsupported_addr));
            }
        }
        /* mov, add, ret: all in the table */
        assert_int_equal(fn(i, "fx_step")->liftable, 1);
    }
}

static void test_analyzer_stripped_binary_uses_eh_frame(void **state)
{
    (void)state;
    const char *s = tu_fmt("%s/fx_stripped", tu_tmpdir());
    assert_int_equal(tu_run(tu_fmt("strip -o %s %s", s, fx_path[FX_GCC]), NULL, NULL), 0);
    struct an_binary *b;
    char e[256];
    assert_int_equal(an_open(s, 0, &b, e, sizeof e), LF_OK);
    assert_int_equal(b->stripped, 1);
    assert_int_equal(b->has_dwarf, 0);
    const struct an_func *orig = fn(FX_GCC, "fx_dense_switch");
    const struct an_func *f = an_func_at(b, orig->addr);
    assert_non_null(f);
    assert_int_equal(f->addr, orig->addr);
    assert_int_equal(f->size, orig->size);
    assert_int_equal(f->source, AN_SRC_EH_FRAME);
    assert_int_equal(f->has_proto, 0);
    assert_int_equal(f->cfg->n_jump_tables, 1);
    assert_int_equal(f->cfg->jump_tables[0].n_entries, 10);
    assert_int_equal(an_func_at(b, fn(FX_GCC, "fx_nested_loops")->addr)->n_loops, 2);
    assert_non_null(an_func_by_name(b, "abort@plt"));
    an_close(b);
}

static void test_analyzer_no_cfg_mode_keeps_symbols_and_prototypes(void **state)
{
    (void)state;
    struct an_binary *b;
    char e[256];
    assert_int_equal(an_open(fx_path[FX_CLANG], AN_OPEN_NO_CFG, &b, e, sizeof e), LF_OK);
    assert_int_equal(b->n_funcs, fx[FX_CLANG]->n_funcs);
    const struct an_func *f = an_func_by_name(b, "fx_mix");
    assert_non_null(f);
    assert_null(f->cfg);
    assert_int_equal(f->liftable, -1);
    assert_int_equal(f->nparams, 6);
    assert_int_equal(f->params[0].cls[1], AN_ABI_SSE);
    /* the code bytes the lifter reads are the file's */
    size_t len;
    const uint8_t *p = an_bytes_at(b, f->addr, &len);
    assert_non_null(p);
    assert_true(len >= f->size);
    an_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_analyzer_counted_loop_is_one_loop_of_depth_1),
        cmocka_unit_test(test_analyzer_nested_loops_have_depth_2),
        cmocka_unit_test(test_analyzer_dense_switch_has_10_entry_jump_table),
        cmocka_unit_test(test_analyzer_cold_part_is_tied_to_its_parent),
        cmocka_unit_test(test_analyzer_variadic_prototype),
        cmocka_unit_test(test_analyzer_struct_and_double_params_get_sysv_classes),
        cmocka_unit_test(test_analyzer_noreturn_call_ends_its_block),
        cmocka_unit_test(test_analyzer_plt_stubs_are_named_after_relocations),
        cmocka_unit_test(test_analyzer_liftable_verdict_names_first_unsupported),
        cmocka_unit_test(test_analyzer_stripped_binary_uses_eh_frame),
        cmocka_unit_test(test_analyzer_no_cfg_mode_keeps_symbols_and_prototypes),
    };
    return cmocka_run_group_tests_name("analyzer_fixture", tests, fx_setup, fx_teardown);
}
