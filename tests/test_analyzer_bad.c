/* test_analyzer_bad.c -- an_open on bad input: a status and one line
 * naming the file, never a crash; the DWARF pass isolated in a child
 * (AN_OPEN_ISOLATE) turns a libdwarf crash into ERR_DWARF and otherwise
 * gives exactly the in-process prototypes. */
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

static void expect_fail(const char *path, unsigned flags, enum lf_status want, const char *what)
{
    struct an_binary *b = (struct an_binary *)1;
    char e[512];
    assert_int_equal(an_open(path, flags, &b, e, sizeof e), want);
    assert_null(b);
    assert_null(strchr(e, '\n'));
    if (strncmp(e, path, strlen(path)) != 0 || !strstr(e, what)) fail_msg("error '%s'", e);
}

static void test_bad_libdwarf_crash_input_is_a_dwarf_error(void **state)
{
    (void)state;
    /* found by tests/fuzz/fuzz_elf.c: libdwarf frees twice in its
     * .debug_rnglists loader on this file; the unit headers are now checked
     * before libdwarf sees them, in-process and isolated alike */
    char p[512];
    snprintf(p, sizeof p, "%s", tu_src("testdata/analyzer/rnglists_double_free.elf"));
    expect_fail(p, AN_OPEN_ISOLATE, LF_ERR_DWARF, "corrupt DWARF");
    expect_fail(p, 0, LF_ERR_DWARF, "malformed .debug_rnglists unit at offset 0");
    /* without DWARF the same file analyzes */
    struct an_binary *b;
    char e[256];
    assert_int_equal(an_open(p, AN_OPEN_NO_DWARF, &b, e, sizeof e), LF_OK);
    assert_true(b->n_funcs > 0);
    an_close(b);
}

static void test_bad_isolated_dwarf_gives_same_prototypes(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof p, "%s/fx", tu_tmpdir());
    assert_int_equal(tu_run(tu_fmt("gcc -O2 -g -o %s %s", p, tu_src("testdata/analyzer/fixture.c")), NULL, NULL), 0);
    struct an_binary *a, *b;
    char e[256];
    assert_int_equal(an_open(p, 0, &a, e, sizeof e), LF_OK);
    assert_int_equal(an_open(p, AN_OPEN_ISOLATE, &b, e, sizeof e), LF_OK);
    assert_int_equal(a->n_with_proto, b->n_with_proto);
    assert_int_equal(a->n_funcs, b->n_funcs);
    for (unsigned i = 0; i < a->n_funcs; i++) {
        const struct an_func *x = &a->funcs[i], *y = &b->funcs[i];
        assert_int_equal(x->has_proto, y->has_proto);
        assert_int_equal(x->nparams, y->nparams);
        assert_int_equal(x->variadic, y->variadic);
        assert_int_equal(x->noreturn, y->noreturn);
        assert_int_equal(x->n_blocks, y->n_blocks);
        if (x->has_proto) assert_string_equal(x->ret.ctype, y->ret.ctype);
        for (int k = 0; k < x->nparams; k++) {
            assert_string_equal(x->params[k].name, y->params[k].name);
            assert_string_equal(x->params[k].ctype, y->params[k].ctype);
            assert_int_equal(x->params[k].cls[0], y->params[k].cls[0]);
            assert_int_equal(x->params[k].cls[1], y->params[k].cls[1]);
        }
    }
    an_close(a);
    an_close(b);
}

static void test_bad_inputs_get_status_and_one_line(void **state)
{
    (void)state;
    char dir[512], txt[512], empty[512], trunc[512], missing[512];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    snprintf(txt, sizeof txt, "%s/t.txt", tu_tmpdir());
    snprintf(empty, sizeof empty, "%s/empty", tu_tmpdir());
    snprintf(trunc, sizeof trunc, "%s/trunc", tu_tmpdir());
    snprintf(missing, sizeof missing, "%s/missing", tu_tmpdir());
    assert_int_equal(tu_write_file(txt, "#!/bin/sh\necho hi\n", 18), 0);
    assert_int_equal(tu_write_file(empty, "", 0), 0);
    size_t len;
    char *ls = tu_read_file("/usr/bin/ls", &len);
    assert_non_null(ls);
    assert_int_equal(tu_write_file(trunc, ls, 40), 0); /* inside the ELF header */
    expect_fail(missing, 0, LF_ERR_INVALID_ARG, "No such file");
    expect_fail(dir, 0, LF_ERR_INVALID_ARG, "is a directory");
    expect_fail(txt, 0, LF_ERR_NOT_ELF, "not an ELF file");
    expect_fail(empty, 0, LF_ERR_NOT_ELF, "empty file");
    expect_fail(trunc, 0, LF_ERR_TRUNCATED, "truncated");
    for (size_t cut = 64; cut < len; cut += len / 7) { /* every cut fails cleanly or succeeds */
        assert_int_equal(tu_write_file(trunc, ls, cut), 0);
        struct an_binary *b = NULL;
        char e[512];
        enum lf_status s = an_open(trunc, AN_OPEN_ISOLATE, &b, e, sizeof e);
        if (s == LF_OK) an_close(b);
        else assert_non_null(strstr(e, trunc));
    }
    free(ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_libdwarf_crash_input_is_a_dwarf_error),
        cmocka_unit_test(test_bad_isolated_dwarf_gives_same_prototypes),
        cmocka_unit_test(test_bad_inputs_get_status_and_one_line),
    };
    return cmocka_run_group_tests_name("analyzer_bad", tests, NULL, NULL);
}
