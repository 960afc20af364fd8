/* test_lift_snippet.c -- lift_snippet_jit runs lifted code on a lift_cpu
 * with the flags and widths the CPU defines (hand-checked cases; the
 * random native-vs-lifted comparison is tests/test_lift_insn*.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "lifter/lift_snippet.h"
#include "tests/tutil.h"

static struct lift_cpu run(const uint8_t *code, size_t len, struct lift_cpu in)
{
    lift_snippet_fn fn;
    char why[200];
    enum lf_status st = lift_snippet_jit(code, len, &fn, why, sizeof why);
    if (st != LF_OK) fail_msg("lift failed: %s", why);
    fn(&in);
    return in;
}

#define FL(c) ((c).rflags & (LIFT_CF | LIFT_PF | LIFT_AF | LIFT_ZF | LIFT_SF | LIFT_OF))

static void test_lift_add8_sets_cf_zf_af_like_hardware(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x00, 0xd8 };          /* add al, bl */
    struct lift_cpu c = { 0 };
    c.gpr[LIFT_RAX] = 0x12345678000000ffull;
    c.gpr[LIFT_RBX] = 1;
    c = run(code, sizeof code, c);
    assert_int_equal(c.gpr[LIFT_RAX], 0x1234567800000000ull);
    assert_int_equal(FL(c), LIFT_CF | LIFT_ZF | LIFT_AF | LIFT_PF);
}

static void test_lift_sub32_zero_extends_and_sets_of(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x29, 0xd8 };          /* sub eax, ebx */
    struct lift_cpu c = { 0 };
    c.gpr[LIFT_RAX] = 0xffffffff80000000ull;
    c.gpr[LIFT_RBX] = 1;
    c = run(code, sizeof code, c);
    assert_int_equal(c.gpr[LIFT_RAX], 0x7fffffffull);
    assert_int_equal(FL(c), LIFT_OF | LIFT_AF | LIFT_PF);
}

static void test_lift_inc_leaves_cf_alone(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x48, 0xff, 0xc0 };    /* inc rax */
    struct lift_cpu c = { 0 };
    c.gpr[LIFT_RAX] = ~0ull;
    c.rflags = LIFT_CF;
    c = run(code, sizeof code, c);
    assert_int_equal(c.gpr[LIFT_RAX], 0);
    assert_int_equal(FL(c), LIFT_CF | LIFT_ZF | LIFT_AF | LIFT_PF);
}

static void test_lift_shift_by_zero_keeps_flags(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x48, 0xd3, 0xe0 };    /* shl rax, cl */
    struct lift_cpu c = { 0 };
    c.gpr[LIFT_RAX] = 5;
    c.gpr[LIFT_RCX] = 64;                                  /* masked to 0 */
    c.rflags = LIFT_OF | LIFT_SF;
    c = run(code, sizeof code, c);
    assert_int_equal(c.gpr[LIFT_RAX], 5);
    assert_int_equal(FL(c), LIFT_OF | LIFT_SF);
    c.gpr[LIFT_RAX] = 7;
    c.gpr[LIFT_RCX] = 63;
    c = run(code, sizeof code, c);
    assert_int_equal(c.gpr[LIFT_RAX], 0x8000000000000000ull);
    assert_true(c.rflags & LIFT_CF);                       /* bit 1 of 7 went out last */
}

static void test_lift_adc_chain_carries_across_words(void **state)
{
    (void)state;
    /* add rax, rcx ; adc rdx, rbx */
    static const uint8_t code[] = { 0x48, 0x01, 0xc8, 0x48, 0x11, 0xda };
    struct lift_cpu c = { 0 };
    c.gpr[LIFT_RAX] = ~0ull;
    c.gpr[LIFT_RCX] = 2;
    c.gpr[LIFT_RDX] = 10;
    c.gpr[LIFT_RBX] = 20;
    c = run(code, sizeof code, c);
    assert_int_equal(c.gpr[LIFT_RAX], 1);
    assert_int_equal(c.gpr[LIFT_RDX], 31);
    assert_false(c.rflags & LIFT_CF);
}

static void test_lift_branch_inside_snippet_takes_live_side(void **state)
{
    (void)state;
    /* cmp rdi, rsi ; jl +5 ; mov eax, 1 ; jmp +5 ; mov eax, 2 */
    static const uint8_t code[] = { 0x48, 0x39, 0xf7, 0x7c, 0x07, 0xb8, 0x01, 0, 0, 0,
                                    0xeb, 0x05, 0xb8, 0x02, 0, 0, 0 };
    struct lift_cpu c = { 0 };
    c.gpr[LIFT_RDI] = (uint64_t)-3;
    c.gpr[LIFT_RSI] = 4;
    c = run(code, sizeof code, c);
    assert_int_equal(c.gpr[LIFT_RAX], 2);
    c.gpr[LIFT_RDI] = 9;
    c = run(code, sizeof code, c);
    assert_int_equal(c.gpr[LIFT_RAX], 1);
}

static void test_lift_div_mul_setcc_cmov_and_memory(void **state)
{
    (void)state;
    /* mov rax,[rdi] ; cqo ; idiv rsi ; mov [rdi+8],rdx ; imul rax,rax ;
       seto cl ; cmp rax, 100 ; cmovg rax, rsi */
    static const uint8_t code[] = { 0x48, 0x8b, 0x07, 0x48, 0x99, 0x48, 0xf7, 0xfe,
                                    0x48, 0x89, 0x57, 0x08, 0x48, 0x0f, 0xaf, 0xc0,
                                    0x0f, 0x90, 0xc1, 0x48, 0x83, 0xf8, 0x64,
                                    0x48, 0x0f, 0x4f, 0xc6 };
    int64_t mem[2] = { -47, 0 };
    struct lift_cpu c = { 0 };
    c.gpr[LIFT_RDI] = (uint64_t)(uintptr_t)mem;
    c.gpr[LIFT_RSI] = 5;
    c = run(code, sizeof code, c);
    assert_int_equal(mem[1], -2);                          /* -47 % 5 */
    assert_int_equal(c.gpr[LIFT_RAX], 81);                 /* (-9)^2, not > 100 */
    assert_int_equal(c.gpr[LIFT_RCX] & 0xff, 0);           /* imul: no overflow */
}

static void test_lift_refuses_unlisted_form(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x0f, 0xa2 };          /* cpuid */
    lift_snippet_fn fn;
    char why[200];
    assert_int_equal(lift_snippet_jit(code, sizeof code, &fn, why, sizeof why), LF_ERR_UNSUPPORTED);
    assert_non_null(strstr(why, "cpuid"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lift_add8_sets_cf_zf_af_like_hardware),
        cmocka_unit_test(test_lift_sub32_zero_extends_and_sets_of),
        cmocka_unit_test(test_lift_inc_leaves_cf_alone),
        cmocka_unit_test(test_lift_shift_by_zero_keeps_flags),
        cmocka_unit_test(test_lift_adc_chain_carries_across_words),
        cmocka_unit_test(test_lift_branch_inside_snippet_takes_live_side),
        cmocka_unit_test(test_lift_div_mul_setcc_cmov_and_memory),
        cmocka_unit_test(test_lift_refuses_unlisted_form),
    };
    return cmocka_run_group_tests_name("lift_snippet", tests, NULL, NULL);
}
