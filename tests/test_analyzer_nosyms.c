/* test_analyzer_nosyms.c -- binaries that name no function: the fixture
 * built static, stripped of its symbols and of .eh_frame (as static Go or
 * Free Pascal programs come), then also without section headers.  The
 * functions come from the entry point and calls, each at the address of a
 * symbol of the unstripped build or in its .plt; main and the fixture's
 * functions are among them.  A build stripped of its symbols but not of its
 * DWARF names its FDE-only functions after DWARF, a stripped Go program
 * after its .gopclntab (testdata/analyzer/gopclntab.c).  Also: libc.so.6 is a
 * shared object, not a PIE executable, though it has an interpreter. */
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

static char full[512], bare[512], noshdr[512];

static int ns_setup(void **state)
{
    (void)state;
    snprintf(full, sizeof full, "%s/st", tu_tmpdir());
    snprintf(bare, sizeof bare, "%s/st_bare", tu_tmpdir());
    snprintf(noshdr, sizeof noshdr, "%s/st_noshdr", tu_tmpdir());
    char *err = NULL;
    /* e_shoff (8 bytes at 0x28), e_shentsize, e_shnum, e_shstrndx (0x3a..0x3f) zeroed */
    const char *cmd = tu_fmt("gcc -O2 -static -fno-asynchronous-unwind-tables -o %s %s && "
                             "strip -s -R .eh_frame -R .eh_frame_hdr -o %s %s && cp %s %s && "
                             "printf '\\0\\0\\0\\0\\0\\0\\0\\0' | dd of=%s bs=1 seek=40 conv=notrunc status=none && "
                             "printf '\\0\\0\\0\\0\\0\\0' | dd of=%s bs=1 seek=58 conv=notrunc status=none",
                             full, tu_src("testdata/analyzer/fixture.c"), bare, full, bare, noshdr, noshdr, noshdr);
    if (tu_run(cmd, NULL, &err)) {
        fprintf(stderr, "fixture build failed: %s\n", err ? err : "");
        return -1;
    }
    free(err);
    return 0;
}

static struct an_binary *open_ok(const char *path)
{
    struct an_binary *b = NULL;
    char e[256];
    if (an_open(path, 0, &b, e, sizeof e) != LF_OK) fail_msg("%s", e);
    return b;
}

static uint64_t sym(const struct an_binary *b, const char *name)
{
    const struct an_func *f = an_func_by_name(b, name);
    if (!f) fail_msg("no symbol %s", name);
    return f->addr;
}

static void functions_from_calls(const char *path)
{
    struct an_binary *f = open_ok(full), *b = open_ok(path);
    uint64_t plt_lo = 0, plt_hi = 0;
    for (unsigned i = 0; i < f->n_sections; i++)
        if (!strcmp(f->sections[i].name, ".plt")) {
            plt_lo = f->sections[i].addr;
            plt_hi = plt_lo + f->sections[i].size;
        }
    assert_true(b->n_funcs >= 100);
    for (unsigned i = 0; i < b->n_funcs; i++) {
        uint64_t a = b->funcs[i].addr;
        assert_int_equal(b->funcs[i].source, AN_SRC_CALLS);
        const struct an_func *g = an_func_at(f, a);
        if ((a < plt_lo || a >= plt_hi) && (!g || g->addr != a))
            fail_msg("%s: function at %#llx is at no symbol", path, (unsigned long long)a);
    }
    const char *want[] = { "main", "fx_counted_loop", "fx_dense_switch", "fx_step" };
    for (unsigned k = 0; k < 4; k++) {
        const struct an_func *g = an_func_at(b, sym(f, want[k]));
        if (!g || g->addr != sym(f, want[k])) fail_msg("%s: %s not found", path, want[k]);
        assert_true(g->n_blocks >= 1);
    }
    an_close(f);
    an_close(b);
}

static void test_analyzer_no_symbols_no_eh_frame_starts_from_entry(void **state)
{
    (void)state;
    functions_from_calls(bare);
}

static void test_analyzer_no_section_headers_reads_program_headers(void **state)
{
    (void)state;
    functions_from_calls(noshdr);
}

static void test_analyzer_dwarf_names_functions_of_a_stripped_symtab(void **state)
{
    (void)state;
    const char *dw = tu_fmt("%s/dw", tu_tmpdir()), *out = tu_fmt("%s/dw_nosym", tu_tmpdir());
    char *err = NULL;
    /* strip every symbol, keep every .debug_* section */
    const char *cmd = tu_fmt("gcc -O2 -g -o %s %s && strip --strip-all $(readelf -SW %s | grep -o '\\.debug_[a-z_]*' "
                             "| sort -u | sed 's/^/--keep-section=/') -o %s %s",
                             dw, tu_src("testdata/analyzer/fixture.c"), dw, out, dw);
    if (tu_run(cmd, NULL, &err)) fail_msg("build failed: %s", err ? err : "");
    free(err);
    for (int iso = 0; iso < 2; iso++) {
        struct an_binary *b = NULL;
        char e[256];
        if (an_open(out, iso ? AN_OPEN_ISOLATE : 0, &b, e, sizeof e) != LF_OK) fail_msg("%s", e);
        assert_true(b->stripped);
        const char *want[] = { "main", "fx_counted_loop", "fx_dense_switch", "fx_step" };
        for (unsigned k = 0; k < 4; k++) {
            const struct an_func *f = an_func_by_name(b, want[k]);
            if (!f) fail_msg("%s: no function named %s (isolated %d)", out, want[k], iso);
            assert_int_equal(f->source, AN_SRC_EH_FRAME);
            assert_string_equal(f->name, want[k]);
            assert_int_equal(f->has_proto, 1);
        }
        an_close(b);
    }
}

static void test_analyzer_stripped_go_functions_come_from_gopclntab(void **state)
{
    (void)state;
    const char *full = tu_fmt("%s/go", tu_tmpdir()), *out = tu_fmt("%s/go_s", tu_tmpdir());
    char *err = NULL;
    if (tu_run(tu_fmt("gcc -O2 -fno-asynchronous-unwind-tables -fno-pie -no-pie -o %s %s && "
                      "strip -s -R .eh_frame -R .eh_frame_hdr -o %s %s",
                      full, tu_src("testdata/analyzer/gopclntab.c"), out, full), NULL, &err))
        fail_msg("build failed: %s", err ? err : "");
    free(err);
    struct an_binary *b = open_ok(out);
    const struct an_func *one = an_func_by_name(b, "main.one"), *two = an_func_by_name(b, "main.two");
    assert_non_null(one);
    assert_non_null(two);
    assert_int_equal(one->source, AN_SRC_GOPCLNTAB);
    assert_int_equal(one->size, two->addr - one->addr);
    assert_int_equal(two->size, 9); /* call rel32; add rax, rax; ret */
    assert_int_equal(two->liftable, 1);
    assert_int_equal(two->cfg->n_edges, 1); /* the call to main.one */
    assert_int_equal(two->cfg->edges[0].target, one->addr);
    an_close(b);
}

static void test_analyzer_libc_is_a_shared_object(void **state)
{
    (void)state;
    struct an_binary *b = NULL;
    char e[256];
    assert_int_equal(an_open("/lib/x86_64-linux-gnu/libc.so.6", AN_OPEN_NO_CFG, &b, e, sizeof e), LF_OK);
    assert_int_equal(b->pie, 0);
    an_close(b);
    assert_int_equal(an_open("/usr/bin/ls", AN_OPEN_NO_CFG, &b, e, sizeof e), LF_OK);
    assert_int_equal(b->pie, 1);
    an_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_analyzer_no_symbols_no_eh_frame_starts_from_entry),
        cmocka_unit_test(test_analyzer_no_section_headers_reads_program_headers),
        cmocka_unit_test(test_analyzer_dwarf_names_functions_of_a_stripped_symtab),
        cmocka_unit_test(test_analyzer_stripped_go_functions_come_from_gopclntab),
        cmocka_unit_test(test_analyzer_libc_is_a_shared_object),
    };
    return cmocka_run_group_tests(tests, ns_setup, NULL);
}
