/* lift_frame.c -- facts about addresses inside the lifted frame.
 *
 * Inputs: i64 values of the form sp0 + k (lift_stack_off), as the
 * semantics produce them for rsp, rbp and pointers into the frame
 * (saved-register area, locals, VLAs whose size is a known constant).
 * Outputs: comparisons between such addresses folded to constants.
 *
 * Why: compiled loops over a stack buffer end on a pointer comparison
 * (`cmp r15, r12; jne` with both pointers into a VLA).  LLVM cannot fold
 * (sp0 + a) <u (sp0 + b) because sp0 is an instruction, so the branch looked
 * unknown, the analysis walked the loop past the buffer's end and its
 * imagined stores landed on the saved registers above it, which lost the
 * forwarded rbp and left `ret` with an unknown rsp.
 *
 * Invariants:
 *   1. Two addresses of one frame compare like their offsets: the frame is
 *      one object on the real stack, which never wraps around zero or the
 *      sign boundary of user space, so unsigned and signed orders agree
 *      with the order of the offsets.
 *   2. Anything else is left to LLVM (a real icmp is emitted). */
#include "lifter/lift_internal.h"

static int lift_pred_holds(LLVMIntPredicate p, int64_t a, int64_t b)
{
    switch (p) {
    case LLVMIntEQ: return a == b;
    case LLVMIntNE: return a != b;
    case LLVMIntUGT: case LLVMIntSGT: return a > b;
    case LLVMIntUGE: case LLVMIntSGE: return a >= b;
    case LLVMIntULT: case LLVMIntSLT: return a < b;
    default: return a <= b;   /* ULE, SLE */
    }
}

LLVMValueRef lift_icmp(struct lift_ctx *c, LLVMIntPredicate p, LLVMValueRef a, LLVMValueRef b)
{
    int64_t ka, kb;
    if (lift_bits(a) == 64 && lift_stack_off(c, a, &ka) && lift_stack_off(c, b, &kb))
        return lift_const(c, 1, (uint64_t)lift_pred_holds(p, ka, kb));
    return LLVMBuildICmp(c->b, p, a, b, "");
}
