/* test_analyzer_zdebug.c -- compressed debug sections are read like plain
 * ones: testdata/analyzer/fixture.c built with gcc -g (plain), -gz
 * (SHF_COMPRESSED, DWARF 5 with .debug_rnglists) and -gz=zlib-gnu (the
 * .zdebug_* sections) gives the same prototypes; a corrupt compressed
 * section is a one-line error, not a crash. */
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

static const char *build(const char *name, const char *flags)
{
    const char *path = tu_fmt("%s/%s", tu_tmpdir(), name);
    char *err = NULL;
    if (tu_run(tu_fmt("gcc -O2 -g %s -o %s %s", flags, path, tu_src("testdata/analyzer/fixture.c")), NULL, &err))
        fail_msg("fixture build failed: %s", err ? err : "");
    free(err);
    return path;
}

static struct an_binary *open_ok(const char *path)
{
    struct an_binary *b = NULL;
    char e[256];
    if (an_open(path, 0, &b, e, sizeof e) != LF_OK) fail_msg("%s", e);
    return b;
}

static void same_prototypes(const struct an_binary *a, const struct an_binary *z)
{
    assert_true(z->has_dwarf);
    assert_true(a->n_with_proto > 0);
    assert_int_equal(z->n_with_proto, a->n_with_proto);
    const struct an_func *fa = an_func_by_name(a, "fx_dense_switch"), *fz = an_func_by_name(z, "fx_dense_switch");
    assert_non_null(fa);
    assert_non_null(fz);
    assert_int_equal(fz->has_proto, 1);
    assert_int_equal(fz->nparams, fa->nparams);
    for (int i = 0; i < fa->nparams; i++) {
        assert_string_equal(fz->params[i].ctype, fa->params[i].ctype);
        assert_string_equal(fz->params[i].name, fa->params[i].name);
    }
}

static void test_analyzer_gz_sections_give_the_plain_prototypes(void **state)
{
    (void)state;
    struct an_binary *a = open_ok(build("plain", "")), *z = open_ok(build("gz", "-gz"));
    same_prototypes(a, z);
    an_close(a);
    an_close(z);
}

static void test_analyzer_zdebug_sections_give_the_plain_prototypes(void **state)
{
    (void)state;
    struct an_binary *a = open_ok(build("plain2", "")), *z = open_ok(build("zgnu", "-gz=zlib-gnu"));
    same_prototypes(a, z);
    an_close(a);
    an_close(z);
}

static void test_analyzer_corrupt_compressed_section_is_an_error(void **state)
{
    (void)state;
    const char *path = build("gzbad", "-gz");
    char *out = NULL;
    /* the zlib stream of .debug_rnglists starts 24 bytes in (after its Elf64_Chdr) */
    assert_int_equal(tu_run(tu_fmt("readelf -SW %s | awk '$2==\".debug_rnglists\" {print $5}'", path), &out, NULL), 0);
    long off = strtol(out, NULL, 16);
    free(out);
    assert_true(off > 0);
    assert_int_equal(tu_run(tu_fmt("printf '\\377\\377\\377\\377' | dd of=%s bs=1 seek=%ld conv=notrunc status=none",
                                   path, off + 26), NULL, NULL), 0);
    struct an_binary *b = NULL;
    char e[256];
    assert_int_equal(an_open(path, 0, &b, e, sizeof e), LF_ERR_DWARF);
    assert_null(b);
    assert_non_null(strstr(e, "does not decompress"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_analyzer_gz_sections_give_the_plain_prototypes),
        cmocka_unit_test(test_analyzer_zdebug_sections_give_the_plain_prototypes),
        cmocka_unit_test(test_analyzer_corrupt_compressed_section_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
