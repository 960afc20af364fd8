/* sem_string.c -- string operations: stos and movs of 1, 4 and 8 bytes,
 * with and without a rep prefix.
 *
 * One element:   stos  [rdi] = al/eax/rax;      rdi += step
 *                movs  [rdi] = [rsi];           rsi += step; rdi += step
 * where step = +n, or -n when DF is set.  With rep the element repeats rcx
 * times (none when rcx = 0), one element at a time in increasing (or, with
 * DF, decreasing) address order, and rcx ends at 0.
 *
 * Invariants:
 *   1. rep is a loop of single elements, never memmove/memset by itself: an
 *      overlapping rep movs (dst just above src) must replicate the pattern
 *      exactly as the CPU's element order does.  LLVM's loop-idiom pass
 *      turns the loop into memset/memcpy where that is provably the same.
 *   2. The loop accesses memory through lift_ptr and ends with
 *      lift_clobber_mem: its addresses are loop-variant, so no stack slot
 *      can be forwarded across it.  A single element uses lift_load /
 *      lift_store, so `stos` into a known stack slot still forwards.
 *   3. Refused (the caller bails out): repne, a 32-bit address size (0x67)
 *      and segment overrides, none of which compilers emit for these. */
#include "lifter/lift_internal.h"

struct strop {
    unsigned n;          /* element size in bytes */
    int movs;            /* 1 = movs, 0 = stos */
};

static enum lf_status str_check(struct lift_ctx *c, const struct lift_insn *i)
{
    if (i->zi.attributes & ZYDIS_ATTRIB_HAS_REPNE) return lift_fail(c, "repne on a string store");
    if (i->zi.address_width != 64) return lift_fail(c, "string op with %u-bit addresses", i->zi.address_width);
    if (i->zi.attributes & (ZYDIS_ATTRIB_HAS_SEGMENT_CS | ZYDIS_ATTRIB_HAS_SEGMENT_SS |
                            ZYDIS_ATTRIB_HAS_SEGMENT_DS | ZYDIS_ATTRIB_HAS_SEGMENT_ES |
                            ZYDIS_ATTRIB_HAS_SEGMENT_FS | ZYDIS_ATTRIB_HAS_SEGMENT_GS))
        return lift_fail(c, "segment override on a string op");
    return LF_OK;
}

/* +n or -n by DF, as i64. */
static LLVMValueRef str_step(struct lift_ctx *c, unsigned n)
{
    return LLVMBuildSelect(c->b, lift_flag(c, LIFT_F_DF), lift_const(c, 64, (uint64_t)-(int64_t)n),
                           lift_const(c, 64, n), "step");
}

static enum lf_status str_once(struct lift_ctx *c, struct strop op)
{
    LLVMValueRef step = str_step(c, op.n), rdi = lift_gpr64(c, 7);
    LLVMValueRef v = op.movs ? lift_load(c, lift_gpr64(c, 6), op.n * 8, ZYDIS_REGISTER_NONE)
                             : lift_trunc(c, lift_gpr64(c, 0), op.n * 8);
    lift_store(c, rdi, v, ZYDIS_REGISTER_NONE);
    lift_set_gpr64(c, 7, lift_add(c, rdi, step));
    if (op.movs) lift_set_gpr64(c, 6, lift_add(c, lift_gpr64(c, 6), step));
    return LF_OK;
}

/* rep: a loop from the current block, phis for rdi/rsi/rcx (invariant 1). */
static enum lf_status str_rep(struct lift_ctx *c, struct strop op)
{
    LLVMBuilderRef B = c->b;
    LLVMTypeRef t = lift_int(c, op.n * 8);
    LLVMValueRef step = str_step(c, op.n);
    LLVMValueRef rcx0 = lift_gpr64(c, 1), rdi0 = lift_gpr64(c, 7), rsi0 = lift_gpr64(c, 6);
    LLVMValueRef val = lift_trunc(c, lift_gpr64(c, 0), op.n * 8), zero = lift_const(c, 64, 0);
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(B);
    LLVMBasicBlockRef body = lift_new_bb(c, "rep"), done = lift_new_bb(c, "rep.done");
    LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntEQ, rcx0, zero, ""), done, body);

    LLVMPositionBuilderAtEnd(B, body);
    LLVMValueRef rcx = LLVMBuildPhi(B, c->i64, "rcx"), rdi = LLVMBuildPhi(B, c->i64, "rdi");
    LLVMValueRef rsi = op.movs ? LLVMBuildPhi(B, c->i64, "rsi") : rsi0;
    if (op.movs) val = LLVMBuildLoad2(B, t, lift_ptr(c, rsi, op.n * 8, ZYDIS_REGISTER_NONE), "");
    LLVMBuildStore(B, val, lift_ptr(c, rdi, op.n * 8, ZYDIS_REGISTER_NONE));
    LLVMValueRef rcx1 = LLVMBuildSub(B, rcx, lift_const(c, 64, 1), "");
    LLVMValueRef rdi1 = LLVMBuildAdd(B, rdi, step, ""), rsi1 = LLVMBuildAdd(B, rsi, step, "");
    LLVMBasicBlockRef tail = LLVMGetInsertBlock(B);
    LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntEQ, rcx1, zero, ""), done, body);
    LLVMValueRef in_v[2] = { rcx0, rcx1 }, in_d[2] = { rdi0, rdi1 }, in_s[2] = { rsi0, rsi1 };
    LLVMBasicBlockRef in_b[2] = { pre, tail };
    LLVMAddIncoming(rcx, in_v, in_b, 2);
    LLVMAddIncoming(rdi, in_d, in_b, 2);
    if (op.movs) LLVMAddIncoming(rsi, in_s, in_b, 2);

    LLVMPositionBuilderAtEnd(B, done);
    LLVMValueRef rdi_e = LLVMBuildPhi(B, c->i64, "rdi"), rsi_e = LLVMBuildPhi(B, c->i64, "rsi");
    LLVMValueRef out_d[2] = { rdi0, rdi1 }, out_s[2] = { rsi0, rsi1 };
    LLVMAddIncoming(rdi_e, out_d, in_b, 2);
    LLVMAddIncoming(rsi_e, out_s, in_b, 2);
    lift_set_gpr64(c, 1, zero);
    lift_set_gpr64(c, 7, rdi_e);
    lift_set_gpr64(c, 6, op.movs ? rsi_e : rsi0);
    lift_clobber_mem(c);
    return LF_OK;
}

static enum lf_status str_op(struct lift_ctx *c, const struct lift_insn *i, unsigned n, int movs)
{
    LF_CHECK(str_check(c, i));
    struct strop op = { n, movs };
    return i->zi.attributes & ZYDIS_ATTRIB_HAS_REP ? str_rep(c, op) : str_once(c, op);
}

enum lf_status lift_sem_STOSB(struct lift_ctx *c, const struct lift_insn *i) { return str_op(c, i, 1, 0); }
enum lf_status lift_sem_STOSD(struct lift_ctx *c, const struct lift_insn *i) { return str_op(c, i, 4, 0); }
enum lf_status lift_sem_STOSQ(struct lift_ctx *c, const struct lift_insn *i) { return str_op(c, i, 8, 0); }
enum lf_status lift_sem_MOVSB(struct lift_ctx *c, const struct lift_insn *i) { return str_op(c, i, 1, 1); }
enum lf_status lift_sem_MOVSD_STR(struct lift_ctx *c, const struct lift_insn *i) { return str_op(c, i, 4, 1); }
enum lf_status lift_sem_MOVSQ(struct lift_ctx *c, const struct lift_insn *i) { return str_op(c, i, 8, 1); }
