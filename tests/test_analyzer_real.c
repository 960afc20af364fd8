/* test_analyzer_real.c -- real binaries of the system, cross-checked with
 * readelf: libc.so.6 (symbols in .dynsym only) and /usr/bin/ls (stripped:
 * functions from .eh_frame FDEs). */
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

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define LS "/usr/bin/ls"

static unsigned count_lines(const char *s)
{
    unsigned n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

/* Distinct addresses of defined FUNC/IFUNC symbols, as readelf lists them. */
static unsigned readelf_func_addrs(const char *path)
{
    char *out = NULL;
    int rc = tu_run(tu_fmt("readelf -W --dyn-syms -s %s | awk '($4==\"FUNC\"||$4==\"IFUNC\") && $7!=\"UND\""
                           " && $2 !~ /^0+$/ {print $2}' | sort -u", path), &out, NULL);
    assert_int_equal(rc, 0);
    unsigned n = count_lines(out);
    free(out);
    return n;
}

static unsigned symbol_funcs(const struct an_binary *b)
{
    unsigned n = 0;
    for (unsigned i = 0; i < b->n_funcs; i++)
        n += b->funcs[i].source == AN_SRC_SYMTAB || b->funcs[i].source == AN_SRC_DYNSYM;
    return n;
}

/* Every FDE readelf lists starts a function of ours (or lies in a symbol's). */
static unsigned check_fdes(const struct an_binary *b, const char *path)
{
    char *out = NULL;
    assert_int_equal(tu_run(tu_fmt("readelf -wf %s | grep ' FDE '", path), &out, NULL), 0);
    unsigned n = 0;
    for (char *p = out; (p = strstr(p, "pc=")); p += 3, n++) {
        uint64_t lo = strtoull(p + 3, NULL, 16);
        const struct an_func *f = an_func_at(b, lo);
        if (!f) fail_msg("FDE at %#llx: no function", (unsigned long long)lo);
        if (f->source == AN_SRC_EH_FRAME) assert_int_equal(f->addr, lo);
    }
    free(out);
    return n;
}

static void check_invariants(const struct an_binary *b)
{
    for (unsigned i = 0; i < b->n_funcs; i++) {
        const struct an_func *f = &b->funcs[i];
        if (i) assert_true(b->funcs[i - 1].addr < f->addr); /* sorted, one per address */
        if (!f->cfg || !f->cfg->n_blocks) continue;
        const struct an_cfg *c = f->cfg;
        assert_true(c->entry < c->n_blocks);
        assert_int_equal(c->blocks[c->entry].addr, f->addr);
        for (unsigned e = 0; e < c->n_edges; e++) {
            assert_true(c->edges[e].from < c->n_blocks);
            assert_true(c->edges[e].to == AN_NONE || c->edges[e].to < c->n_blocks);
            if (e) assert_true(c->edges[e - 1].from <= c->edges[e].from);
        }
        for (unsigned l = 0; l < c->n_loops; l++)
            assert_true(c->loops[l].parent == AN_NONE || c->loops[l].parent < l);
    }
}

static void test_analyzer_libc_matches_readelf(void **state)
{
    (void)state;
    struct an_binary *b;
    char e[256];
    assert_int_equal(an_open(LIBC, 0, &b, e, sizeof e), LF_OK);
    assert_int_equal(symbol_funcs(b), readelf_func_addrs(LIBC));
    assert_int_equal(b->n_fdes, check_fdes(b, LIBC));
    assert_int_equal(b->e_type, 3 /* ET_DYN */);
    assert_string_not_equal(b->build_id, "");
    const struct an_func *m = an_func_by_name(b, "malloc");
    assert_non_null(m);
    assert_true(m->size > 0 && m->n_blocks > 1);
    assert_ptr_equal(an_func_at(b, m->addr + m->size - 1), m);
    check_invariants(b);
    unsigned loops = 0, tables = 0;
    for (unsigned i = 0; i < b->n_funcs; i++)
        if (b->funcs[i].cfg) { loops += b->funcs[i].n_loops; tables += b->funcs[i].cfg->n_jump_tables; }
    assert_true(loops > 0);
    assert_true(tables > 0);
    an_close(b);
}

static void test_analyzer_stripped_ls_matches_readelf_fdes(void **state)
{
    (void)state;
    struct an_binary *b;
    char e[256];
    assert_int_equal(an_open(LS, 0, &b, e, sizeof e), LF_OK);
    assert_int_equal(b->stripped, 1);
    assert_int_equal(b->n_fdes, check_fdes(b, LS));
    assert_int_equal(symbol_funcs(b), readelf_func_addrs(LS));
    unsigned eh = 0, plt = 0;
    for (unsigned i = 0; i < b->n_funcs; i++) {
        eh += b->funcs[i].source == AN_SRC_EH_FRAME;
        plt += b->funcs[i].is_plt;
    }
    assert_true(eh > 100);
    /* each PLT stub is named after a JUMP_SLOT/GLOB_DAT relocation */
    char *out = NULL;
    assert_int_equal(tu_run("readelf -rW " LS " | grep -c 'JUMP_SLO'", &out, NULL), 0);
    assert_true(plt >= (unsigned)atoi(out));
    free(out);
    assert_non_null(an_func_by_name(b, "malloc@plt"));
    check_invariants(b);
    an_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_analyzer_libc_matches_readelf),
        cmocka_unit_test(test_analyzer_stripped_ls_matches_readelf_fdes),
    };
    return cmocka_run_group_tests_name("analyzer_real", tests, NULL, NULL);
}
