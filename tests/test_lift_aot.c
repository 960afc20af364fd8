/* test_lift_aot.c -- lift_aot_compile turns a frozen closure chain into a
 * relocatable ELF object: one function symbol per specialization, the
 * entry symbol among them, PLT calls as undefined symbols, and bad input
 * refused with a reason instead of a crash. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <Zydis/Zydis.h>

#include "lifter/codegen/lift_aot.h"
#include "lifter/lift_proc.h"
#include "tests/tutil.h"

typedef struct node node;
struct node { long (*fn)(const node *, long); const node *l, *r; long k; const char *s; };

__attribute__((noinline)) static long ev_k(const node *n, long x) { (void)x; return n->k; }
__attribute__((noinline)) static long ev_add(const node *n, long x) { return n->l->fn(n->l, x) + n->r->fn(n->r, x); }
__attribute__((noinline)) static long ev_len(const node *n, long x) { return (long)strlen(n->s) + x; }

static const node *mk(long (*fn)(const node *, long), const node *l, const node *r, long k, const char *s)
{
    node n = { fn, l, r, k, s };
    return lf_freeze(&n, sizeof n);
}

/* tag_test(n, x): 2 for x odd, 3 for x & 6 != 0, else 1.  As an
 * interpreter's inlined tag checks do, it tests bit 0 of the whole register,
 * stores, then tests the low byte twice: the byte test of bit 0 can never
 * take its branch (return 4). */
long tag_sink;
long tag_test(const node *n, long x);
__asm__(".text\n.globl tag_test\n.type tag_test,@function\ntag_test:\n"
        "  test $1, %rsi\n  jne 1f\n"
        "  mov %rsi, tag_sink(%rip)\n"
        "  test $1, %sil\n  jne 3f\n"
        "  test $6, %sil\n  jne 2f\n"
        "  mov $1, %eax\n  ret\n"
        "1: mov $2, %eax\n  ret\n"
        "2: mov $3, %eax\n  ret\n"
        "3: mov $4, %eax\n  ret\n"
        ".size tag_test, .-tag_test\n");

/* Compile the closure at root with this process as the snapshot. */
static enum lf_status compile(const node *root, struct lift_aot_result *out, char *why, size_t len)
{
    struct lift_proc p;
    assert_int_equal(lift_proc_open(&p, (uint64_t)(uintptr_t)root->fn), LF_OK);
    struct lift_memmap maps[256];
    size_t n = 0;
    for (size_t k = 0; k < p.nmaps && n < 250; k++) maps[n++] = p.maps[k];
    /* The frozen arena: its used part, as the heap dump would hold it. */
    maps[n++] = (struct lift_memmap){ (uintptr_t)root & ~0xfffull, 1 << 16, (const void *)((uintptr_t)root & ~0xfffull), 1 };
    struct lift_aot_input in = { maps, n, "/proc/self/exe", p.bias, (uintptr_t)root, 2, 0 };
    enum lf_status st = lift_aot_compile(&in, out, why, len);
    lift_proc_close(&p);
    return st;
}

/* Symbol name in the objects of r: 2 when one defines it (*code and *size:
 * its bytes, from the first that does), 1 when they only reference it (an
 * import), 0 when none has it. */
static int obj_symbol(const struct lift_aot_result *r, const char *name, const uint8_t **code, size_t *size)
{
    elf_version(EV_CURRENT);
    int found = 0;
    for (size_t k = 0; k < r->nobj; k++) {
        Elf *e = elf_memory((char *)r->obj[k], r->obj_len[k]);
        assert_non_null(e);
        GElf_Ehdr eh;
        assert_non_null(gelf_getehdr(e, &eh));
        assert_int_equal(eh.e_type, ET_REL);
        for (Elf_Scn *s = NULL; (s = elf_nextscn(e, s)) != NULL;) {
            GElf_Shdr sh;
            if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_SYMTAB) continue;
            Elf_Data *d = elf_getdata(s, NULL);
            for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
                GElf_Sym sym;
                gelf_getsym(d, (int)i, &sym);
                if (strcmp(elf_strptr(e, sh.sh_link, sym.st_name), name) != 0) continue;
                if (sym.st_shndx == SHN_UNDEF) {
                    if (!found) found = 1;
                } else if (found < 2) {
                    GElf_Shdr tx;
                    assert_non_null(gelf_getshdr(elf_getscn(e, sym.st_shndx), &tx));
                    *code = r->obj[k] + tx.sh_offset + sym.st_value;
                    *size = sym.st_size;
                    found = 2;
                }
            }
        }
        elf_end(e);
    }
    return found;
}

/* 1 when one of the objects defines name (want_defined), or when they
 * reference it and none defines it (an import). */
static int obj_has_symbol(const struct lift_aot_result *r, const char *name, int want_defined)
{
    const uint8_t *code;
    size_t size;
    return obj_symbol(r, name, &code, &size) == (want_defined ? 2 : 1);
}

static void test_aot_object_defines_the_entry_specialization(void **state)
{
    (void)state;
    const node *root = mk(ev_add, mk(ev_k, NULL, NULL, 3, NULL), mk(ev_k, NULL, NULL, 4, NULL), 0, NULL);
    struct lift_aot_result r;
    char why[256] = "";
    assert_int_equal(compile(root, &r, why, sizeof why), LF_OK);
    assert_true(r.nobj >= 1 && r.obj_len[0] > 64);
    assert_true(r.nsyms >= 1);
    int listed = 0;
    for (size_t k = 0; k < r.nsyms; k++) listed |= strcmp(r.syms[k].name, r.entry_sym) == 0;
    assert_true(listed);
    assert_true(obj_has_symbol(&r, r.entry_sym, 1));
    assert_non_null(strstr(r.entry_sym, "ev_add@0x"));
    assert_int_equal(r.report.inlined, 2);
    lift_aot_result_free(&r);
}

static void test_aot_plt_call_becomes_an_undefined_symbol(void **state)
{
    (void)state;
    const char *text = lf_freeze("frozen text", 12);
    const node *root = mk(ev_len, NULL, NULL, 0, text);
    struct lift_aot_result r;
    char why[256] = "";
    assert_int_equal(compile(root, &r, why, sizeof why), LF_OK);
    assert_true(obj_has_symbol(&r, "strlen", 0));
    lift_aot_result_free(&r);
}

static void test_aot_refuses_an_entry_outside_the_snapshot(void **state)
{
    (void)state;
    static const uint8_t bytes[64];
    struct lift_memmap map = { 0x1000, sizeof bytes, bytes, 1 };
    struct lift_aot_input in = { &map, 1, "/proc/self/exe", 0, 0xdead0000, 2, 0 };
    struct lift_aot_result r;
    char why[256] = "";
    assert_int_not_equal(lift_aot_compile(&in, &r, why, sizeof why), LF_OK);
    assert_true(why[0] != 0);
    assert_int_equal(r.nobj, 0);
    assert_null(r.obj[0]);
    assert_int_equal(lift_aot_compile(NULL, &r, why, sizeof why), LF_ERR_INVALID_ARG);
}

/* A byte test of a register and the wide test of the same bits are one
 * condition (sem_int.c narrow_and): the impossible branch of tag_test is
 * gone from its specialization. */
static void test_aot_byte_and_wide_tests_of_a_register_merge(void **state)
{
    (void)state;
    const node *root = mk(tag_test, NULL, NULL, 0, NULL);
    struct lift_aot_result r;
    char why[256] = "";
    assert_int_equal(compile(root, &r, why, sizeof why), LF_OK);
    size_t size = 0;
    const uint8_t *code = NULL;
    assert_int_equal(obj_symbol(&r, r.entry_sym, &code, &size), 2);
    assert_true(size > 0);
    ZydisDecoder dec;
    ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    int results[5] = { 0 };
    for (size_t at = 0; at < size && ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, code + at, size - at, &in, ops));
         at += in.length)
        for (unsigned o = 0; o < in.operand_count_visible; o++)
            if (ops[o].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && ops[o].imm.value.u >= 1 && ops[o].imm.value.u <= 4)
                results[ops[o].imm.value.u]++;
    assert_int_equal(results[4], 0);
    assert_true(results[2] > 0);   /* the odd case: the decoding saw the code */
    lift_aot_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aot_object_defines_the_entry_specialization),
        cmocka_unit_test(test_aot_plt_call_becomes_an_undefined_symbol),
        cmocka_unit_test(test_aot_refuses_an_entry_outside_the_snapshot),
        cmocka_unit_test(test_aot_byte_and_wide_tests_of_a_register_merge),
    };
    return cmocka_run_group_tests_name("lift_aot", tests, NULL, NULL);
}
