/* sem_atomic.c -- xadd, cmpxchg, and the lock-prefixed read-modify-write
 * forms (lock add/sub/and/or/xor/inc/dec/xadd/cmpxchg on memory) as LLVM
 * atomics: atomicrmw and cmpxchg, sequentially consistent (a locked x86
 * instruction is a full barrier).
 *
 * Flags are those of the plain instruction computed from the value the
 * atomic operation found in memory.
 * Invariants:
 *   1. Memory in the lifted frame (a stack address no other thread can
 *      see) is read and written plainly, so the frame stays promotable, as
 *      xchg does (sem_int.c).
 *   2. Any other atomic access forgets forwarded memory (lift_clobber_mem):
 *      another thread may have written anything before it.
 *   3. cmpxchg writes the accumulator only when the compare fails and a
 *      register destination only when it succeeds: a 32-bit one is
 *      zero-extended only then (what the CPU does; the test checks it). */
#include "lifter/lift_internal.h"

static ZydisRegister seg_of(const struct lift_insn *i)
{
    return i->op[0].mem.segment == ZYDIS_REGISTER_FS ? ZYDIS_REGISTER_FS : ZYDIS_REGISTER_NONE;
}

/* Apply op with v to memory operand 0; returns the old value. */
static LLVMValueRef rmw(struct lift_ctx *c, const struct lift_insn *i, LLVMAtomicRMWBinOp op, LLVMValueRef v)
{
    LLVMValueRef addr = lift_ea(c, i, 0), old;
    ZydisRegister seg = seg_of(i);
    int64_t k;
    if (seg == ZYDIS_REGISTER_NONE && lift_stack_off(c, addr, &k)) {
        old = lift_load(c, addr, lift_bits(v), seg);
        LLVMValueRef r;
        switch (op) {
        case LLVMAtomicRMWBinOpAdd: r = LLVMBuildAdd(c->b, old, v, ""); break;
        case LLVMAtomicRMWBinOpSub: r = LLVMBuildSub(c->b, old, v, ""); break;
        case LLVMAtomicRMWBinOpAnd: r = LLVMBuildAnd(c->b, old, v, ""); break;
        case LLVMAtomicRMWBinOpOr: r = LLVMBuildOr(c->b, old, v, ""); break;
        default: r = LLVMBuildXor(c->b, old, v, ""); break;
        }
        lift_store(c, addr, r, seg);
        return old;
    }
    lift_note_escape(c, v);
    old = LLVMBuildAtomicRMW(c->b, op, lift_ptr(c, addr, lift_bits(v), seg), v,
                             LLVMAtomicOrderingSequentiallyConsistent, 0);
    lift_clobber_mem(c);
    return old;
}

static enum lf_status locked_alu(struct lift_ctx *c, const struct lift_insn *i, LLVMAtomicRMWBinOp op)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef b = lift_sext(c, lift_get(c, i, 1), w), old = rmw(c, i, op, b), r;
    enum lift_fop fop = LIFT_FOP_LOGIC;
    switch (op) {
    case LLVMAtomicRMWBinOpAdd: r = LLVMBuildAdd(c->b, old, b, ""); fop = LIFT_FOP_ADD; break;
    case LLVMAtomicRMWBinOpSub: r = LLVMBuildSub(c->b, old, b, ""); fop = LIFT_FOP_SUB; break;
    case LLVMAtomicRMWBinOpAnd: r = LLVMBuildAnd(c->b, old, b, ""); break;
    case LLVMAtomicRMWBinOpOr: r = LLVMBuildOr(c->b, old, b, ""); break;
    default: r = LLVMBuildXor(c->b, old, b, ""); break;
    }
    lift_flags_op(c, fop, w, old, b, r, NULL);
    return LF_OK;
}

static enum lf_status locked_incdec(struct lift_ctx *c, const struct lift_insn *i, int inc)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef one = lift_const(c, w, 1);
    LLVMValueRef old = rmw(c, i, inc ? LLVMAtomicRMWBinOpAdd : LLVMAtomicRMWBinOpSub, one);
    LLVMValueRef r = inc ? LLVMBuildAdd(c->b, old, one, "") : LLVMBuildSub(c->b, old, one, "");
    lift_flags_op(c, inc ? LIFT_FOP_INC : LIFT_FOP_DEC, w, old, one, r, NULL);
    return LF_OK;
}

#define LOCK2_ROWS_(OP, E) \
    enum lf_status lift_sem_LOCK_##OP##_M_R(struct lift_ctx *c, const struct lift_insn *i) { return locked_alu(c, i, E); } \
    enum lf_status lift_sem_LOCK_##OP##_M_I(struct lift_ctx *c, const struct lift_insn *i) { return locked_alu(c, i, E); }
LOCK2_ROWS_(ADD, LLVMAtomicRMWBinOpAdd)
LOCK2_ROWS_(SUB, LLVMAtomicRMWBinOpSub)
LOCK2_ROWS_(AND, LLVMAtomicRMWBinOpAnd)
LOCK2_ROWS_(OR, LLVMAtomicRMWBinOpOr)
LOCK2_ROWS_(XOR, LLVMAtomicRMWBinOpXor)
enum lf_status lift_sem_LOCK_INC_M(struct lift_ctx *c, const struct lift_insn *i) { return locked_incdec(c, i, 1); }
enum lf_status lift_sem_LOCK_DEC_M(struct lift_ctx *c, const struct lift_insn *i) { return locked_incdec(c, i, 0); }

/* -- xadd --------------------------------------------------------------------------- */

/* temp = dst + src; src = dst; dst = temp (src written first: xadd r, r
 * leaves the sum). */
static enum lf_status xadd_mem(struct lift_ctx *c, const struct lift_insn *i)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef b = lift_get(c, i, 1), old = rmw(c, i, LLVMAtomicRMWBinOpAdd, b);
    lift_flags_op(c, LIFT_FOP_ADD, w, old, b, LLVMBuildAdd(c->b, old, b, ""), NULL);
    lift_put(c, i, 1, old);
    return LF_OK;
}

enum lf_status lift_sem_XADD_M_R(struct lift_ctx *c, const struct lift_insn *i) { return xadd_mem(c, i); }
enum lf_status lift_sem_LOCK_XADD_M_R(struct lift_ctx *c, const struct lift_insn *i) { return xadd_mem(c, i); }

enum lf_status lift_sem_XADD_R_R(struct lift_ctx *c, const struct lift_insn *i)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef a = lift_get(c, i, 0), b = lift_get(c, i, 1), r = LLVMBuildAdd(c->b, a, b, "");
    lift_flags_op(c, LIFT_FOP_ADD, w, a, b, r, NULL);
    lift_put(c, i, 1, a);
    lift_put(c, i, 0, r);
    return LF_OK;
}

/* -- cmpxchg ------------------------------------------------------------------------ */

static ZydisRegister acc_of(unsigned w)
{
    return w == 8 ? ZYDIS_REGISTER_AL : w == 16 ? ZYDIS_REGISTER_AX : w == 32 ? ZYDIS_REGISTER_EAX : ZYDIS_REGISTER_RAX;
}

/* The accumulator after the compare: unchanged when eq, else found
 * (invariant 3). */
static void set_acc(struct lift_ctx *c, unsigned w, LLVMValueRef eq, LLVMValueRef found)
{
    if (w == 32) {
        LLVMValueRef cur = lift_gpr64(c, 0);
        lift_set_gpr64(c, 0, LLVMBuildSelect(c->b, eq, cur, lift_zext(c, found, 64), ""));
        return;
    }
    LLVMValueRef cur = lift_gpr(c, acc_of(w));
    lift_set_gpr(c, acc_of(w), LLVMBuildSelect(c->b, eq, cur, found, ""));
}

static enum lf_status cmpxchg_mem(struct lift_ctx *c, const struct lift_insn *i)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef exp = lift_gpr(c, acc_of(w)), src = lift_get(c, i, 1), addr = lift_ea(c, i, 0), old;
    ZydisRegister seg = seg_of(i);
    int64_t k;
    if (seg == ZYDIS_REGISTER_NONE && lift_stack_off(c, addr, &k)) {
        old = lift_load(c, addr, w, seg);
        LLVMValueRef eq = LLVMBuildICmp(c->b, LLVMIntEQ, old, exp, "");
        lift_store(c, addr, LLVMBuildSelect(c->b, eq, src, old, ""), seg);
    } else {
        lift_note_escape(c, src);
        LLVMValueRef cx = LLVMBuildAtomicCmpXchg(c->b, lift_ptr(c, addr, w, seg), exp, src,
                                                 LLVMAtomicOrderingSequentiallyConsistent,
                                                 LLVMAtomicOrderingSequentiallyConsistent, 0);
        old = LLVMBuildExtractValue(c->b, cx, 0, "");
        lift_clobber_mem(c);
    }
    LLVMValueRef eq = LLVMBuildICmp(c->b, LLVMIntEQ, old, exp, "");
    lift_flags_op(c, LIFT_FOP_SUB, w, exp, old, LLVMBuildSub(c->b, exp, old, ""), NULL);
    set_acc(c, w, eq, old);
    return LF_OK;
}

enum lf_status lift_sem_CMPXCHG_M_R(struct lift_ctx *c, const struct lift_insn *i) { return cmpxchg_mem(c, i); }
enum lf_status lift_sem_LOCK_CMPXCHG_M_R(struct lift_ctx *c, const struct lift_insn *i) { return cmpxchg_mem(c, i); }

enum lf_status lift_sem_CMPXCHG_R_R(struct lift_ctx *c, const struct lift_insn *i)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef exp = lift_gpr(c, acc_of(w)), d = lift_get(c, i, 0), src = lift_get(c, i, 1);
    LLVMValueRef eq = LLVMBuildICmp(c->b, LLVMIntEQ, d, exp, "");
    lift_flags_op(c, LIFT_FOP_SUB, w, exp, d, LLVMBuildSub(c->b, exp, d, ""), NULL);
    if (w == 32) {
        int r = lift_reg_index(i->op[0].reg.value);
        LLVMValueRef cur = lift_gpr64(c, r);
        lift_set_gpr64(c, r, LLVMBuildSelect(c->b, eq, lift_zext(c, src, 64), cur, ""));
    } else {
        lift_put(c, i, 0, LLVMBuildSelect(c->b, eq, src, d, ""));
    }
    set_acc(c, w, eq, d);
    return LF_OK;
}
