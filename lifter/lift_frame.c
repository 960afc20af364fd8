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

/* -- VLA areas -------------------------------------------------------------------- *
 *
 * A function that lowers rsp by a computed amount (`sub rsp, rax` for a VLA,
 * clang's `mov rsp, rax` after computing it, an `and rsp, -16` realigning
 * it) makes objects in [new rsp, old rsp), below its fixed frame.  A pointer
 * into one of them that escapes can reach at most up to the area's top,
 * not the whole frame: the spills, the saved stack pointer and the sizes
 * the function keeps in its fixed frame stay forwarded across the calls
 * that receive the buffer.
 *
 * Invariants:
 *   3. Areas are keyed by the function (entry address) and where its frame
 *      starts (sp_entry): whatever the call site, an area of that function
 *      at that depth lies below its fixed frame, so the hull of every area
 *      seen for the key never covers a fixed local.
 *   4. An address is clipped only when the innermost frame holding it is
 *      the area's own function (a callee's frame at the same depth, after
 *      the VLA's scope ended, is not clipped).
 *   5. The table is per thread and bounded; a full table clips nothing. */

#include "lifter/lift_job.h"

#define LIFT_MAX_VLA 4096
static _Thread_local struct lift_vla { uint64_t entry; int64_t sp_entry, lo, hi; } lift_vla[LIFT_MAX_VLA];
static _Thread_local int lift_nvla;

static struct lift_vla *lift_vla_find(uint64_t entry, int64_t sp_entry, int add)
{
    for (int k = 0; k < lift_nvla; k++)
        if (lift_vla[k].entry == entry && lift_vla[k].sp_entry == sp_entry) return &lift_vla[k];
    if (!add || lift_nvla == LIFT_MAX_VLA) return NULL;
    struct lift_vla *v = &lift_vla[lift_nvla++];
    *v = (struct lift_vla){ entry, sp_entry, 0, 0 };
    return v;
}

/* 1 when insn moves rsp by an amount that is not an immediate. */
static int lift_is_dynamic_sp(const struct lift_insn *i)
{
    if (!i || i->zi.operand_count < 2 || i->op[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
        i->op[0].reg.value != ZYDIS_REGISTER_RSP)
        return 0;
    switch (i->zi.mnemonic) {
    case ZYDIS_MNEMONIC_SUB: case ZYDIS_MNEMONIC_MOV:
        return i->op[1].type == ZYDIS_OPERAND_TYPE_REGISTER;
    case ZYDIS_MNEMONIC_AND:
        return 1;
    default:
        return 0;
    }
}

void lift_frame_note_sp(struct lift_ctx *c, LLVMValueRef old, LLVMValueRef v64)
{
    int64_t o, n;
    const struct lift_job *j = c->job;
    if (!c->pe || !j || j->snippet || !lift_is_dynamic_sp(c->insn) || !lift_stack_off(c, old, &o) ||
        !lift_stack_off(c, v64, &n) || n >= o)
        return;
    const struct lift_frame *f = &j->fr[c->ctx_id];
    struct lift_vla *v = lift_vla_find(f->entry, f->sp_entry, 1);
    if (!v) return;
    if (v->lo == v->hi) { v->lo = n, v->hi = o; return; }
    if (n < v->lo) v->lo = n;
    if (o > v->hi) v->hi = o;
}

int64_t lift_frame_clip(const struct lift_ctx *c, int64_t k, int64_t top)
{
    const struct lift_job *j = c->job;
    for (int x = c->ctx_id; j && x >= 0; x = j->fr[x].parent) {
        if (j->fr[x].sp_entry != top) continue;
        const struct lift_vla *v = lift_vla_find(j->fr[x].entry, top, 0);
        return v && v->lo <= k && k < v->hi ? v->hi : top;
    }
    return top;
}

/* -- Scaled frame addresses ------------------------------------------------------- *
 *
 * gcc aligns a VLA-backed struct pointer with `lea rcx, [rsp+7]; shr rax, 3`
 * and then addresses it as [rax*8]: (S >> 3) * 8 is S & -8, a frame address
 * the lifter knows (lift_and), where the product would be an unknown value
 * and the store through it an unknown store that loses the frame's slots. */
LLVMValueRef lift_frame_scale(struct lift_ctx *c, LLVMValueRef x, unsigned scale)
{
    LLVMValueRef k = LLVMIsAInstruction(x) && LLVMGetInstructionOpcode(x) == LLVMLShr ? LLVMGetOperand(x, 1) : NULL;
    int64_t off;
    if (k && LLVMIsAConstantInt(k) && (1ull << LLVMConstIntGetZExtValue(k)) == scale &&
        lift_stack_off(c, LLVMGetOperand(x, 0), &off))
        return lift_and(c, LLVMGetOperand(x, 0), lift_const(c, 64, -(uint64_t)scale));
    return LLVMBuildMul(c->b, x, lift_const(c, 64, scale), "");
}

/* -- Owners of escaped ranges ------------------------------------------------------ *
 *
 * An escaped range belongs to the frame holding it, named by the function's
 * entry and where its frame starts (stable across analysis rounds, unlike
 * inline context numbers).  A pointer into a frame is only usable while
 * that frame is live, so a store through an unknown pointer or a native
 * call can reach the range only when a frame with that name is on the
 * current inline chain; the escapes of a sibling call that already
 * returned (an lv_print inlined before this frame was entered, whose locals
 * used the same offsets) no longer cost this frame its forwarded slots.
 *
 * Invariant:
 *   6. A range whose owner is unknown (entry 0) is always live. */

uint64_t lift_frame_owner(const struct lift_ctx *c, int64_t top)
{
    const struct lift_job *j = c->job;
    for (int x = c->ctx_id; j && x >= 0; x = j->fr[x].parent)
        if (j->fr[x].sp_entry == top) return j->fr[x].entry;
    return 0;
}

int lift_frame_live(const struct lift_ctx *c, uint64_t entry, int64_t top)
{
    const struct lift_job *j = c->job;
    if (!entry || !j) return 1;
    for (int x = c->ctx_id; x >= 0; x = j->fr[x].parent)
        if (j->fr[x].entry == entry && j->fr[x].sp_entry == top) return 1;
    return 0;
}
