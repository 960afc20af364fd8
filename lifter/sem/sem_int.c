/* sem_int.c -- integer semantics: ALU, shifts, rotates, multiply, divide,
 * moves and extensions, with flags at the operand's real width.
 *
 * One static worker per instruction family; the lift_sem_<FORM> functions
 * the form table requires are thin wrappers generated below.  Operands come
 * from lift_get at their own width; immediates are sign-extended to the
 * destination width (x86 rule for imm8/imm32 with wider operands).
 * Invariants: see lift_internal.h; in particular, flags are recorded with
 * lift_flags_op at width w and only for the flags the CPU writes. */
#include "lifter/lift_internal.h"

#include <stdio.h>

enum alu { ALU_ADD, ALU_ADC, ALU_SUB, ALU_SBB, ALU_AND, ALU_OR, ALU_XOR, ALU_CMP, ALU_TEST };

static int same_reg(const struct lift_insn *i)
{
    return i->op[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
           i->op[1].type == ZYDIS_OPERAND_TYPE_REGISTER && i->op[0].reg.value == i->op[1].reg.value;
}

/* A narrow AND with a constant of a truncated wider value (`test al, 1`
 * on a 64-bit register) masks the wide value and truncates after: the
 * zero test of the result is then the same value as the wide test of the
 * same bits (`test rax, 1`), which LLVM can merge, where an AND of the
 * truncation is a different value to it. */
static LLVMValueRef narrow_and(struct lift_ctx *c, LLVMValueRef a, LLVMValueRef b, unsigned w)
{
    if (!LLVMIsAConstantInt(b) || !LLVMIsAInstruction(a) || LLVMGetInstructionOpcode(a) != LLVMTrunc)
        return LLVMBuildAnd(c->b, a, b, "");
    LLVMValueRef x = LLVMGetOperand(a, 0);
    LLVMValueRef wide = LLVMBuildAnd(c->b, x, LLVMConstZExt(b, LLVMTypeOf(x)), "");
    return LLVMBuildTrunc(c->b, wide, LLVMIntTypeInContext(c->lc, w), "");
}

static enum lf_status alu2(struct lift_ctx *c, const struct lift_insn *i, enum alu op)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef a = lift_get(c, i, 0), b = lift_sext(c, lift_get(c, i, 1), w), r, cin = NULL;
    LLVMBuilderRef B = c->b;
    enum lift_fop fop = LIFT_FOP_LOGIC;
    switch (op) {
    case ALU_ADD: r = w == 64 ? lift_add(c, a, b) : LLVMBuildAdd(B, a, b, ""); fop = LIFT_FOP_ADD; break;
    case ALU_SUB: case ALU_CMP:
        r = same_reg(i) ? lift_const(c, w, 0) : w == 64 ? lift_sub(c, a, b) : LLVMBuildSub(B, a, b, "");
        fop = LIFT_FOP_SUB;
        break;
    case ALU_ADC:
        cin = lift_flag(c, LIFT_F_CF);
        r = LLVMBuildAdd(B, LLVMBuildAdd(B, a, b, ""), lift_zext(c, cin, w), "");
        fop = LIFT_FOP_ADC;
        break;
    case ALU_SBB:
        cin = lift_flag(c, LIFT_F_CF);
        r = LLVMBuildSub(B, LLVMBuildSub(B, a, b, ""), lift_zext(c, cin, w), "");
        fop = LIFT_FOP_SBB;
        break;
    case ALU_AND: case ALU_TEST: r = w == 64 ? lift_and(c, a, b) : narrow_and(c, a, b, w); break;
    case ALU_OR: r = LLVMBuildOr(B, a, b, ""); break;
    default: r = same_reg(i) ? lift_const(c, w, 0) : LLVMBuildXor(B, a, b, ""); break;
    }
    lift_flags_op(c, fop, w, a, b, r, cin);
    if (op != ALU_CMP && op != ALU_TEST) lift_put(c, i, 0, r);
    return LF_OK;
}

#define ALU_ROWS_(OP, E) \
    enum lf_status lift_sem_##OP##_R_R(struct lift_ctx *c, const struct lift_insn *i) { return alu2(c, i, E); } \
    enum lf_status lift_sem_##OP##_R_M(struct lift_ctx *c, const struct lift_insn *i) { return alu2(c, i, E); } \
    enum lf_status lift_sem_##OP##_M_R(struct lift_ctx *c, const struct lift_insn *i) { return alu2(c, i, E); } \
    enum lf_status lift_sem_##OP##_R_I(struct lift_ctx *c, const struct lift_insn *i) { return alu2(c, i, E); } \
    enum lf_status lift_sem_##OP##_M_I(struct lift_ctx *c, const struct lift_insn *i) { return alu2(c, i, E); }
ALU_ROWS_(ADD, ALU_ADD)
ALU_ROWS_(ADC, ALU_ADC)
ALU_ROWS_(SUB, ALU_SUB)
ALU_ROWS_(SBB, ALU_SBB)
ALU_ROWS_(AND, ALU_AND)
ALU_ROWS_(OR, ALU_OR)
ALU_ROWS_(XOR, ALU_XOR)
ALU_ROWS_(CMP, ALU_CMP)
enum lf_status lift_sem_TEST_R_R(struct lift_ctx *c, const struct lift_insn *i) { return alu2(c, i, ALU_TEST); }
enum lf_status lift_sem_TEST_M_R(struct lift_ctx *c, const struct lift_insn *i) { return alu2(c, i, ALU_TEST); }
enum lf_status lift_sem_TEST_R_I(struct lift_ctx *c, const struct lift_insn *i) { return alu2(c, i, ALU_TEST); }
enum lf_status lift_sem_TEST_M_I(struct lift_ctx *c, const struct lift_insn *i) { return alu2(c, i, ALU_TEST); }

/* -- one-operand ALU ------------------------------------------------------------- */

static enum lf_status alu1(struct lift_ctx *c, const struct lift_insn *i, enum lift_fop op)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef a = lift_get(c, i, 0), one = lift_const(c, w, 1), r;
    switch (op) {
    case LIFT_FOP_INC: r = LLVMBuildAdd(c->b, a, one, ""); lift_flags_op(c, op, w, a, one, r, NULL); break;
    case LIFT_FOP_DEC: r = LLVMBuildSub(c->b, a, one, ""); lift_flags_op(c, op, w, a, one, r, NULL); break;
    case LIFT_FOP_NEG: r = LLVMBuildNeg(c->b, a, ""); lift_flags_op(c, op, w, a, NULL, r, NULL); break;
    default: r = LLVMBuildNot(c->b, a, ""); break;
    }
    lift_put(c, i, 0, r);
    return LF_OK;
}

enum lf_status lift_sem_INC_R(struct lift_ctx *c, const struct lift_insn *i) { return alu1(c, i, LIFT_FOP_INC); }
enum lf_status lift_sem_INC_M(struct lift_ctx *c, const struct lift_insn *i) { return alu1(c, i, LIFT_FOP_INC); }
enum lf_status lift_sem_DEC_R(struct lift_ctx *c, const struct lift_insn *i) { return alu1(c, i, LIFT_FOP_DEC); }
enum lf_status lift_sem_DEC_M(struct lift_ctx *c, const struct lift_insn *i) { return alu1(c, i, LIFT_FOP_DEC); }
enum lf_status lift_sem_NEG_R(struct lift_ctx *c, const struct lift_insn *i) { return alu1(c, i, LIFT_FOP_NEG); }
enum lf_status lift_sem_NEG_M(struct lift_ctx *c, const struct lift_insn *i) { return alu1(c, i, LIFT_FOP_NEG); }
enum lf_status lift_sem_NOT_R(struct lift_ctx *c, const struct lift_insn *i) { return alu1(c, i, LIFT_FOP__MAX); }
enum lf_status lift_sem_NOT_M(struct lift_ctx *c, const struct lift_insn *i) { return alu1(c, i, LIFT_FOP__MAX); }

/* -- shifts and rotates ---------------------------------------------------------- */

/* The masked count as i64 (imm or cl; 5 bits, 6 for 64-bit operands). */
static LLVMValueRef shift_count(struct lift_ctx *c, const struct lift_insn *i, unsigned w)
{
    LLVMValueRef n = lift_zext(c, lift_get(c, i, 1), 64);
    return LLVMBuildAnd(c->b, n, lift_const(c, 64, w == 64 ? 63 : 31), "");
}

static enum lf_status shift(struct lift_ctx *c, const struct lift_insn *i, enum lift_fop op)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef a = lift_get(c, i, 0), n = shift_count(c, i, w), r;
    LLVMBuilderRef B = c->b;
    /* A frame address shifted right by a constant is followed (gcc's VLA
     * pointer, lift_block.c LIFT_AK_SHR); shifted any other way (or such a
     * value shifted again) it is a pointer the lifter loses, so what it
     * reaches escapes. */
    LLVMValueRef back = op == LIFT_FOP_SHL && w == 64 ? lift_frame_shl(c, a, n) : NULL;
    if (!back && (!(op == LIFT_FOP_SHR && w == 64 && LLVMIsAConstantInt(n)) ||
                  (LLVMIsAInstruction(a) && LLVMGetInstructionOpcode(a) == LLVMLShr)))
        lift_note_escape(c, a);
    /* Computed in 64 bits so counts up to 31 on 8/16-bit operands are defined. */
    if (back) r = back;   /* shifted back: the aligned frame address */
    else if (op == LIFT_FOP_SHL) r = LLVMBuildShl(B, lift_zext(c, a, 64), n, "");
    else if (op == LIFT_FOP_SHR) r = LLVMBuildLShr(B, lift_zext(c, a, 64), n, "");
    else r = LLVMBuildAShr(B, lift_sext(c, a, 64), n, "");
    r = lift_trunc(c, r, w);
    lift_flags_op(c, op, w, a, n, r, NULL);
    lift_put(c, i, 0, r);
    return LF_OK;
}

static LLVMValueRef funnel(struct lift_ctx *c, const char *base, LLVMValueRef a, LLVMValueRef n)
{
    char name[32];
    LLVMTypeRef t = LLVMTypeOf(a);
    snprintf(name, sizeof name, "llvm.%s.i%u", base, lift_bits(a));
    LLVMTypeRef ps[3] = { t, t, t };
    LLVMTypeRef ft = LLVMFunctionType(t, ps, 3, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(c->m, name);
    if (!fn) fn = LLVMAddFunction(c->m, name, ft);
    LLVMValueRef args[3] = { a, a, lift_zext(c, n, lift_bits(a)) };
    return LLVMBuildCall2(c->b, ft, fn, args, 3, "");
}

static enum lf_status rotate(struct lift_ctx *c, const struct lift_insn *i, int left)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef a = lift_get(c, i, 0), n = shift_count(c, i, w);
    LLVMBuilderRef B = c->b;
    LLVMValueRef r = funnel(c, left ? "fshl" : "fshr", a, n);   /* count mod w */
    lift_put(c, i, 0, r);
    uint64_t k;
    if (lift_is_const(n, &k) && k == 0) return LF_OK;           /* flags unchanged */
    LLVMValueRef msb = LLVMBuildICmp(B, LLVMIntSLT, r, LLVMConstNull(LLVMTypeOf(r)), "");
    LLVMValueRef cf, of;
    if (left) {
        cf = lift_trunc(c, r, 1);
        of = LLVMBuildXor(B, msb, cf, "");
    } else {
        cf = msb;
        of = LLVMBuildXor(B, msb, lift_trunc(c, LLVMBuildLShr(B, r, lift_const(c, w, w - 2), ""), 1), "");
    }
    if (!lift_is_const(n, NULL)) {
        LLVMValueRef nz = LLVMBuildICmp(B, LLVMIntNE, n, lift_const(c, 64, 0), "");
        cf = LLVMBuildSelect(B, nz, cf, lift_flag(c, LIFT_F_CF), "");
        of = LLVMBuildSelect(B, nz, of, lift_flag(c, LIFT_F_OF), "");
    }
    lift_set_flag(c, LIFT_F_CF, cf);
    lift_set_flag(c, LIFT_F_OF, of);
    return LF_OK;
}

#define SHIFT_ROWS_(OP, BODY) \
    enum lf_status lift_sem_##OP##_R_I(struct lift_ctx *c, const struct lift_insn *i) { return BODY; } \
    enum lf_status lift_sem_##OP##_R_CL(struct lift_ctx *c, const struct lift_insn *i) { return BODY; } \
    enum lf_status lift_sem_##OP##_M_I(struct lift_ctx *c, const struct lift_insn *i) { return BODY; } \
    enum lf_status lift_sem_##OP##_M_CL(struct lift_ctx *c, const struct lift_insn *i) { return BODY; }
SHIFT_ROWS_(SHL, shift(c, i, LIFT_FOP_SHL))
SHIFT_ROWS_(SHR, shift(c, i, LIFT_FOP_SHR))
SHIFT_ROWS_(SAR, shift(c, i, LIFT_FOP_SAR))
SHIFT_ROWS_(ROL, rotate(c, i, 1))
SHIFT_ROWS_(ROR, rotate(c, i, 0))

/* Double-precision shifts: shld dst, src, n = the high half of dst:src << n;
 * shrd dst, src, n = the low half of src:dst >> n.  Flags as the single
 * shifts of dst (CF = last bit out); OF of a 1-bit shrd is the sign change. */
static enum lf_status dshift(struct lift_ctx *c, const struct lift_insn *i, int left)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef a = lift_get(c, i, 0), s = lift_get(c, i, 1);
    LLVMValueRef n = LLVMBuildAnd(c->b, lift_zext(c, lift_get(c, i, 2), 64),
                                  lift_const(c, 64, w == 64 ? 63 : 31), "");
    char name[32];
    LLVMTypeRef t = LLVMTypeOf(a), ps[3] = { t, t, t };
    snprintf(name, sizeof name, "llvm.%s.i%u", left ? "fshl" : "fshr", w);
    LLVMTypeRef ft = LLVMFunctionType(t, ps, 3, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(c->m, name);
    if (!fn) fn = LLVMAddFunction(c->m, name, ft);
    LLVMValueRef args[3] = { left ? a : s, left ? s : a, lift_zext(c, n, w) };
    LLVMValueRef r = LLVMBuildCall2(c->b, ft, fn, args, 3, "");
    LLVMValueRef old_of = left ? NULL : lift_flag(c, LIFT_F_OF);
    lift_flags_op(c, left ? LIFT_FOP_SHL : LIFT_FOP_SHR, w, a, n, r, NULL);
    uint64_t k;
    if (!left && !(lift_is_const(n, &k) && k == 0)) {
        LLVMValueRef zero = LLVMConstNull(t);
        LLVMValueRef of = LLVMBuildXor(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, r, zero, ""),
                                       LLVMBuildICmp(c->b, LLVMIntSLT, a, zero, ""), "");
        LLVMValueRef nz = LLVMBuildICmp(c->b, LLVMIntNE, n, lift_const(c, 64, 0), "");
        lift_set_flag(c, LIFT_F_OF, LLVMBuildSelect(c->b, nz, of, old_of, ""));
    }
    lift_put(c, i, 0, r);
    return LF_OK;
}

#define DSHIFT_ROWS_(OP, L) \
    enum lf_status lift_sem_##OP##_R_R_I(struct lift_ctx *c, const struct lift_insn *i) { return dshift(c, i, L); } \
    enum lf_status lift_sem_##OP##_R_R_CL(struct lift_ctx *c, const struct lift_insn *i) { return dshift(c, i, L); } \
    enum lf_status lift_sem_##OP##_M_R_I(struct lift_ctx *c, const struct lift_insn *i) { return dshift(c, i, L); } \
    enum lf_status lift_sem_##OP##_M_R_CL(struct lift_ctx *c, const struct lift_insn *i) { return dshift(c, i, L); }
DSHIFT_ROWS_(SHLD, 1)
DSHIFT_ROWS_(SHRD, 0)

/* bt r, r: CF = the selected bit (offset mod width); ZF kept, the other
 * flags are undefined and left as they were. */
enum lf_status lift_sem_BT_R_R(struct lift_ctx *c, const struct lift_insn *i)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef a = lift_get(c, i, 0);
    LLVMValueRef n = LLVMBuildAnd(c->b, lift_get(c, i, 1), lift_const(c, w, w - 1), "");
    lift_set_flag(c, LIFT_F_CF, lift_trunc(c, LLVMBuildLShr(c->b, a, n, ""), 1));
    return LF_OK;
}

/* -- multiply ---------------------------------------------------------------------- */

/* Two/three-operand imul: dst = x * y truncated; CF = OF = lost bits. */
static enum lf_status imul2(struct lift_ctx *c, const struct lift_insn *i, LLVMValueRef x, LLVMValueRef y)
{
    unsigned w = lift_width(i, 0);
    LLVMBuilderRef B = c->b;
    x = lift_sext(c, x, w);
    y = lift_sext(c, y, w);
    LLVMValueRef r = LLVMBuildMul(B, x, y, "");
    LLVMValueRef wide = LLVMBuildMul(B, lift_sext(c, x, 2 * w), lift_sext(c, y, 2 * w), "");
    LLVMValueRef ov = LLVMBuildICmp(B, LLVMIntNE, wide, lift_sext(c, r, 2 * w), "");
    lift_flags_op(c, LIFT_FOP_MUL, w, x, y, r, ov);
    lift_put(c, i, 0, r);
    return LF_OK;
}

enum lf_status lift_sem_IMUL_R_R(struct lift_ctx *c, const struct lift_insn *i) { return imul2(c, i, lift_get(c, i, 0), lift_get(c, i, 1)); }
enum lf_status lift_sem_IMUL_R_M(struct lift_ctx *c, const struct lift_insn *i) { return imul2(c, i, lift_get(c, i, 0), lift_get(c, i, 1)); }
enum lf_status lift_sem_IMUL_R_R_I(struct lift_ctx *c, const struct lift_insn *i) { return imul2(c, i, lift_get(c, i, 1), lift_get(c, i, 2)); }
enum lf_status lift_sem_IMUL_R_M_I(struct lift_ctx *c, const struct lift_insn *i) { return imul2(c, i, lift_get(c, i, 1), lift_get(c, i, 2)); }

static const ZydisRegister acc_lo[] = { [1] = ZYDIS_REGISTER_AL, [2] = ZYDIS_REGISTER_AX,
                                        [4] = ZYDIS_REGISTER_EAX, [8] = ZYDIS_REGISTER_RAX };
static const ZydisRegister acc_hi[] = { [1] = ZYDIS_REGISTER_AH, [2] = ZYDIS_REGISTER_DX,
                                        [4] = ZYDIS_REGISTER_EDX, [8] = ZYDIS_REGISTER_RDX };

/* One-operand mul/imul: hi:lo = acc * src at double width. */
static enum lf_status mul1(struct lift_ctx *c, const struct lift_insn *i, int sign)
{
    unsigned w = lift_width(i, 0), W = 2 * w;
    LLVMBuilderRef B = c->b;
    LLVMValueRef a = lift_gpr(c, acc_lo[w / 8]), s = lift_get(c, i, 0);
    LLVMValueRef wa = sign ? lift_sext(c, a, W) : lift_zext(c, a, W);
    LLVMValueRef ws = sign ? lift_sext(c, s, W) : lift_zext(c, s, W);
    LLVMValueRef p = LLVMBuildMul(B, wa, ws, "");
    LLVMValueRef lo = lift_trunc(c, p, w);
    LLVMValueRef hi = lift_trunc(c, LLVMBuildLShr(B, p, lift_const(c, W, w), ""), w);
    LLVMValueRef ov = sign ? LLVMBuildICmp(B, LLVMIntNE, p, lift_sext(c, lo, W), "")
                           : LLVMBuildICmp(B, LLVMIntNE, hi, lift_const(c, w, 0), "");
    lift_flags_op(c, LIFT_FOP_MUL, w, a, s, lo, ov);
    if (w == 8) {
        lift_set_gpr(c, ZYDIS_REGISTER_AX, lift_trunc(c, p, 16));
    } else {
        lift_set_gpr(c, acc_lo[w / 8], lo);
        lift_set_gpr(c, acc_hi[w / 8], hi);
    }
    return LF_OK;
}

enum lf_status lift_sem_IMUL1_R(struct lift_ctx *c, const struct lift_insn *i) { return mul1(c, i, 1); }
enum lf_status lift_sem_IMUL1_M(struct lift_ctx *c, const struct lift_insn *i) { return mul1(c, i, 1); }
enum lf_status lift_sem_MUL_R(struct lift_ctx *c, const struct lift_insn *i) { return mul1(c, i, 0); }
enum lf_status lift_sem_MUL_M(struct lift_ctx *c, const struct lift_insn *i) { return mul1(c, i, 0); }

/* -- divide -------------------------------------------------------------------------- */

/* True when hi is exactly the sign (sign=1) or zero (sign=0) extension of
 * lo, as after cqo / xor edx, edx: then a w-bit division suffices. */
static int narrow_dividend(struct lift_ctx *c, LLVMValueRef hi, LLVMValueRef lo, unsigned w, int sign)
{
    uint64_t k;
    if (!sign) return lift_is_const(hi, &k) && k == 0;
    if (lift_is_const(hi, &k) && lift_is_const(lo, NULL)) return 0;
    if (!LLVMIsAInstruction(hi) || LLVMGetInstructionOpcode(hi) != LLVMAShr) return 0;
    LLVMValueRef amt = LLVMGetOperand(hi, 1);
    (void)c;
    return LLVMGetOperand(hi, 0) == lo && lift_is_const(amt, &k) && k == w - 1;
}

static enum lf_status div1(struct lift_ctx *c, const struct lift_insn *i, int sign)
{
    unsigned w = lift_width(i, 0), W = 2 * w;
    LLVMBuilderRef B = c->b;
    LLVMValueRef d = lift_get(c, i, 0), lo, hi;
    if (w == 8) {
        LLVMValueRef ax = lift_gpr(c, ZYDIS_REGISTER_AX);
        lo = lift_trunc(c, ax, 8);
        hi = lift_trunc(c, LLVMBuildLShr(B, ax, lift_const(c, 16, 8), ""), 8);
    } else {
        lo = lift_gpr(c, acc_lo[w / 8]);
        hi = lift_gpr(c, acc_hi[w / 8]);
    }
    LLVMValueRef q, r;
    lift_trap_if(c, LLVMBuildICmp(B, LLVMIntEQ, d, lift_const(c, w, 0), ""));
    if (narrow_dividend(c, hi, lo, w, sign)) {
        if (sign) {
            LLVMValueRef min = LLVMBuildICmp(B, LLVMIntEQ, lo, lift_const(c, w, 1ull << (w - 1)), "");
            LLVMValueRef m1 = LLVMBuildICmp(B, LLVMIntEQ, d, LLVMConstAllOnes(lift_int(c, w)), "");
            lift_trap_if(c, LLVMBuildAnd(B, min, m1, ""));
            q = LLVMBuildSDiv(B, lo, d, ""); r = LLVMBuildSRem(B, lo, d, "");
        } else {
            q = LLVMBuildUDiv(B, lo, d, ""); r = LLVMBuildURem(B, lo, d, "");
        }
    } else {
        LLVMValueRef n = LLVMBuildOr(B, LLVMBuildShl(B, lift_zext(c, hi, W), lift_const(c, W, w), ""),
                                     lift_zext(c, lo, W), "");
        LLVMValueRef wd = sign ? lift_sext(c, d, W) : lift_zext(c, d, W);
        LLVMValueRef wq = sign ? LLVMBuildSDiv(B, n, wd, "") : LLVMBuildUDiv(B, n, wd, "");
        LLVMValueRef wr = sign ? LLVMBuildSRem(B, n, wd, "") : LLVMBuildURem(B, n, wd, "");
        q = lift_trunc(c, wq, w);
        r = lift_trunc(c, wr, w);
        LLVMValueRef back = sign ? lift_sext(c, q, W) : lift_zext(c, q, W);
        lift_trap_if(c, LLVMBuildICmp(B, LLVMIntNE, back, wq, ""));    /* quotient too wide */
    }
    if (w == 8) {
        LLVMValueRef ax = LLVMBuildOr(B, LLVMBuildShl(B, lift_zext(c, r, 16), lift_const(c, 16, 8), ""),
                                      lift_zext(c, q, 16), "");
        lift_set_gpr(c, ZYDIS_REGISTER_AX, ax);
    } else {
        lift_set_gpr(c, acc_lo[w / 8], q);
        lift_set_gpr(c, acc_hi[w / 8], r);
    }
    return LF_OK;
}

enum lf_status lift_sem_DIV_R(struct lift_ctx *c, const struct lift_insn *i) { return div1(c, i, 0); }
enum lf_status lift_sem_DIV_M(struct lift_ctx *c, const struct lift_insn *i) { return div1(c, i, 0); }
enum lf_status lift_sem_IDIV_R(struct lift_ctx *c, const struct lift_insn *i) { return div1(c, i, 1); }
enum lf_status lift_sem_IDIV_M(struct lift_ctx *c, const struct lift_insn *i) { return div1(c, i, 1); }

/* -- sign extension of the accumulator ------------------------------------------------ */

static enum lf_status acc_sign(struct lift_ctx *c, ZydisRegister src, ZydisRegister dst)
{
    LLVMValueRef v = lift_gpr(c, src);
    unsigned w = lift_bits(v);
    lift_set_gpr(c, dst, LLVMBuildAShr(c->b, v, lift_const(c, w, w - 1), ""));
    return LF_OK;
}

static enum lf_status acc_ext(struct lift_ctx *c, ZydisRegister src, ZydisRegister dst)
{
    unsigned w = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, dst);
    lift_set_gpr(c, dst, lift_sext(c, lift_gpr(c, src), w));
    return LF_OK;
}

enum lf_status lift_sem_CWD(struct lift_ctx *c, const struct lift_insn *i) { (void)i; return acc_sign(c, ZYDIS_REGISTER_AX, ZYDIS_REGISTER_DX); }
enum lf_status lift_sem_CDQ(struct lift_ctx *c, const struct lift_insn *i) { (void)i; return acc_sign(c, ZYDIS_REGISTER_EAX, ZYDIS_REGISTER_EDX); }
enum lf_status lift_sem_CQO(struct lift_ctx *c, const struct lift_insn *i) { (void)i; return acc_sign(c, ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RDX); }
enum lf_status lift_sem_CBW(struct lift_ctx *c, const struct lift_insn *i) { (void)i; return acc_ext(c, ZYDIS_REGISTER_AL, ZYDIS_REGISTER_AX); }
enum lf_status lift_sem_CWDE(struct lift_ctx *c, const struct lift_insn *i) { (void)i; return acc_ext(c, ZYDIS_REGISTER_AX, ZYDIS_REGISTER_EAX); }
enum lf_status lift_sem_CDQE(struct lift_ctx *c, const struct lift_insn *i) { (void)i; return acc_ext(c, ZYDIS_REGISTER_EAX, ZYDIS_REGISTER_RAX); }

/* -- moves ------------------------------------------------------------------------------ */

static enum lf_status mov(struct lift_ctx *c, const struct lift_insn *i)
{
    lift_put(c, i, 0, lift_sext(c, lift_get(c, i, 1), lift_width(i, 0)));
    return LF_OK;
}

static enum lf_status movx(struct lift_ctx *c, const struct lift_insn *i, int sign)
{
    LLVMValueRef v = lift_get(c, i, 1);
    unsigned w = lift_width(i, 0);
    lift_put(c, i, 0, sign ? lift_sext(c, v, w) : lift_zext(c, v, w));
    return LF_OK;
}

enum lf_status lift_sem_MOV_R_R(struct lift_ctx *c, const struct lift_insn *i) { return mov(c, i); }
enum lf_status lift_sem_MOV_R_M(struct lift_ctx *c, const struct lift_insn *i) { return mov(c, i); }
enum lf_status lift_sem_MOV_M_R(struct lift_ctx *c, const struct lift_insn *i) { return mov(c, i); }
enum lf_status lift_sem_MOV_R_I(struct lift_ctx *c, const struct lift_insn *i) { return mov(c, i); }
enum lf_status lift_sem_MOV_M_I(struct lift_ctx *c, const struct lift_insn *i) { return mov(c, i); }
enum lf_status lift_sem_MOVZX_R_R(struct lift_ctx *c, const struct lift_insn *i) { return movx(c, i, 0); }
enum lf_status lift_sem_MOVZX_R_M(struct lift_ctx *c, const struct lift_insn *i) { return movx(c, i, 0); }
enum lf_status lift_sem_MOVSX_R_R(struct lift_ctx *c, const struct lift_insn *i) { return movx(c, i, 1); }
enum lf_status lift_sem_MOVSX_R_M(struct lift_ctx *c, const struct lift_insn *i) { return movx(c, i, 1); }
enum lf_status lift_sem_MOVSXD_R_R(struct lift_ctx *c, const struct lift_insn *i) { return movx(c, i, 1); }
enum lf_status lift_sem_MOVSXD_R_M(struct lift_ctx *c, const struct lift_insn *i) { return movx(c, i, 1); }

enum lf_status lift_sem_LEA(struct lift_ctx *c, const struct lift_insn *i)
{
    lift_put(c, i, 0, lift_trunc(c, lift_ea(c, i, 1), lift_width(i, 0)));
    return LF_OK;
}

/* xchg with memory is atomic (an implicit lock): an atomicrmw, except on
 * the lifted frame, which no other thread sees. */
enum lf_status lift_sem_XCHG_M_R(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef addr = lift_ea(c, i, 0), r = lift_get(c, i, 1), old;
    int64_t k;
    ZydisRegister seg = i->op[0].mem.segment == ZYDIS_REGISTER_FS ? ZYDIS_REGISTER_FS : ZYDIS_REGISTER_NONE;
    if (seg == ZYDIS_REGISTER_NONE && lift_stack_off(c, addr, &k)) {
        old = lift_load(c, addr, lift_bits(r), seg);
        lift_store(c, addr, r, seg);
    } else {
        lift_note_escape(c, r);
        old = LLVMBuildAtomicRMW(c->b, LLVMAtomicRMWBinOpXchg, lift_ptr(c, addr, lift_bits(r), seg), r,
                                 LLVMAtomicOrderingSequentiallyConsistent, 0);
        lift_clobber_mem(c);
    }
    lift_put(c, i, 1, old);
    return LF_OK;
}

enum lf_status lift_sem_XCHG_R_R(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef a = lift_get(c, i, 0), b = lift_get(c, i, 1);
    lift_put(c, i, 0, b);
    lift_put(c, i, 1, a);
    return LF_OK;
}
