/* sem_bits.c -- bit scans and counts (bsf, bsr, tzcnt, lzcnt, popcnt), byte
 * swaps (bswap) and bit tests (bt, bts, btr, btc on registers and memory).
 *
 * Flags: only those the CPU defines are written; the ones it leaves
 * undefined keep their value (a program cannot rely on them).
 * Invariants:
 *   1. bsf/bsr of zero write nothing: the destination keeps its whole
 *      64-bit value (what this CPU family does; "undefined" in the manual)
 *      and ZF = 1.
 *   2. bt* with a register offset on memory address the byte at
 *      ea + (offset >> 3) (offset signed, of the operand's width) and bit
 *      offset & 7, which reads and writes the same bit as the CPU's
 *      width-sized access; with an immediate or on a register the offset is
 *      taken modulo the width. */
#include "lifter/lift_internal.h"

#include <stdio.h>

/* llvm.<base>.iN(a[, i1 k]) */
static LLVMValueRef intr(struct lift_ctx *c, const char *base, LLVMValueRef a, int with_flag)
{
    char name[32];
    LLVMTypeRef t = LLVMTypeOf(a), ps[2] = { t, LLVMInt1TypeInContext(c->lc) };
    snprintf(name, sizeof name, "llvm.%s.i%u", base, lift_bits(a));
    LLVMTypeRef ft = LLVMFunctionType(t, ps, with_flag ? 2 : 1, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(c->m, name);
    if (!fn) fn = LLVMAddFunction(c->m, name, ft);
    LLVMValueRef args[2] = { a, lift_const(c, 1, 0) }; /* zero input defined: width */
    return LLVMBuildCall2(c->b, ft, fn, args, with_flag ? 2 : 1, "");
}

static LLVMValueRef is_zero(struct lift_ctx *c, LLVMValueRef v)
{
    return LLVMBuildICmp(c->b, LLVMIntEQ, v, LLVMConstNull(LLVMTypeOf(v)), "");
}

/* -- scans ------------------------------------------------------------------------ */

static enum lf_status bscan(struct lift_ctx *c, const struct lift_insn *i, int reverse)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef src = lift_get(c, i, 1), z = is_zero(c, src);
    LLVMValueRef r = intr(c, reverse ? "ctlz" : "cttz", src, 1);
    if (reverse) r = LLVMBuildSub(c->b, lift_const(c, w, w - 1), r, "");
    int d = lift_reg_index(i->op[0].reg.value);
    LLVMValueRef old = lift_gpr64(c, d);
    LLVMValueRef merged = w == 16 ? LLVMBuildOr(c->b, LLVMBuildAnd(c->b, old, lift_const(c, 64, ~0xffffull), ""),
                                                lift_zext(c, r, 64), "")
                                  : lift_zext(c, r, 64);
    lift_set_gpr64(c, d, LLVMBuildSelect(c->b, z, old, merged, ""));
    lift_set_flag(c, LIFT_F_ZF, z);
    return LF_OK;
}

/* tzcnt/lzcnt: the count (the width for zero); CF = source zero, ZF = count zero. */
static enum lf_status count0(struct lift_ctx *c, const struct lift_insn *i, int leading)
{
    LLVMValueRef src = lift_get(c, i, 1), r = intr(c, leading ? "ctlz" : "cttz", src, 1);
    lift_put(c, i, 0, r);
    lift_set_flag(c, LIFT_F_CF, is_zero(c, src));
    lift_set_flag(c, LIFT_F_ZF, is_zero(c, r));
    return LF_OK;
}

static enum lf_status popcnt(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef src = lift_get(c, i, 1), f = lift_const(c, 1, 0);
    lift_put(c, i, 0, intr(c, "ctpop", src, 0));
    lift_set_flag(c, LIFT_F_ZF, is_zero(c, src));
    lift_set_flag(c, LIFT_F_CF, f);
    lift_set_flag(c, LIFT_F_OF, f);
    lift_set_flag(c, LIFT_F_SF, f);
    lift_set_flag(c, LIFT_F_AF, f);
    lift_set_flag(c, LIFT_F_PF, f);
    return LF_OK;
}

enum lf_status lift_sem_BSF_R_R(struct lift_ctx *c, const struct lift_insn *i) { return bscan(c, i, 0); }
enum lf_status lift_sem_BSF_R_M(struct lift_ctx *c, const struct lift_insn *i) { return bscan(c, i, 0); }
enum lf_status lift_sem_BSR_R_R(struct lift_ctx *c, const struct lift_insn *i) { return bscan(c, i, 1); }
enum lf_status lift_sem_BSR_R_M(struct lift_ctx *c, const struct lift_insn *i) { return bscan(c, i, 1); }
enum lf_status lift_sem_TZCNT_R_R(struct lift_ctx *c, const struct lift_insn *i) { return count0(c, i, 0); }
enum lf_status lift_sem_TZCNT_R_M(struct lift_ctx *c, const struct lift_insn *i) { return count0(c, i, 0); }
enum lf_status lift_sem_LZCNT_R_R(struct lift_ctx *c, const struct lift_insn *i) { return count0(c, i, 1); }
enum lf_status lift_sem_LZCNT_R_M(struct lift_ctx *c, const struct lift_insn *i) { return count0(c, i, 1); }
enum lf_status lift_sem_POPCNT_R_R(struct lift_ctx *c, const struct lift_insn *i) { return popcnt(c, i); }
enum lf_status lift_sem_POPCNT_R_M(struct lift_ctx *c, const struct lift_insn *i) { return popcnt(c, i); }

enum lf_status lift_sem_BSWAP_R(struct lift_ctx *c, const struct lift_insn *i)
{
    lift_put(c, i, 0, intr(c, "bswap", lift_get(c, i, 0), 0));
    return LF_OK;
}

/* -- bit tests ---------------------------------------------------------------------- */

enum bitop { BIT_TEST, BIT_SET, BIT_RESET, BIT_COMPLEMENT };

/* CF = bit n of a; the new value of a for op (NULL for bt). */
static LLVMValueRef bit_apply(struct lift_ctx *c, LLVMValueRef a, LLVMValueRef n, enum bitop op)
{
    LLVMBuilderRef B = c->b;
    lift_set_flag(c, LIFT_F_CF, lift_trunc(c, LLVMBuildLShr(B, a, n, ""), 1));
    LLVMValueRef m = LLVMBuildShl(B, LLVMConstInt(LLVMTypeOf(a), 1, 0), n, "");
    switch (op) {
    case BIT_SET: return LLVMBuildOr(B, a, m, "");
    case BIT_RESET: return LLVMBuildAnd(B, a, LLVMBuildNot(B, m, ""), "");
    case BIT_COMPLEMENT: return LLVMBuildXor(B, a, m, "");
    default: return NULL;
    }
}

/* bt* r/m, r/imm with the offset modulo the width (register destination or
 * an immediate offset). */
static enum lf_status bit_mod(struct lift_ctx *c, const struct lift_insn *i, enum bitop op)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef a = lift_get(c, i, 0);
    LLVMValueRef n = LLVMBuildAnd(c->b, lift_zext(c, lift_get(c, i, 1), w), lift_const(c, w, w - 1), "");
    LLVMValueRef r = bit_apply(c, a, n, op);
    if (r) lift_put(c, i, 0, r);
    return LF_OK;
}

/* bt* m, r: the register offset reaches any byte (invariant 2). */
static enum lf_status bit_mem(struct lift_ctx *c, const struct lift_insn *i, enum bitop op)
{
    ZydisRegister seg = i->op[0].mem.segment == ZYDIS_REGISTER_FS ? ZYDIS_REGISTER_FS : ZYDIS_REGISTER_NONE;
    LLVMValueRef off = lift_sext(c, lift_get(c, i, 1), 64);
    LLVMValueRef addr = lift_add(c, lift_ea(c, i, 0), LLVMBuildAShr(c->b, off, lift_const(c, 64, 3), ""));
    LLVMValueRef n = lift_trunc(c, LLVMBuildAnd(c->b, off, lift_const(c, 64, 7), ""), 8);
    LLVMValueRef r = bit_apply(c, lift_load(c, addr, 8, seg), n, op);
    if (r) lift_store(c, addr, r, seg);
    return LF_OK;
}

#define BIT_ROWS_(OP, E) \
    enum lf_status lift_sem_##OP##_R_I(struct lift_ctx *c, const struct lift_insn *i) { return bit_mod(c, i, E); } \
    enum lf_status lift_sem_##OP##_M_I(struct lift_ctx *c, const struct lift_insn *i) { return bit_mod(c, i, E); } \
    enum lf_status lift_sem_##OP##_M_R(struct lift_ctx *c, const struct lift_insn *i) { return bit_mem(c, i, E); }
BIT_ROWS_(BT, BIT_TEST)
BIT_ROWS_(BTS, BIT_SET)
BIT_ROWS_(BTR, BIT_RESET)
BIT_ROWS_(BTC, BIT_COMPLEMENT)
enum lf_status lift_sem_BTS_R_R(struct lift_ctx *c, const struct lift_insn *i) { return bit_mod(c, i, BIT_SET); }
enum lf_status lift_sem_BTR_R_R(struct lift_ctx *c, const struct lift_insn *i) { return bit_mod(c, i, BIT_RESET); }
enum lf_status lift_sem_BTC_R_R(struct lift_ctx *c, const struct lift_insn *i) { return bit_mod(c, i, BIT_COMPLEMENT); }
