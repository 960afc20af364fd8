/* sem_sys.c -- syscall as an opaque native operation: the lifted code makes
 * the same system call, through inline assembly, with the registers of the
 * Linux x86-64 convention.
 *
 * In: rax (number), rdi, rsi, rdx, r10, r8, r9.  Out: rax (result); rcx =
 * the address after the syscall and r11 = rflags, as the CPU leaves them;
 * the flags themselves are unchanged (sysret restores them from r11).
 * Invariants:
 *   1. Any memory may have changed (read(2) writes a buffer): forwarded
 *      memory is forgotten, and every argument register escapes (a stack
 *      address handed to the kernel is reachable memory).
 *   2. Nothing about the call is assumed: no number is special-cased, so a
 *      syscall that does not return (exit) is simply the native one. */
#include "lifter/lift_internal.h"

#include <string.h>

/* rflags as a user program sees it, from the modeled flags: bit 1 and IF
 * (0x200) are always set in user mode. */
static LLVMValueRef rflags(struct lift_ctx *c)
{
    static const struct { enum lift_flag f; unsigned bit; } m[] = {
        { LIFT_F_CF, 0 }, { LIFT_F_PF, 2 }, { LIFT_F_AF, 4 }, { LIFT_F_ZF, 6 },
        { LIFT_F_SF, 7 }, { LIFT_F_DF, 10 }, { LIFT_F_OF, 11 },
    };
    LLVMValueRef r = lift_const(c, 64, 0x202);
    for (size_t k = 0; k < sizeof m / sizeof m[0]; k++)
        r = LLVMBuildOr(c->b, r, LLVMBuildShl(c->b, lift_zext(c, lift_flag(c, m[k].f), 64),
                                              lift_const(c, 64, m[k].bit), ""), "");
    return r;
}

enum lf_status lift_sem_SYSCALL(struct lift_ctx *c, const struct lift_insn *i)
{
    static const int in[7] = { 0, 7, 6, 2, 10, 8, 9 }; /* rax rdi rsi rdx r10 r8 r9 */
    LLVMTypeRef i64 = lift_int(c, 64), ps[7];
    LLVMValueRef args[7];
    for (int k = 0; k < 7; k++) {
        ps[k] = i64;
        args[k] = lift_gpr64(c, in[k]);
        if (k) lift_note_escape(c, args[k]);
    }
    LLVMValueRef r11 = rflags(c);
    static const char cons[] = "={rax},{rax},{rdi},{rsi},{rdx},{r10},{r8},{r9},~{rcx},~{r11},~{memory},~{dirflag},~{fpsr},~{flags}";
    LLVMTypeRef ft = LLVMFunctionType(i64, ps, 7, 0);
    LLVMValueRef fn = LLVMGetInlineAsm(ft, (char *)"syscall", 7, (char *)cons, strlen(cons), 1, 0,
                                       LLVMInlineAsmDialectATT, 0);
    LLVMValueRef r = LLVMBuildCall2(c->b, ft, fn, args, 7, "");
    lift_clobber_mem(c);
    lift_set_gpr64(c, 0, r);
    lift_set_gpr64(c, 1, lift_const(c, 64, i->pc + i->len));
    lift_set_gpr64(c, 11, r11);
    return LF_OK;
}
