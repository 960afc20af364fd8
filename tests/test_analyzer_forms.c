/* test_analyzer_forms.c -- the instruction-form table classifies what the
 * lifter supports and nothing else. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "analyzer/an_forms.h"
#include "tests/tutil.h"

static enum an_form classify(const uint8_t *code, size_t len)
{
    ZydisDecoder d;
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, code, len, &insn, ops)));
    return an_form_classify(&insn, ops);
}

static void test_forms_classify_known_encodings(void **state)
{
    (void)state;
    static const struct { uint8_t b[8]; size_t n; enum an_form f; } cases[] = {
        { { 0x48, 0x01, 0xd8 }, 3, AN_FORM_ADD_R_R },       /* add rax, rbx */
        { { 0x0f, 0xb6, 0xc1 }, 3, AN_FORM_MOVZX_R_R },     /* movzx eax, cl */
        { { 0x48, 0xd3, 0xe0 }, 3, AN_FORM_SHL_R_CL },      /* shl rax, cl */
        { { 0xc3 }, 1, AN_FORM_RET },
        { { 0xf2, 0x0f, 0x58, 0xc1 }, 4, AN_FORM_ADDSD_X_X },
        { { 0x0f, 0x94, 0xc0 }, 3, AN_FORM_SETZ_R },
        { { 0xf3, 0x0f, 0x1e, 0xfa }, 4, AN_FORM_ENDBR64 },
        { { 0xf0, 0x48, 0x01, 0x18 }, 4, AN_FORM_LOCK_ADD_M_R }, /* lock add [rax], rbx */
        { { 0x48, 0x01, 0x18 }, 3, AN_FORM_ADD_M_R },        /* the same without lock */
        { { 0xf0, 0x48, 0xf7, 0x10 }, 4, AN_FORM_NONE },    /* lock not: no LOCK_ row, refused */
        { { 0x0f, 0xa2 }, 2, AN_FORM_NONE },                /* cpuid: refused */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(classify(cases[i].b, cases[i].n), cases[i].f);
}

static void test_forms_names_are_unique(void **state)
{
    (void)state;
    for (int a = 1; a < AN_FORM__MAX; a++)
        for (int b = a + 1; b < AN_FORM__MAX; b++)
            assert_string_not_equal(an_form_name(a), an_form_name(b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_classify_known_encodings),
        cmocka_unit_test(test_forms_names_are_unique),
    };
    return cmocka_run_group_tests_name("analyzer_forms", tests, NULL, NULL);
}
