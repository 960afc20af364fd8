/* lift_flags.c -- lazy x86 flags at the operation's real width.
 *
 * A flag-setting instruction records its operation and operands once
 * (lift_flags_op); each flag is computed from that record only when read,
 * and conditions (lift_cond) go straight to one compare when the record is
 * a subtraction (cmp a, b; jl -> icmp slt a, b), which LLVM and the partial
 * evaluator fold best.  Invariants:
 *   1. Every flag slot holds either a value or the index of the record that
 *      defines it, never neither (block entries give values).
 *   2. A record's operands are iw values with w the instruction's operand
 *      width; shift records keep the masked count (b) as i64.
 *   3. Shifts whose masked count is zero change no flag: a known zero count
 *      records nothing, an unknown count selects between old and new.
 *   4. Undefined flags (AF after logic ops and shifts, SF/ZF/PF/AF after
 *      mul) are given some value; tests do not compare them. */
#include <stdio.h>

#include "lifter/lift_internal.h"

static LLVMValueRef lift_f_compute(struct lift_ctx *c, enum lift_flag f);

static unsigned lift_fop_mask(enum lift_fop op)
{
    const unsigned all = (1u << LIFT_F_CF) | (1u << LIFT_F_PF) | (1u << LIFT_F_AF) |
                         (1u << LIFT_F_ZF) | (1u << LIFT_F_SF) | (1u << LIFT_F_OF);
    if (op == LIFT_FOP_INC || op == LIFT_FOP_DEC) return all & ~(1u << LIFT_F_CF);
    return all;
}

static LLVMValueRef lift_i1(struct lift_ctx *c, int v) { return lift_const(c, 1, (uint64_t)v); }

static LLVMValueRef lift_msb(struct lift_ctx *c, LLVMValueRef v)
{
    return LLVMBuildICmp(c->b, LLVMIntSLT, v, LLVMConstNull(LLVMTypeOf(v)), "");
}

void lift_flags_materialize(struct lift_ctx *c, unsigned mask)
{
    for (int f = 0; f < LIFT_NFLAGS; f++)
        if ((mask >> f) & 1) c->flag[f].v = lift_f_compute(c, (enum lift_flag)f), c->flag[f].src = -1;
}

void lift_flags_op(struct lift_ctx *c, enum lift_fop op, unsigned w,
                   LLVMValueRef a, LLVMValueRef b, LLVMValueRef r, LLVMValueRef cin)
{
    unsigned mask = lift_fop_mask(op);
    int shift = op == LIFT_FOP_SHL || op == LIFT_FOP_SHR || op == LIFT_FOP_SAR;
    uint64_t cnt = 1;
    if (shift && lift_is_const(b, &cnt) && cnt == 0) return;
    if (c->nfsrc == LIFT_MAX_FSRC) {
        lift_flags_materialize(c, (1u << LIFT_NFLAGS) - 1);
        c->nfsrc = 0;
    }
    LLVMValueRef old[LIFT_NFLAGS] = { 0 };
    if (shift && !lift_is_const(b, NULL))
        for (int f = 0; f < LIFT_NFLAGS; f++)
            if ((mask >> f) & 1) old[f] = lift_flag(c, (enum lift_flag)f);
    if (op == LIFT_FOP_NEG) op = LIFT_FOP_SUB, b = a, a = LLVMConstNull(LLVMTypeOf(b));
    int s = c->nfsrc++;
    c->fsrc[s] = (struct lift_fsrc){ op, w, a, b, r, cin };
    c->flags_defined |= mask;
    for (int f = 0; f < LIFT_NFLAGS; f++) {
        if (!((mask >> f) & 1)) continue;
        c->flag[f] = (struct lift_flagslot){ NULL, s };
        if (old[f]) {
            LLVMValueRef nz = LLVMBuildICmp(c->b, LLVMIntNE, b, LLVMConstNull(LLVMTypeOf(b)), "");
            LLVMValueRef nv = lift_f_compute(c, (enum lift_flag)f);
            c->flag[f] = (struct lift_flagslot){ LLVMBuildSelect(c->b, nz, nv, old[f], ""), -1 };
        }
    }
}

void lift_set_flag(struct lift_ctx *c, enum lift_flag f, LLVMValueRef v1)
{
    LF_ASSERT(lift_bits(v1) == 1, "flag value must be i1");
    c->flag[f] = (struct lift_flagslot){ v1, -1 };
    c->flags_defined |= 1u << f;
}

static LLVMValueRef lift_f_cf(struct lift_ctx *c, const struct lift_fsrc *s)
{
    LLVMBuilderRef B = c->b;
    switch (s->op) {
    case LIFT_FOP_ADD: return LLVMBuildICmp(B, LLVMIntULT, s->r, s->a, "");
    case LIFT_FOP_ADC:
        return LLVMBuildOr(B, LLVMBuildICmp(B, LLVMIntULT, s->r, s->a, ""),
                           LLVMBuildAnd(B, s->cin, LLVMBuildICmp(B, LLVMIntEQ, s->r, s->a, ""), ""), "");
    case LIFT_FOP_SUB: return lift_icmp(c, LLVMIntULT, s->a, s->b);
    case LIFT_FOP_SBB:
        return LLVMBuildOr(B, LLVMBuildICmp(B, LLVMIntULT, s->a, s->b, ""),
                           LLVMBuildAnd(B, s->cin, LLVMBuildICmp(B, LLVMIntEQ, s->a, s->b, ""), ""), "");
    case LIFT_FOP_SHL: { /* bit w of a << count, computed in 128 bits */
        LLVMValueRef wide = LLVMBuildShl(B, lift_zext(c, s->a, 128), lift_zext(c, s->b, 128), "");
        return lift_trunc(c, LLVMBuildLShr(B, wide, lift_const(c, 128, s->w), ""), 1);
    }
    case LIFT_FOP_SHR: case LIFT_FOP_SAR: { /* bit count-1 of a */
        LLVMValueRef a64 = s->op == LIFT_FOP_SAR ? lift_sext(c, s->a, 64) : lift_zext(c, s->a, 64);
        LLVMValueRef n = LLVMBuildAnd(B, LLVMBuildSub(B, s->b, lift_const(c, 64, 1), ""),
                                      lift_const(c, 64, 63), "");
        LLVMValueRef v = s->op == LIFT_FOP_SAR ? LLVMBuildAShr(B, a64, n, "") : LLVMBuildLShr(B, a64, n, "");
        return lift_trunc(c, v, 1);
    }
    case LIFT_FOP_MUL: return s->cin;
    default: return lift_i1(c, 0);
    }
}

/* OF of a + b (sadd) or a - b (ssub) as LLVM's overflow intrinsic, which
 * instcombine folds and the back end emits as the operation and a `jo`;
 * the sign formula of the operands and result costs four instructions. */
static LLVMValueRef lift_f_of_intrinsic(struct lift_ctx *c, const char *op, LLVMValueRef a, LLVMValueRef b)
{
    char name[48];
    LLVMTypeRef ty = LLVMTypeOf(a), args[2] = { ty, ty };
    snprintf(name, sizeof name, "llvm.%s.with.overflow.i%u", op, LLVMGetIntTypeWidth(ty));
    LLVMTypeRef fields[2] = { ty, LLVMInt1TypeInContext(c->lc) };
    LLVMTypeRef fty = LLVMFunctionType(LLVMStructTypeInContext(c->lc, fields, 2, 0), args, 2, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(c->m, name);
    if (!fn) fn = LLVMAddFunction(c->m, name, fty);
    LLVMValueRef ops[2] = { a, b };
    return LLVMBuildExtractValue(c->b, LLVMBuildCall2(c->b, fty, fn, ops, 2, ""), 1, "");
}

static LLVMValueRef lift_f_of(struct lift_ctx *c, const struct lift_fsrc *s)
{
    LLVMBuilderRef B = c->b;
    /* Known operands: the builder folds the sign formula to a constant. */
    int known = LLVMIsConstant(s->a) && LLVMIsConstant(s->b);
    switch (s->op) {
    case LIFT_FOP_ADD: case LIFT_FOP_ADC: case LIFT_FOP_INC:
        if (s->op != LIFT_FOP_ADC && !known) return lift_f_of_intrinsic(c, "sadd", s->a, s->b);
        return lift_msb(c, LLVMBuildAnd(B, LLVMBuildXor(B, s->a, s->r, ""),
                                        LLVMBuildXor(B, s->b, s->r, ""), ""));
    case LIFT_FOP_SUB: case LIFT_FOP_SBB: case LIFT_FOP_DEC:
        if (s->op != LIFT_FOP_SBB && !known) return lift_f_of_intrinsic(c, "ssub", s->a, s->b);
        return lift_msb(c, LLVMBuildAnd(B, LLVMBuildXor(B, s->a, s->b, ""),
                                        LLVMBuildXor(B, s->a, s->r, ""), ""));
    case LIFT_FOP_SHL: return LLVMBuildXor(B, lift_msb(c, s->r), lift_f_cf(c, s), "");
    case LIFT_FOP_SHR: return lift_msb(c, s->a);
    case LIFT_FOP_MUL: return s->cin;
    default: return lift_i1(c, 0);
    }
}

static LLVMValueRef lift_f_compute_src(struct lift_ctx *c, enum lift_flag f, const struct lift_fsrc *s)
{
    LLVMBuilderRef B = c->b;
    switch (f) {
    case LIFT_F_CF: return lift_f_cf(c, s);
    case LIFT_F_OF: return lift_f_of(c, s);
    case LIFT_F_ZF: return LLVMBuildICmp(B, LLVMIntEQ, s->r, LLVMConstNull(LLVMTypeOf(s->r)), "");
    case LIFT_F_SF: return lift_msb(c, s->r);
    case LIFT_F_PF: {
        LLVMValueRef lo = lift_zext(c, lift_trunc(c, s->r, 8), 32);
        LLVMTypeRef ty = c->i32;
        LLVMValueRef fn = LLVMGetNamedFunction(c->m, "llvm.ctpop.i32");
        if (!fn) fn = LLVMAddFunction(c->m, "llvm.ctpop.i32", LLVMFunctionType(ty, &ty, 1, 0));
        LLVMValueRef n = LLVMBuildCall2(B, LLVMFunctionType(ty, &ty, 1, 0), fn, &lo, 1, "");
        return LLVMBuildICmp(B, LLVMIntEQ, LLVMBuildAnd(B, n, lift_const(c, 32, 1), ""),
                             lift_const(c, 32, 0), "");
    }
    case LIFT_F_AF:
        if (s->op > LIFT_FOP_NEG || s->op == LIFT_FOP_LOGIC) return lift_i1(c, 0);
        return lift_trunc(c, LLVMBuildLShr(B, LLVMBuildXor(B, LLVMBuildXor(B, s->a, s->b, ""), s->r, ""),
                                           lift_const(c, s->w, 4), ""), 1);
    default: return lift_i1(c, 0);
    }
}

static LLVMValueRef lift_f_compute(struct lift_ctx *c, enum lift_flag f)
{
    struct lift_flagslot *fs = &c->flag[f];
    if (fs->v) return fs->v;
    LF_ASSERT(fs->src >= 0 && fs->src < c->nfsrc, "flag without a value or a source");
    fs->v = lift_f_compute_src(c, f, &c->fsrc[fs->src]);
    return fs->v;
}

LLVMValueRef lift_flag(struct lift_ctx *c, enum lift_flag f)
{
    c->flags_used |= (1u << f) & ~c->flags_defined;
    return lift_f_compute(c, f);
}

int lift_cc_of(ZydisMnemonic m)
{
    static const ZydisMnemonic j[16] = {
        ZYDIS_MNEMONIC_JO, ZYDIS_MNEMONIC_JNO, ZYDIS_MNEMONIC_JB, ZYDIS_MNEMONIC_JNB,
        ZYDIS_MNEMONIC_JZ, ZYDIS_MNEMONIC_JNZ, ZYDIS_MNEMONIC_JBE, ZYDIS_MNEMONIC_JNBE,
        ZYDIS_MNEMONIC_JS, ZYDIS_MNEMONIC_JNS, ZYDIS_MNEMONIC_JP, ZYDIS_MNEMONIC_JNP,
        ZYDIS_MNEMONIC_JL, ZYDIS_MNEMONIC_JNL, ZYDIS_MNEMONIC_JLE, ZYDIS_MNEMONIC_JNLE };
    static const ZydisMnemonic s[16] = {
        ZYDIS_MNEMONIC_SETO, ZYDIS_MNEMONIC_SETNO, ZYDIS_MNEMONIC_SETB, ZYDIS_MNEMONIC_SETNB,
        ZYDIS_MNEMONIC_SETZ, ZYDIS_MNEMONIC_SETNZ, ZYDIS_MNEMONIC_SETBE, ZYDIS_MNEMONIC_SETNBE,
        ZYDIS_MNEMONIC_SETS, ZYDIS_MNEMONIC_SETNS, ZYDIS_MNEMONIC_SETP, ZYDIS_MNEMONIC_SETNP,
        ZYDIS_MNEMONIC_SETL, ZYDIS_MNEMONIC_SETNL, ZYDIS_MNEMONIC_SETLE, ZYDIS_MNEMONIC_SETNLE };
    static const ZydisMnemonic cm[16] = {
        ZYDIS_MNEMONIC_CMOVO, ZYDIS_MNEMONIC_CMOVNO, ZYDIS_MNEMONIC_CMOVB, ZYDIS_MNEMONIC_CMOVNB,
        ZYDIS_MNEMONIC_CMOVZ, ZYDIS_MNEMONIC_CMOVNZ, ZYDIS_MNEMONIC_CMOVBE, ZYDIS_MNEMONIC_CMOVNBE,
        ZYDIS_MNEMONIC_CMOVS, ZYDIS_MNEMONIC_CMOVNS, ZYDIS_MNEMONIC_CMOVP, ZYDIS_MNEMONIC_CMOVNP,
        ZYDIS_MNEMONIC_CMOVL, ZYDIS_MNEMONIC_CMOVNL, ZYDIS_MNEMONIC_CMOVLE, ZYDIS_MNEMONIC_CMOVNLE };
    for (int k = 0; k < 16; k++)
        if (j[k] == m || s[k] == m || cm[k] == m) return k;
    return -1;
}

/* A condition straight from one subtraction record, or NULL. */
static LLVMValueRef lift_cond_sub(struct lift_ctx *c, unsigned cc)
{
    static const LLVMIntPredicate pred[16] = {
        0, 0, LLVMIntULT, LLVMIntUGE, LLVMIntEQ, LLVMIntNE, LLVMIntULE, LLVMIntUGT,
        0, 0, 0, 0, LLVMIntSLT, LLVMIntSGE, LLVMIntSLE, LLVMIntSGT };
    int s = c->flag[LIFT_F_ZF].src;
    if (s < 0 || !pred[cc] || c->flag[LIFT_F_ZF].v) return NULL;
    if (c->fsrc[s].op != LIFT_FOP_SUB) return NULL;
    for (int f = 0; f < LIFT_NFLAGS; f++) {
        if (f == LIFT_F_PF || f == LIFT_F_AF || f == LIFT_F_DF) continue;
        if (c->flag[f].v || c->flag[f].src != s) return NULL;
    }
    c->flags_used |= ((1u << LIFT_F_ZF) | (1u << LIFT_F_CF) | (1u << LIFT_F_SF) |
                      (1u << LIFT_F_OF)) & ~c->flags_defined;
    return lift_icmp(c, pred[cc], c->fsrc[s].a, c->fsrc[s].b);
}

LLVMValueRef lift_cond(struct lift_ctx *c, unsigned cc)
{
    LF_ASSERT(cc < 16, "bad condition code");
    LLVMValueRef v = lift_cond_sub(c, cc);
    if (v) return v;
    LLVMBuilderRef B = c->b;
    switch (cc & ~1u) {
    case 0: v = lift_flag(c, LIFT_F_OF); break;
    case 2: v = lift_flag(c, LIFT_F_CF); break;
    case 4: v = lift_flag(c, LIFT_F_ZF); break;
    case 6: v = LLVMBuildOr(B, lift_flag(c, LIFT_F_CF), lift_flag(c, LIFT_F_ZF), ""); break;
    case 8: v = lift_flag(c, LIFT_F_SF); break;
    case 10: v = lift_flag(c, LIFT_F_PF); break;
    case 12: v = LLVMBuildXor(B, lift_flag(c, LIFT_F_SF), lift_flag(c, LIFT_F_OF), ""); break;
    default:
        v = LLVMBuildOr(B, lift_flag(c, LIFT_F_ZF),
                        LLVMBuildXor(B, lift_flag(c, LIFT_F_SF), lift_flag(c, LIFT_F_OF), ""), "");
        break;
    }
    return (cc & 1) ? LLVMBuildNot(B, v, "") : v;
}
