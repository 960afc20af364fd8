/* test_analyzer_types.c -- DWARF prototypes beyond the fixture: a program
 * with 600 distinct struct types (more than the type cache's first sizes)
 * gets every prototype, each with the class its struct layout implies (a
 * cache that did not grow once hung here); a gcc clone gets none. */
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

#define NTYPES 600

/* struct sK: K%3 == 0 {long; double} INTEGER+SSE, 1 {double; double}
 * SSE+SSE, 2 {long a[3]} MEMORY; function fK(struct sK, int) */
static void write_source(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int k = 0; k < NTYPES; k++) {
        static const char *const body[] = { "long a; double b;", "double a; double b;", "long a[3];" };
        fprintf(f, "struct s%d { %s };\n", k, body[k % 3]);
        fprintf(f, "__attribute__((noinline, used)) long f%d(struct s%d v, int i) { return (long)*(char *)&v + i; }\n",
                k, k);
    }
    fprintf(f, "int main(void) { return 0; }\n");
    assert_int_equal(fclose(f), 0);
}

static void test_types_600_structs_all_classified(void **state)
{
    (void)state;
    char src[512], bin[512];
    snprintf(src, sizeof src, "%s/many.c", tu_tmpdir());
    snprintf(bin, sizeof bin, "%s/many", tu_tmpdir());
    write_source(src);
    assert_int_equal(tu_run(tu_fmt("gcc -O1 -g -o %s %s", bin, src), NULL, NULL), 0);
    struct an_binary *b;
    char e[256];
    assert_int_equal(an_open(bin, AN_OPEN_NO_CFG, &b, e, sizeof e), LF_OK);
    static const enum an_abi_class want[3][2] = {
        { AN_ABI_INTEGER, AN_ABI_SSE }, { AN_ABI_SSE, AN_ABI_SSE }, { AN_ABI_MEMORY, AN_ABI_NONE } };
    for (int k = 0; k < NTYPES; k++) {
        char name[16], ty[24];
        snprintf(name, sizeof name, "f%d", k);
        snprintf(ty, sizeof ty, "struct s%d", k);
        const struct an_func *f = an_func_by_name(b, name);
        assert_non_null(f);
        assert_int_equal(f->has_proto, 1);
        assert_int_equal(f->nparams, 2);
        assert_string_equal(f->params[0].ctype, ty);
        assert_int_equal(f->params[0].cls[0], want[k % 3][0]);
        assert_int_equal(f->params[0].cls[1], want[k % 3][1]);
        assert_int_equal(f->params[1].cls[0], AN_ABI_INTEGER);
    }
    an_close(b);
}

/* gcc -O2 turns fx_scale into fx_scale.constprop.0, which takes only x:
 * its DWARF (three parameters) must not become its prototype. */
static void test_types_gcc_clone_gets_no_prototype(void **state)
{
    (void)state;
    static const char src[] =
        "#include <stdio.h>\n"
        "static __attribute__((noinline)) long fx_scale(long x, int k, const char *tag)\n"
        "{ if (tag[0] == 'q') puts(tag); return x * k + 1; }\n"
        "__attribute__((noinline)) long fx_use1(long a) { return fx_scale(a, 3, \"p\"); }\n"
        "__attribute__((noinline)) long fx_use2(long a) { return fx_scale(a + 1, 3, \"p\"); }\n"
        "int main(int argc, char **argv) { (void)argv; return (int)(fx_use1(argc) + fx_use2(argc)); }\n";
    char c[512], bin[512];
    snprintf(c, sizeof c, "%s/clone.c", tu_tmpdir());
    snprintf(bin, sizeof bin, "%s/clone", tu_tmpdir());
    assert_int_equal(tu_write_file(c, src, sizeof src - 1), 0);
    assert_int_equal(tu_run(tu_fmt("gcc -O2 -g -o %s %s", bin, c), NULL, NULL), 0);
    struct an_binary *b;
    char e[256];
    assert_int_equal(an_open(bin, 0, &b, e, sizeof e), LF_OK);
    const struct an_func *clone = an_func_by_name(b, "fx_scale.constprop.0");
    assert_non_null(clone);
    assert_int_equal(clone->has_proto, 0);
    assert_int_equal(clone->nparams, 0);
    const struct an_func *use = an_func_by_name(b, "fx_use1");
    assert_int_equal(use->has_proto, 1);
    assert_int_equal(use->nparams, 1);
    an_close(b);
}

/* Two static functions named fx_dup in two files; only the second (two
 * doubles) has a .cold part.  Its DWARF has DW_AT_ranges instead of a low
 * pc: the ranges, not the name, must find it and tie fx_dup.cold to it. */
static void check_namesakes(const char *bin, unsigned flags)
{
    struct an_binary *b;
    char e[256];
    assert_int_equal(an_open(bin, flags, &b, e, sizeof e), LF_OK);
    const struct an_func *i1 = NULL, *d2 = NULL;
    for (unsigned k = 0; k < b->n_funcs; k++) {
        const struct an_func *f = &b->funcs[k];
        if (strcmp(f->name, "fx_dup") != 0) continue;
        assert_int_equal(f->has_proto, 1);
        if (f->nparams == 1) i1 = f;
        if (f->nparams == 2) d2 = f;
    }
    assert_non_null(i1);
    assert_non_null(d2);
    assert_int_equal(i1->params[0].cls[0], AN_ABI_INTEGER);
    assert_int_equal(d2->params[0].cls[0], AN_ABI_SSE);
    assert_int_equal(d2->ret.cls[0], AN_ABI_SSE);
    const struct an_func *cold = an_func_by_name(b, "fx_dup.cold");
    assert_non_null(cold);
    assert_int_equal(cold->parent_addr, d2->addr);
    an_close(b);
}

static void test_types_static_namesakes_matched_by_dwarf_ranges(void **state)
{
    (void)state;
    static const char a[] =
        "__attribute__((noinline)) static int fx_dup(int x) { return x * 2 + 1; }\n"
        "__attribute__((noinline)) int fx_a(int x) { return fx_dup(x) + 1; }\n";
    static const char bsrc[] =
        "#include <stdio.h>\n#include <stdlib.h>\nint fx_a(int x);\n"
        "__attribute__((cold, noinline)) void fx_warn(const char *m) { fputs(m, stderr); }\n"
        "static __attribute__((noinline)) double fx_dup(double y, double z)\n"
        "{ if (y < 0) { fx_warn(\"c\"); fx_warn(\"d\"); abort(); } return y * z; }\n"
        "__attribute__((noinline)) double fx_b(double x) { return fx_dup(x, x * 0.5) + 1; }\n"
        "int main(int argc, char **argv) { (void)argv; return fx_a(argc) + (int)fx_b(argc); }\n";
    char pa[512], pb[512], bin[512];
    snprintf(pa, sizeof pa, "%s/dupa.c", tu_tmpdir());
    snprintf(pb, sizeof pb, "%s/dupb.c", tu_tmpdir());
    snprintf(bin, sizeof bin, "%s/dup", tu_tmpdir());
    assert_int_equal(tu_write_file(pa, a, sizeof a - 1), 0);
    assert_int_equal(tu_write_file(pb, bsrc, sizeof bsrc - 1), 0);
    assert_int_equal(tu_run(tu_fmt("gcc -O2 -g -o %s %s %s", bin, pa, pb), NULL, NULL), 0);
    check_namesakes(bin, 0);
    check_namesakes(bin, AN_OPEN_ISOLATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_600_structs_all_classified),
        cmocka_unit_test(test_types_gcc_clone_gets_no_prototype),
        cmocka_unit_test(test_types_static_namesakes_matched_by_dwarf_ranges),
    };
    alarm(120); /* a hang is a failure, not a stuck `make test` */
    return cmocka_run_group_tests_name("analyzer_types", tests, NULL, NULL);
}
