/* test_lift_nanbox.c -- a NaN-boxed statement interpreter (testdata/nanbox)
 * specialized with lf_optimize keeps its run-time-sized frames private,
 * built by gcc as by clang.
 *
 * gcc -O2 addresses a VLA through an aligned base computed by a shift
 * (`lea rdx, [rsp+7]; shr rbx, 3`, then `[rbx*8]`), keeps the shifted value
 * in a callee-saved register across calls and re-bases it later; before the
 * frame model followed that value, the frame split was refused and every
 * frame access stayed in memory (0 of 110 private in the sum-of-squares
 * program).  nanbox compares every program with the closures over many
 * inputs and prints each one's frame accesses; this test requires all to
 * match (gcc and clang, -O1 to -O3) and the programs without a native call
 * to have no shared access (-O2).
 * f_rebase is the same addressing written out, with the shifted base
 * shifted back (`shl rcx, 3`) after a native call, which the lifter
 * follows to the aligned frame address (lift_frame.c lift_frame_shl). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineiform.h"
#include "tests/tutil.h"

/* f_rebase(e, a) = a + e->k through a 4-word buffer at (rsp + 7) & -8,
 * addressed by (rsp + 7) >> 3 shifted back, kept in rbx across getpid
 * (rcx cleared before the call: an import of unknown prototype is passed
 * every argument register, and a frame address in one escapes; rdx too
 * before the return, which without a prototype may carry a result). */
long f_rebase(const long *e, long a);
__asm__(".intel_syntax noprefix\n.text\n.globl f_rebase\n.type f_rebase, @function\nf_rebase:\n"
        "  push rbx\n  push r12\n  push r13\n  sub rsp, 32\n"
        "  mov r12, rdi\n  mov r13, rsi\n"
        "  lea rbx, [rsp+7]\n  shr rbx, 3\n"
        "  call getpid@PLT\n"
        "  mov rcx, rbx\n  shl rcx, 3\n"
        "  mov [rcx], r13\n  mov rax, [r12]\n  mov [rcx+8], rax\n  xor ecx, ecx\n"
        "  call getpid@PLT\n"
        "  mov rdx, rbx\n  shl rdx, 3\n"
        "  mov rax, [rdx]\n  add rax, [rdx+8]\n  xor edx, edx\n"
        "  add rsp, 32\n  pop r13\n  pop r12\n  pop rbx\n  ret\n"
        ".size f_rebase, .-f_rebase\n.att_syntax prefix\n");

static const char *link_flags(void)
{
    return "$(llvm-config-14 --ldflags) -lLLVM-14 -lZydis -lZycore -ldwarf -lelf -lz -lsqlite3 -lm -lpthread -ldl";
}

/* Build nanbox.c with cc at opt and run it; its stdout (every case passed). */
static char *nanbox_run(const char *cc, const char *opt)
{
    const char *exe = tu_fmt("%s/nanbox_%s%s", tu_tmpdir(), cc, opt);
    char *out = NULL, *err = NULL;
    int st = tu_run(tu_fmt("%s %s -g -I%s %s %s -o %s %s", cc, opt, tu_src("include"), tu_src("testdata/nanbox/nanbox.c"),
                           tu_build("liblineiform.a"), exe, link_flags()),
                    NULL, &err);
    if (st != 0) fail_msg("%s %s: build failed: %s", cc, opt, err ? err : "");
    free(err);
    err = NULL;
    st = tu_run(exe, &out, &err);
    if (st != 0) fprintf(stderr, "%s %s:\n%s%s", cc, opt, out ? out : "", err ? err : "");
    free(err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "passed: 0 failure(s)"));
    assert_null(strstr(out, "FAIL"));
    return out;
}

/* Case `name` of nanbox's output: every frame access private. */
static void all_private(const char *out, const char *cc, const char *name)
{
    const char *l = strstr(out, tu_fmt("%s: frame accesses ", name));
    if (!l) fail_msg("%s: no line for %s", cc, name);
    unsigned priv = 0, shared = 0;
    assert_int_equal(sscanf(strchr(l, ':') + 1, " frame accesses %u private, %u shared", &priv, &shared), 2);
    if (priv == 0 || shared != 0) fail_msg("%s: %s: %u frame accesses private, %u shared", cc, name, priv, shared);
}

static void frames_private(const char *cc)
{
    char *out = nanbox_run(cc, "-O2");
    all_private(out, cc, "sum of squares (while)");
    all_private(out, cc, "calls as arguments of a call");
    free(out);
}

static void test_lift_nanbox_gcc_shifted_frame_base_stays_private(void **s) { (void)s; frames_private("gcc"); }
static void test_lift_nanbox_clang_frames_stay_private(void **s) { (void)s; frames_private("clang"); }

/* The other levels: every program still matches the closures. */
static void test_lift_nanbox_O1_O3_match_the_closures(void **s)
{
    (void)s;
    static const char *const cc[] = { "gcc", "clang" }, *const opt[] = { "-O1", "-O3" };
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) free(nanbox_run(cc[a], opt[b]));
}

/* Accesses through the re-based address stay private, results right. */
static void test_lift_rebased_shifted_frame_address_stays_private(void **s)
{
    (void)s;
    static const long k0 = 37;
    const long *e = lf_freeze(&k0, sizeof k0);
    assert_non_null(e);
    long (*o)(const long *, long) = (long (*)(const long *, long))lf_optimize((void *)f_rebase, e);
    const struct lf_report *r = lf_last_report();
    if ((void *)o == (void *)f_rebase) fail_msg("not specialized: %s", r->reason);
    unsigned priv = r->frame_private, shared = r->frame_shared;
    for (long a = -50; a <= 50; a++) {
        assert_int_equal(f_rebase(e, a), a + 37);
        assert_int_equal(o(e, a), a + 37);
    }
    if (priv == 0 || shared != 0) fail_msg("f_rebase: %u frame accesses private, %u shared", priv, shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lift_nanbox_gcc_shifted_frame_base_stays_private),
        cmocka_unit_test(test_lift_nanbox_clang_frames_stay_private),
        cmocka_unit_test(test_lift_nanbox_O1_O3_match_the_closures),
        cmocka_unit_test(test_lift_rebased_shifted_frame_address_stays_private),
    };
    return cmocka_run_group_tests_name("lift_nanbox", tests, NULL, NULL);
}
