/* test_lift_live.c -- lift_live_in: the registers code reads before writing
 * them, with ret per the ABI (low half) and ret reading every register
 * (high half); hand-assembled cases at a fake guest address. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lifter/codegen/lift_aot.h"
#include "lifter/lift_job.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
#define B(r) (1u << (r))
#define GUEST 0x400000ull

/* query(m, GUEST) on a module whose code is just code at GUEST; asked
 * twice, the cached answer must be the same. */
static unsigned ask(const uint8_t *code, size_t len, unsigned (*query)(struct lift_mod *, uint64_t))
{
    struct lift_memmap map = { GUEST, len, code, 1 };
    struct lift_range range = { GUEST, GUEST + len };
    struct lift_mod m;
    memset(&m, 0, sizeof m);
    m.mem = (struct lift_memsrc){ &map, 1, NULL };
    m.code = &range;
    m.ncode = 1;
    unsigned r = query(&m, GUEST);
    assert_int_equal(query(&m, GUEST), r);
    free(m.live);
    return r;
}

/* Live registers at the first byte of code: abi = bits 0-15, all = 16-31. */
static void live_of(const uint8_t *code, size_t len, unsigned *abi, unsigned *all)
{
    unsigned r = ask(code, len, lift_live_in);
    *abi = r & 0xffff;
    *all = r >> 16;
}

static void test_live_written_register_is_dead_and_ret_reads_the_abi_set(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0xb8, 1, 0, 0, 0, 0xc3 };   /* mov eax, 1; ret */
    unsigned abi, all;
    live_of(code, sizeof code, &abi, &all);
    assert_int_equal(abi, B(RDX) | B(RBX) | B(RSP) | B(RBP) | B(R12) | B(R13) | B(R14) | B(R15));
    assert_int_equal(all, 0xffffu & ~B(RAX));
}

static void test_live_operands_read_and_zero_idiom(void **s)
{
    (void)s;
    /* mov rax, rdi; add rax, rsi; xor ecx, ecx; mov rdx, rcx; ret */
    static const uint8_t code[] = { 0x48, 0x89, 0xf8, 0x48, 0x01, 0xf0, 0x31, 0xc9, 0x48, 0x89, 0xca, 0xc3 };
    unsigned abi, all;
    live_of(code, sizeof code, &abi, &all);
    assert_true(abi & B(RDI));
    assert_true(abi & B(RSI));
    assert_false(abi & B(RCX));   /* xor ecx, ecx does not read rcx */
    assert_false(abi & B(RAX));
    assert_false(abi & B(RDX));
    assert_false(abi & B(R10));
    assert_false(all & B(RCX));
    assert_true(all & B(R10));    /* ret may pass r10 through */
}

static void test_live_partial_write_keeps_the_register_live(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0xb0, 0x01, 0xc3 };        /* mov al, 1; ret */
    unsigned abi, all;
    live_of(code, sizeof code, &abi, &all);
    assert_true(abi & B(RAX));
}

static void test_live_loop_and_call(void **s)
{
    (void)s;
    /* 0: mov edi, 5; 5: call 12; 10: jmp 17; 12: dec rcx; 15: jnz 12; 17: ret
     * The call reads the argument registers not yet written (rsi, rdx,
     * rcx, r8, r9, al), not rdi, and clobbers the scratch registers. */
    static const uint8_t code[] = { 0xbf, 5, 0, 0, 0, 0xe8, 0x02, 0, 0, 0, 0xeb, 0x05,
                                    0x48, 0xff, 0xc9, 0x75, 0xfb, 0xc3 };
    unsigned abi, all;
    live_of(code, sizeof code, &abi, &all);
    assert_false(abi & B(RDI));
    assert_true(abi & B(RSI));
    assert_true(abi & B(RCX));
    assert_true(abi & B(R9));
    assert_false(abi & B(R10));   /* clobbered by the call before any read */
    assert_false(all & B(R11));
}

static void test_live_unknown_jump_reads_everything(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0x41, 0xba, 1, 0, 0, 0, 0xff, 0xe0 };   /* mov r10d, 1; jmp rax */
    unsigned abi, all;
    live_of(code, sizeof code, &abi, &all);
    assert_int_equal(abi, 0xffffu & ~B(R10));
    assert_int_equal(all, 0xffffu & ~B(R10));
}

static void test_live_code_outside_the_ranges_is_all_live(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0xeb, 0x10 };               /* jmp out of the code */
    unsigned abi, all;
    live_of(code, sizeof code, &abi, &all);
    /* a direct jump out of the code is a tail call: arguments, results
     * and callee-saved registers */
    assert_true(abi & B(RDI));
    assert_true(abi & B(RBX));
    assert_false(abi & B(R10));
}

/* xmm registers (0-7) the function at code reads. */
static unsigned xmm_of(const uint8_t *code, size_t len)
{
    return ask(code, len, lift_live_xmm);
}

static void test_live_xmm_reads(void **s)
{
    (void)s;
    static const uint8_t add[] = { 0xf2, 0x0f, 0x58, 0xc2, 0xc3 };    /* addsd xmm0, xmm2; ret */
    assert_int_equal(xmm_of(add, sizeof add), 0x7);                   /* xmm0, xmm2, and xmm1 at ret */
    static const uint8_t zero[] = { 0x66, 0x0f, 0xef, 0xc0, 0xc3 };   /* pxor xmm0, xmm0; ret */
    assert_int_equal(xmm_of(zero, sizeof zero), 0x2);
    static const uint8_t ind[] = { 0xff, 0xd0, 0xc3 };                /* call rax; ret: unknown callee */
    assert_int_equal(xmm_of(ind, sizeof ind), 0xff);
    /* 0: call 6; 5: ret; 6: movq xmm0, rdi; 11: ret -- the callee writes xmm0 first */
    static const uint8_t dir[] = { 0xe8, 0x01, 0, 0, 0, 0xc3, 0x66, 0x48, 0x0f, 0x6e, 0xc7, 0xc3 };
    assert_int_equal(xmm_of(dir, sizeof dir), 0x2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_written_register_is_dead_and_ret_reads_the_abi_set),
        cmocka_unit_test(test_live_operands_read_and_zero_idiom),
        cmocka_unit_test(test_live_partial_write_keeps_the_register_live),
        cmocka_unit_test(test_live_loop_and_call),
        cmocka_unit_test(test_live_unknown_jump_reads_everything),
        cmocka_unit_test(test_live_code_outside_the_ranges_is_all_live),
        cmocka_unit_test(test_live_xmm_reads),
    };
    return cmocka_run_group_tests_name("lift_live", tests, NULL, NULL);
}
