/* test_analyzer_reloc.c -- memory as the loaded program sees it: a table of
 * function pointers in a shared object is written by load-time relocations
 * (the file holds zeros), an_read_u64 returns the link-time targets; and a
 * computed-goto dispatch table of a PIE is recovered through it. */
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

static void build(const char *name, const char *src, const char *flags, char *bin, size_t len)
{
    char c[512];
    snprintf(c, sizeof c, "%s/%s.c", tu_tmpdir(), name);
    snprintf(bin, len, "%s/%s", tu_tmpdir(), name);
    assert_int_equal(tu_write_file(c, src, strlen(src)), 0);
    assert_int_equal(tu_run(tu_fmt("gcc -O2 -g %s -o %s %s", flags, bin, c), NULL, NULL), 0);
}

static void test_reloc_pointer_table_in_shared_object(void **state)
{
    (void)state;
    static const char src[] = "long tf1(long x) { return x + 1; }\n"
                              "long tf2(long x) { return x * 2; }\n"
                              "long (*const tbl[])(long) = { tf1, tf2 };\n";
    char so[512];
    build("libtbl.so", src, "-shared -fPIC", so, sizeof so);
    char *out = NULL;
    assert_int_equal(tu_run(tu_fmt("nm -D %s | awk '$3==\"tbl\" {print $1}'", so), &out, NULL), 0);
    uint64_t tbl = strtoull(out, NULL, 16);
    free(out);
    assert_true(tbl != 0);
    struct an_binary *b;
    char e[256];
    assert_int_equal(an_open(so, 0, &b, e, sizeof e), LF_OK);
    size_t len;
    const uint8_t *raw = an_bytes_at(b, tbl, &len);
    assert_non_null(raw);
    static const uint8_t zero[16];
    assert_memory_equal(raw, zero, 16); /* the file holds no pointers here */
    uint64_t v0 = 0, v1 = 0;
    assert_int_equal(an_read_u64(b, tbl, &v0), 1);
    assert_int_equal(an_read_u64(b, tbl + 8, &v1), 1);
    assert_int_equal(v0, an_func_by_name(b, "tf1")->addr);
    assert_int_equal(v1, an_func_by_name(b, "tf2")->addr);
    uint64_t v;
    assert_int_equal(an_read_u64(b, 0x7fffffff0000ull, &v), 0); /* unmapped */
    an_close(b);
}

static void test_reloc_computed_goto_table_of_a_pie(void **state)
{
    (void)state;
    static const char src[] =
        "__attribute__((noinline)) long run(const unsigned char *pc) {\n"
        "  static void *labels[] = { &&op_inc, &&op_dec, &&op_dbl, &&op_halt };\n"
        "  long acc = 0;\n"
        "  goto *labels[*pc++];\n"
        "op_inc: acc++; goto *labels[*pc++];\n"
        "op_dec: acc--; goto *labels[*pc++];\n"
        "op_dbl: acc *= 2; goto *labels[*pc++];\n"
        "op_halt: return acc;\n"
        "}\n"
        "int main(int argc, char **argv) { (void)argv; unsigned char p[] = {0, 2, 0, 1, 3};\n"
        "  p[0] = argc > 5; return (int)run(p); }\n";
    char bin[512];
    build("cgoto", src, "-fpie -pie", bin, sizeof bin);
    struct an_binary *b;
    char e[256];
    assert_int_equal(an_open(bin, 0, &b, e, sizeof e), LF_OK);
    const struct an_func *f = an_func_by_name(b, "run");
    assert_non_null(f);
    assert_true(f->cfg->n_jump_tables >= 1);
    const struct an_jump_table *t = &f->cfg->jump_tables[0];
    assert_int_equal(t->relative, 0);
    assert_int_equal(t->entry_size, 8);
    assert_int_equal(t->n_entries, 4);
    assert_int_equal(t->bounded, 0); /* no cmp/ja guard in front of it */
    for (unsigned k = 0; k < 4; k++) {
        uint64_t v;
        assert_int_equal(an_read_u64(b, t->table + 8 * k, &v), 1);
        assert_int_equal(v, t->targets[k]);
        assert_ptr_equal(an_func_at(b, v), f);
    }
    an_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reloc_pointer_table_in_shared_object),
        cmocka_unit_test(test_reloc_computed_goto_table_of_a_pie),
    };
    return cmocka_run_group_tests_name("analyzer_reloc", tests, NULL, NULL);
}
