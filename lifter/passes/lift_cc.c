/* lift_cc.c -- recursion without callee-saved registers, on optimized IR.
 *
 * Interpreted recursion becomes a specialization that calls itself (ack's
 * call node, tak's body loop).  Under the C convention every call of it
 * runs a prologue that saves each callee-saved register its body uses
 * anywhere, and an epilogue that restores them: six pushes and six pops
 * for ack's call node, though only one value (m - 1) lives across its
 * recursive call.  Under LLVM's GHC convention no register is callee-saved:
 * the caller keeps what lives across a call in its frame, one store and
 * one load per value, and constants are materialized again after the call.
 *
 * An internal function F gets the GHC convention, at its definition and at
 * every call, when:
 *   1. every use of F is a direct call, and one of them is in F itself;
 *   2. F's parameters are at most GHC_MAX_ARGS i64 (the integer registers
 *      the convention passes arguments in: r13, rbp, r12, rbx, r14, rsi,
 *      rdi, r8, r9, r15), so no argument goes on the stack;
 *   3. no function that calls F needs a frame pointer: rbp is an argument
 *      register of the convention and F does not preserve it, so a caller
 *      addressing its frame through rbp (a run-time-sized alloca, an alloca
 *      aligned past the stack's 16 bytes) would lose its frame.
 *
 * Measured (`lineiform run`, median of seven, CPU time): ack 0.18 against
 * 0.21 s, tak 0.11 against 0.12 s; see the README's bench table.
 *
 * Functions on a longer cycle of calls (F calls G calls F, no self call)
 * keep the C convention: it gains nothing measured.  Of the twenty bench
 * images (testdata/lisp/bench, bench/lua) only Lua's nqueens has one (the
 * Scheme images' cross calls already become self calls when the lifter
 * unrolls them), and with GHC that image ran slower in three series of
 * alternating runs (`lineiform run`, user CPU, medians 1.00 against 1.11 s,
 * 1.18 against 1.28 s, and with the order swapped 1.07 against 1.11 s),
 * though two copies of one image differ by up to 9% the same way.
 * Off every cycle the C convention stays too: GHC for every function
 * called in a loop of its caller changed twelve of the twenty images and
 * is not a gain everywhere (medians of five alternating runs: Lua sieve
 * 1.25 against 1.18 s and fixloop 0.85 against 0.82 s, but Lua nqueens
 * 0.98 against 1.05 s; the Scheme images within 0.04 s). */
#include "lifter/lift_proc.h"

enum { GHC_MAX_ARGS = 10 };

/* 1 when g addresses its frame through a frame pointer (invariant 3). */
static int needs_frame_pointer(LLVMValueRef g)
{
    LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(g);
    for (LLVMBasicBlockRef bb = entry; bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
            if (LLVMIsAAllocaInst(i) &&
                (bb != entry || !LLVMIsAConstant(LLVMGetOperand(i, 0)) || LLVMGetAlignment(i) > 16))
                return 1;
    return 0;
}

static int wants_ghc(LLVMValueRef f)
{
    if (LLVMIsDeclaration(f) || LLVMGetLinkage(f) != LLVMInternalLinkage || LLVMIsFunctionVarArg(LLVMGlobalGetValueType(f)))
        return 0;
    unsigned np = LLVMCountParams(f);
    if (np > GHC_MAX_ARGS) return 0;
    LLVMTypeRef i64 = LLVMInt64TypeInContext(LLVMGetModuleContext(LLVMGetGlobalParent(f)));
    for (unsigned k = 0; k < np; k++)
        if (LLVMTypeOf(LLVMGetParam(f, k)) != i64) return 0;
    if (!lift_only_called(f)) return 0;
    int self = 0;
    for (LLVMUseRef u = LLVMGetFirstUse(f); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef g = LLVMGetBasicBlockParent(LLVMGetInstructionParent(LLVMGetUser(u)));
        if (g == f) self = 1;
        if (needs_frame_pointer(g)) return 0;
    }
    return self;
}

int lift_recursion_cc(LLVMModuleRef mod)
{
    int made = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
        if (!wants_ghc(f)) continue;
        LLVMSetFunctionCallConv(f, LLVMGHCCallConv);
        for (LLVMUseRef u = LLVMGetFirstUse(f); u; u = LLVMGetNextUse(u))
            LLVMSetInstructionCallConv(LLVMGetUser(u), LLVMGHCCallConv);
        made++;
    }
    return made;
}
