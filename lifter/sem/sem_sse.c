/* sem_sse.c -- SSE2 semantics: scalar double/float arithmetic and square
 * root, compares into flags and into masks (cmpsd), conversions, bitwise
 * sign tricks, xmm moves (scalar, 16-byte aligned and unaligned, movhps),
 * and the shuffles compilers use to pack doubles and structs or vectorize
 * byte loops (punpck*, pshufd/pshuflw/pshufhw, shufpd, packuswb).
 *
 * Values: xmm registers are i128 (lift_xmm / lift_set_xmm); lift_get on an
 * xmm operand gives its low N bits, N = the operand's width as Zydis decodes
 * it (64 for addsd, 32 for addss, 128 for xorpd or for the destination of a
 * zeroing load such as movsd xmm, m64); lift_put of an iN narrower than 128
 * merges into the low bits.  So "scalar op, upper lanes kept" and "load,
 * upper lanes zeroed" both follow from the decoded widths with no special
 * case here.
 *
 * Invariants:
 *   1. Results are bit-exact with the CPU (MXCSR at its default: round to
 *      nearest, exceptions masked, no DAZ/FTZ), NaNs included: an x86 SSE
 *      operation returns its first NaN operand quieted, else its second
 *      quieted, else the negative default NaN when it creates one.  LLVM
 *      gives no such guarantee (fadd is commutative to it, and its constant
 *      folder makes positive NaNs).  Scalar arithmetic and square root on
 *      operands not all known are the CPU's instruction as inline assembly
 *      (fp_native); on known operands fp_result() selects the NaN cases
 *      explicitly, and every select folds away.
 *   2. ucomisd/comisd write ZF, PF, CF and clear OF, SF, AF (the two differ
 *      only in the invalid exception, which is masked and not modeled).
 *   3. cvttsd2si of NaN or an out-of-range value gives the "integer
 *      indefinite" 0x80000000 / 0x8000000000000000; LLVM's fptosi would be
 *      poison there, so it is guarded by a range check. */
#include "lifter/lift_internal.h"

#include <stdio.h>
#include <string.h>

/* -- Floating-point values ---------------------------------------------------- */

static LLVMTypeRef fp_type(struct lift_ctx *c, unsigned w) { return w == 64 ? c->f64 : c->f32; }

static LLVMValueRef to_fp(struct lift_ctx *c, LLVMValueRef bits)
{
    return LLVMBuildBitCast(c->b, bits, fp_type(c, lift_bits(bits)), "");
}

static LLVMValueRef is_nan(struct lift_ctx *c, LLVMValueRef f)
{
    return LLVMBuildFCmp(c->b, LLVMRealUNO, f, f, "");
}

static LLVMValueRef quiet(struct lift_ctx *c, LLVMValueRef bits)
{
    unsigned w = lift_bits(bits);
    return LLVMBuildOr(c->b, bits, lift_const(c, w, w == 64 ? 1ull << 51 : 1ull << 22), "");
}

/* The x86 result of an operation r on a (first source) and b (second, or
 * NULL for a one-source operation), as bits of a's width (invariant 1). */
static LLVMValueRef fp_result(struct lift_ctx *c, LLVMValueRef a, LLVMValueRef b, LLVMValueRef r)
{
    unsigned w = lift_bits(a);
    LLVMValueRef rb = LLVMBuildBitCast(c->b, r, lift_int(c, w), "");
    LLVMValueRef dflt = lift_const(c, w, w == 64 ? 0xfff8000000000000ull : 0xffc00000ull);
    rb = LLVMBuildSelect(c->b, is_nan(c, r), dflt, rb, "");
    if (b) rb = LLVMBuildSelect(c->b, is_nan(c, to_fp(c, b)), quiet(c, b), rb, "");
    return LLVMBuildSelect(c->b, is_nan(c, to_fp(c, a)), quiet(c, a), rb, "");
}

enum fop { F_ADD, F_SUB, F_MUL, F_DIV };

/* The CPU's own instruction on operands that are not all known: `op a, b`
 * as inline assembly has x86's NaN rules by construction, one instruction
 * where fp_result's selects cost about ten (two NaN tests of the operands,
 * one of the result, three selects).  Operands known at lift time fold in
 * the builder instead.  The assembly has no side effects and touches no
 * memory, so LLVM may still move, merge or delete it. */
static LLVMValueRef fp_native(struct lift_ctx *c, const char *mn, unsigned w, LLVMValueRef fa, LLVMValueRef fb)
{
    LLVMTypeRef t = fp_type(c, w), args[2] = { t, t };
    char text[32], cons[16];
    if (fb) {
        snprintf(text, sizeof text, "%s%s $2, $0", mn, w == 64 ? "sd" : "ss");
        snprintf(cons, sizeof cons, "=x,0,x");
    } else {
        snprintf(text, sizeof text, "%s%s $1, $0", mn, w == 64 ? "sd" : "ss");
        snprintf(cons, sizeof cons, "=x,x");
    }
    LLVMTypeRef ft = LLVMFunctionType(t, args, fb ? 2 : 1, 0);
    LLVMValueRef asm_ = LLVMGetInlineAsm(ft, text, strlen(text), cons, strlen(cons), 0, 0, LLVMInlineAsmDialectATT, 0);
    LLVMValueRef ops[2] = { fa, fb };
    return LLVMBuildCall2(c->b, ft, asm_, ops, fb ? 2 : 1, "");
}

static int fp_known(LLVMValueRef v) { return LLVMIsConstant(v); }

/* addsd/subsd/mulsd/divsd and the ss forms: op0 = op0 (op) op1, low lane. */
static enum lf_status fp_arith(struct lift_ctx *c, const struct lift_insn *i, enum fop op)
{
    unsigned w = lift_width(i, 0);
    if (w != 32 && w != 64) return lift_fail(c, "scalar fp op of width %u", w);
    LLVMValueRef a = lift_get(c, i, 0), b = lift_zext(c, lift_get(c, i, 1), w);
    LLVMValueRef fa = to_fp(c, a), fb = to_fp(c, b), r;
    if (!fp_known(a) || !fp_known(b)) {
        static const char *const mn[] = { [F_ADD] = "add", [F_SUB] = "sub", [F_MUL] = "mul", [F_DIV] = "div" };
        r = fp_native(c, mn[op], w, fa, fb);
        lift_put(c, i, 0, LLVMBuildBitCast(c->b, r, lift_int(c, w), ""));
        return LF_OK;
    }
    switch (op) {
    case F_ADD: r = LLVMBuildFAdd(c->b, fa, fb, ""); break;
    case F_SUB: r = LLVMBuildFSub(c->b, fa, fb, ""); break;
    case F_MUL: r = LLVMBuildFMul(c->b, fa, fb, ""); break;
    default: r = LLVMBuildFDiv(c->b, fa, fb, ""); break;
    }
    lift_put(c, i, 0, fp_result(c, a, b, r));
    return LF_OK;
}

/* addpd/subpd/mulpd/divpd: fp_arith on both 64-bit lanes. */
static LLVMValueRef lane(struct lift_ctx *c, LLVMValueRef v, unsigned w, unsigned k);
static LLVMValueRef join(struct lift_ctx *c, LLVMValueRef *l, unsigned n);

static enum lf_status fp_arith_pd(struct lift_ctx *c, const struct lift_insn *i, enum fop op)
{
    LLVMValueRef a = lift_get(c, i, 0), b = lift_get(c, i, 1), l[2];
    for (unsigned k = 0; k < 2; k++) {
        LLVMValueRef x = lane(c, a, 64, k), y = lane(c, b, 64, k), fx = to_fp(c, x), fy = to_fp(c, y), r;
        switch (op) {
        case F_ADD: r = LLVMBuildFAdd(c->b, fx, fy, ""); break;
        case F_SUB: r = LLVMBuildFSub(c->b, fx, fy, ""); break;
        case F_MUL: r = LLVMBuildFMul(c->b, fx, fy, ""); break;
        default: r = LLVMBuildFDiv(c->b, fx, fy, ""); break;
        }
        l[k] = fp_result(c, x, y, r);
    }
    lift_put(c, i, 0, join(c, l, 2));
    return LF_OK;
}

static LLVMValueRef intrinsic1(struct lift_ctx *c, const char *name, LLVMTypeRef t, LLVMValueRef x)
{
    LLVMTypeRef ft = LLVMFunctionType(t, &t, 1, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(c->m, name);
    if (!fn) fn = LLVMAddFunction(c->m, name, ft);
    return LLVMBuildCall2(c->b, ft, fn, &x, 1, "");
}

/* sqrtsd/sqrtss: op0.low = sqrt(op1.low), op0's other lanes kept. */
static enum lf_status fp_sqrt(struct lift_ctx *c, const struct lift_insn *i)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef b = lift_zext(c, lift_get(c, i, 1), w);
    if (!fp_known(b)) {
        lift_put(c, i, 0, LLVMBuildBitCast(c->b, fp_native(c, "sqrt", w, to_fp(c, b), NULL), lift_int(c, w), ""));
        return LF_OK;
    }
    LLVMValueRef r = intrinsic1(c, w == 64 ? "llvm.sqrt.f64" : "llvm.sqrt.f32", fp_type(c, w), to_fp(c, b));
    lift_put(c, i, 0, fp_result(c, b, NULL, r));
    return LF_OK;
}

/* minsd/maxsd (and ss): op0 < op1 (>) ? op0 : op1 -- so op1 when either is
 * a NaN or both are zeros, as the CPU does; no NaN is quieted. */
static enum lf_status fp_minmax(struct lift_ctx *c, const struct lift_insn *i, int max)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef a = lift_get(c, i, 0), b = lift_zext(c, lift_get(c, i, 1), w);
    LLVMValueRef t = LLVMBuildFCmp(c->b, max ? LLVMRealOGT : LLVMRealOLT, to_fp(c, a), to_fp(c, b), "");
    lift_put(c, i, 0, LLVMBuildSelect(c->b, t, a, b, ""));
    return LF_OK;
}

/* ucomisd/comisd/ucomiss/comiss (invariant 2). */
static enum lf_status fp_compare(struct lift_ctx *c, const struct lift_insn *i)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef a = to_fp(c, lift_zext(c, lift_get(c, i, 0), w));
    LLVMValueRef b = to_fp(c, lift_zext(c, lift_get(c, i, 1), w));
    LLVMValueRef f = LLVMConstInt(c->i1, 0, 0);
    lift_set_flag(c, LIFT_F_ZF, LLVMBuildFCmp(c->b, LLVMRealUEQ, a, b, ""));
    lift_set_flag(c, LIFT_F_PF, LLVMBuildFCmp(c->b, LLVMRealUNO, a, b, ""));
    lift_set_flag(c, LIFT_F_CF, LLVMBuildFCmp(c->b, LLVMRealULT, a, b, ""));
    lift_set_flag(c, LIFT_F_OF, f);
    lift_set_flag(c, LIFT_F_SF, f);
    lift_set_flag(c, LIFT_F_AF, f);
    return LF_OK;
}

/* -- Bitwise and moves ------------------------------------------------------------ */

enum bop { B_XOR, B_AND, B_ANDN, B_OR };

static enum lf_status bitwise(struct lift_ctx *c, const struct lift_insn *i, enum bop op)
{
    if (lift_width(i, 0) != 128 || lift_width(i, 1) != 128)
        return lift_fail(c, "packed bitwise op narrower than 128 bits");
    LLVMValueRef a = lift_get(c, i, 0), b = lift_get(c, i, 1), r;
    switch (op) {
    case B_XOR: r = LLVMBuildXor(c->b, a, b, ""); break;
    case B_AND: r = LLVMBuildAnd(c->b, a, b, ""); break;
    case B_ANDN: r = LLVMBuildAnd(c->b, LLVMBuildNot(c->b, a, ""), b, ""); break;
    default: r = LLVMBuildOr(c->b, a, b, ""); break;
    }
    lift_put(c, i, 0, r);
    return LF_OK;
}

/* Every move: read op1 at its width, zero-extend to op0's width (128 for a
 * zeroing load or movq/movd into xmm, the same width for a merging move or a
 * store), write op0. */
static enum lf_status move(struct lift_ctx *c, const struct lift_insn *i)
{
    lift_put(c, i, 0, lift_zext(c, lift_get(c, i, 1), lift_width(i, 0)));
    return LF_OK;
}

/* movhps xmm, m64: the high lane = m64, the low lane kept.  (Zydis gives
 * the xmm operand the width 64, so lift_put would merge into the low lane.) */
static enum lf_status move_high(struct lift_ctx *c, const struct lift_insn *i)
{
    unsigned x = (unsigned)lift_reg_index(i->op[0].reg.value);
    LLVMValueRef lo = lift_zext(c, lift_trunc(c, lift_xmm(c, x), 64), 128);
    LLVMValueRef hi = LLVMBuildShl(c->b, lift_zext(c, lift_get(c, i, 1), 128), LLVMConstInt(c->i128, 64, 0), "");
    lift_set_xmm(c, x, LLVMBuildOr(c->b, lo, hi, ""));
    return LF_OK;
}

/* movhps m64, xmm: store the high lane.  (Zydis gives the xmm operand the
 * width 128 here but 64 in the load form.) */
static enum lf_status store_high(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef x = lift_xmm(c, (unsigned)lift_reg_index(i->op[1].reg.value));
    lift_put(c, i, 0, lift_trunc(c, LLVMBuildLShr(c->b, x, LLVMConstInt(c->i128, 64, 0), ""), 64));
    return LF_OK;
}

/* movhlps xmm1, xmm2: xmm1's low lane = xmm2's high lane, high lane kept. */
static enum lf_status move_high_low(struct lift_ctx *c, const struct lift_insn *i)
{
    unsigned d = (unsigned)lift_reg_index(i->op[0].reg.value), s = (unsigned)lift_reg_index(i->op[1].reg.value);
    LLVMValueRef k64 = LLVMConstInt(c->i128, 64, 0);
    LLVMValueRef hi = LLVMBuildShl(c->b, LLVMBuildLShr(c->b, lift_xmm(c, d), k64, ""), k64, "");
    lift_set_xmm(c, d, LLVMBuildOr(c->b, hi, LLVMBuildLShr(c->b, lift_xmm(c, s), k64, ""), ""));
    return LF_OK;
}

/* Lane k (of w bits) of a 128-bit value, as iw. */
static LLVMValueRef lane(struct lift_ctx *c, LLVMValueRef v, unsigned w, unsigned k)
{
    return lift_trunc(c, LLVMBuildLShr(c->b, v, LLVMConstInt(c->i128, (uint64_t)w * k, 0), ""), w);
}

/* Build a 128-bit value from n lanes of 128/n bits. */
static LLVMValueRef join(struct lift_ctx *c, LLVMValueRef *l, unsigned n)
{
    unsigned w = 128 / n;
    LLVMValueRef r = lift_zext(c, l[0], 128);
    for (unsigned k = 1; k < n; k++)
        r = LLVMBuildOr(c->b, r, LLVMBuildShl(c->b, lift_zext(c, l[k], 128),
                                              LLVMConstInt(c->i128, (uint64_t)w * k, 0), ""), "");
    return r;
}

/* All 128 bits of operand n: Zydis gives some register sources of the
 * unpack instructions the width 64, which lift_get would cut to the low
 * half. */
static LLVMValueRef xmm_full(struct lift_ctx *c, const struct lift_insn *i, unsigned n)
{
    if (i->op[n].type == ZYDIS_OPERAND_TYPE_REGISTER)
        return lift_xmm(c, (unsigned)lift_reg_index(i->op[n].reg.value));
    return lift_zext(c, lift_get(c, i, n), 128);
}

/* punpckl* / punpckh* (and unpcklpd): interleave the w-bit lanes of the low
 * (high = 0) or high (high = 1) halves of op0 and op1. */
static enum lf_status unpack(struct lift_ctx *c, const struct lift_insn *i, unsigned w, int high)
{
    LLVMValueRef a = xmm_full(c, i, 0), b = xmm_full(c, i, 1), l[16];
    unsigned n = 128 / w, base = high ? n / 2 : 0;
    for (unsigned k = 0; k < n; k += 2) {
        l[k] = lane(c, a, w, base + k / 2);
        l[k + 1] = lane(c, b, w, base + k / 2);
    }
    lift_set_xmm(c, (unsigned)lift_reg_index(i->op[0].reg.value), join(c, l, n));
    return LF_OK;
}

/* pshuflw (high = 0) / pshufhw (1): the four words of one half of op1
 * shuffled by imm, the other half copied. */
static enum lf_status shuffle_w(struct lift_ctx *c, const struct lift_insn *i, int high)
{
    LLVMValueRef src = xmm_full(c, i, 1), l[8];
    uint64_t imm = i->op[2].imm.value.u;
    unsigned base = high ? 4 : 0;
    for (unsigned k = 0; k < 8; k++) l[k] = lane(c, src, 16, k);
    for (unsigned k = 0; k < 4; k++) l[base + k] = lane(c, src, 16, base + ((unsigned)(imm >> (2 * k)) & 3));
    lift_set_xmm(c, (unsigned)lift_reg_index(i->op[0].reg.value), join(c, l, 8));
    return LF_OK;
}

/* packuswb: the eight signed words of op0 then of op1, each saturated to
 * an unsigned byte. */
static enum lf_status pack_us_wb(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef v[2] = { xmm_full(c, i, 0), xmm_full(c, i, 1) }, l[16];
    for (unsigned k = 0; k < 16; k++) {
        LLVMValueRef w = lane(c, v[k / 8], 16, k % 8);
        LLVMValueRef neg = LLVMBuildICmp(c->b, LLVMIntSLT, w, lift_const(c, 16, 0), "");
        LLVMValueRef big = LLVMBuildICmp(c->b, LLVMIntSGT, w, lift_const(c, 16, 255), "");
        LLVMValueRef b = lift_trunc(c, w, 8);
        b = LLVMBuildSelect(c->b, big, lift_const(c, 8, 255), b, "");
        l[k] = LLVMBuildSelect(c->b, neg, lift_const(c, 8, 0), b, "");
    }
    lift_set_xmm(c, (unsigned)lift_reg_index(i->op[0].reg.value), join(c, l, 16));
    return LF_OK;
}

/* shufpd: low lane = op0 lane imm bit 0, high lane = op1 lane imm bit 1. */
static enum lf_status shuffle_pd(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef a = lift_get(c, i, 0), b = lift_get(c, i, 1), l[2];
    uint64_t imm = i->op[2].imm.value.u;
    l[0] = lane(c, a, 64, imm & 1);
    l[1] = lane(c, b, 64, (imm >> 1) & 1);
    lift_put(c, i, 0, join(c, l, 2));
    return LF_OK;
}

/* shufps: dwords 0, 1 from op0 and 2, 3 from op1, each picked by two bits
 * of imm. */
static enum lf_status shuffle_ps(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef a = lift_get(c, i, 0), b = lift_get(c, i, 1), l[4];
    uint64_t imm = i->op[2].imm.value.u;
    for (unsigned k = 0; k < 4; k++) l[k] = lane(c, k < 2 ? a : b, 32, (unsigned)(imm >> (2 * k)) & 3);
    lift_put(c, i, 0, join(c, l, 4));
    return LF_OK;
}

/* paddq: two 64-bit lanes added, each wrapping. */
static enum lf_status add_q(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef a = lift_get(c, i, 0), b = lift_get(c, i, 1), l[2];
    for (unsigned k = 0; k < 2; k++) l[k] = LLVMBuildAdd(c->b, lane(c, a, 64, k), lane(c, b, 64, k), "");
    lift_put(c, i, 0, join(c, l, 2));
    return LF_OK;
}

/* pshufd: dword k of op0 = dword (imm >> 2k) & 3 of op1. */
static enum lf_status shuffle_d(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef src = lift_get(c, i, 1), l[4];
    uint64_t imm = i->op[2].imm.value.u;
    for (unsigned k = 0; k < 4; k++) l[k] = lane(c, src, 32, (unsigned)(imm >> (2 * k)) & 3);
    lift_put(c, i, 0, join(c, l, 4));
    return LF_OK;
}

/* cmpsd: the low lane = all ones when predicate imm & 7 (eq lt le unord
 * neq nlt nle ord) holds, else 0; the high lane kept.  The CPU ignores
 * imm bits 7:3 in this (non-VEX) encoding. */
static enum lf_status fp_cmp_mask(struct lift_ctx *c, const struct lift_insn *i)
{
    static const LLVMRealPredicate pred[8] = { LLVMRealOEQ, LLVMRealOLT, LLVMRealOLE, LLVMRealUNO,
                                               LLVMRealUNE, LLVMRealUGE, LLVMRealUGT, LLVMRealORD };
    LLVMValueRef a = to_fp(c, lift_zext(c, lift_get(c, i, 0), 64));
    LLVMValueRef b = to_fp(c, lift_zext(c, lift_get(c, i, 1), 64));
    LLVMValueRef t = LLVMBuildFCmp(c->b, pred[i->op[2].imm.value.u & 7], a, b, "");
    lift_put(c, i, 0, LLVMBuildSExt(c->b, t, c->i64, ""));
    return LF_OK;
}

/* -- Packed integers ---------------------------------------------------------------- */

enum lop { L_ADD, L_SUB, L_EQ, L_GT };

/* padd*, psub*, pcmpeq*, pcmpgt*: lane by lane over w-bit lanes. */
static enum lf_status lanes(struct lift_ctx *c, const struct lift_insn *i, unsigned w, enum lop op)
{
    LLVMValueRef a = xmm_full(c, i, 0), b = xmm_full(c, i, 1), l[16];
    for (unsigned k = 0; k < 128 / w; k++) {
        LLVMValueRef x = lane(c, a, w, k), y = lane(c, b, w, k);
        switch (op) {
        case L_ADD: l[k] = LLVMBuildAdd(c->b, x, y, ""); break;
        case L_SUB: l[k] = LLVMBuildSub(c->b, x, y, ""); break;
        default:
            l[k] = LLVMBuildSExt(c->b, LLVMBuildICmp(c->b, op == L_EQ ? LLVMIntEQ : LLVMIntSGT, x, y, ""),
                                 lift_int(c, w), "");
            break;
        }
    }
    lift_set_xmm(c, (unsigned)lift_reg_index(i->op[0].reg.value), join(c, l, 128 / w));
    return LF_OK;
}

enum sop { S_SHL, S_SHR, S_SAR };

/* psll/psrl/psra by an immediate: a count past the lane width gives 0
 * (logical) or the sign in every bit (arithmetic). */
static enum lf_status shift_lanes(struct lift_ctx *c, const struct lift_insn *i, unsigned w, enum sop op)
{
    LLVMValueRef a = lift_get(c, i, 0), l[8];
    uint64_t n = i->op[1].imm.value.u & 0xff;
    for (unsigned k = 0; k < 128 / w; k++) {
        LLVMValueRef x = lane(c, a, w, k);
        if (n >= w && op != S_SAR) { l[k] = lift_const(c, w, 0); continue; }
        LLVMValueRef cnt = lift_const(c, w, n >= w ? w - 1 : n);
        l[k] = op == S_SHL ? LLVMBuildShl(c->b, x, cnt, "") : op == S_SHR ? LLVMBuildLShr(c->b, x, cnt, "")
                                                                      : LLVMBuildAShr(c->b, x, cnt, "");
    }
    lift_put(c, i, 0, join(c, l, 128 / w));
    return LF_OK;
}

/* pslldq/psrldq: the whole register shifted by imm bytes (> 15: zero). */
static enum lf_status shift_bytes(struct lift_ctx *c, const struct lift_insn *i, int left)
{
    uint64_t n = i->op[1].imm.value.u & 0xff;
    LLVMValueRef a = lift_get(c, i, 0), cnt = LLVMConstInt(c->i128, 8 * n, 0);
    LLVMValueRef r = n > 15 ? LLVMConstNull(c->i128)
                   : left ? LLVMBuildShl(c->b, a, cnt, "") : LLVMBuildLShr(c->b, a, cnt, "");
    lift_put(c, i, 0, r);
    return LF_OK;
}

/* pinsrw xmm, r32/m16, imm: word lane imm & 7 = the low 16 bits of op1. */
static enum lf_status insert_w(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef x = lift_get(c, i, 0), l[8];
    unsigned k = (unsigned)(i->op[2].imm.value.u & 7);
    for (unsigned j = 0; j < 8; j++) l[j] = lane(c, x, 16, j);
    l[k] = lift_trunc(c, lift_get(c, i, 1), 16);
    lift_put(c, i, 0, join(c, l, 8));
    return LF_OK;
}

/* pextrw r32, xmm, imm: the word lane imm & 7, zero-extended. */
static enum lf_status extract_w(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef x = xmm_full(c, i, 1);
    LLVMValueRef v = lane(c, x, 16, (unsigned)(i->op[2].imm.value.u & 7));
    lift_put(c, i, 0, lift_zext(c, v, lift_width(i, 0)));
    return LF_OK;
}

/* pmovmskb (w = 8) / movmskpd (w = 64): the sign bit of each lane of op1
 * into bit k of the (zero-extended) GPR op0. */
static enum lf_status move_mask(struct lift_ctx *c, const struct lift_insn *i, unsigned w)
{
    LLVMValueRef x = xmm_full(c, i, 1), r = lift_const(c, 32, 0);
    for (unsigned k = 0; k < 128 / w; k++) {
        LLVMValueRef bit = LLVMBuildICmp(c->b, LLVMIntSLT, lane(c, x, w, k), lift_const(c, w, 0), "");
        r = LLVMBuildOr(c->b, r, LLVMBuildShl(c->b, lift_zext(c, bit, 32), lift_const(c, 32, k), ""), "");
    }
    lift_put(c, i, 0, lift_zext(c, r, lift_width(i, 0)));
    return LF_OK;
}

/* -- Conversions -------------------------------------------------------------------- */

/* cvtsi2sd/cvtsi2ss xmm, r/m32|64: low lane = (double or float)src,
 * the other lanes kept; rounding to nearest as MXCSR says by default. */
static enum lf_status cvt_si2fp(struct lift_ctx *c, const struct lift_insn *i)
{
    unsigned w = lift_width(i, 0);
    LLVMValueRef d = LLVMBuildSIToFP(c->b, lift_get(c, i, 1), fp_type(c, w), "");
    lift_put(c, i, 0, LLVMBuildBitCast(c->b, d, lift_int(c, w), ""));
    return LF_OK;
}

/* cvttsd2si/cvttss2si r32|64, xmm/m (invariant 3). */
static enum lf_status cvtt_fp2si(struct lift_ctx *c, const struct lift_insn *i)
{
    unsigned w = lift_width(i, 0), fw = lift_width(i, 1) == 32 ? 32 : 64;
    LLVMValueRef a = to_fp(c, lift_zext(c, lift_get(c, i, 1), fw));
    LLVMTypeRef ft = fp_type(c, fw);
    /* Truncation fits iff -2^(w-1) - 1 < a < 2^(w-1); NaN fails both.  A
     * float cannot lie strictly between -2^31 - 1 and -2^31, so for floats
     * and for 64-bit results the lower test is a >= -2^(w-1). */
    double lim = w == 64 ? 9223372036854775808.0 : 2147483648.0;
    double lo = w == 64 || fw == 32 ? -lim : -2147483649.0;
    LLVMRealPredicate lo_pred = w == 64 || fw == 32 ? LLVMRealOGE : LLVMRealOGT;
    LLVMValueRef ok = LLVMBuildAnd(c->b,
        LLVMBuildFCmp(c->b, LLVMRealOLT, a, LLVMConstReal(ft, lim), ""),
        LLVMBuildFCmp(c->b, lo_pred, a, LLVMConstReal(ft, lo), ""), "");
    LLVMValueRef v = LLVMBuildFPToSI(c->b, a, lift_int(c, w), "");
    lift_put(c, i, 0, LLVMBuildSelect(c->b, ok, v, lift_const(c, w, 1ull << (w - 1)), ""));
    return LF_OK;
}

/* cvtsd2ss: low float = (float)low double; a NaN keeps sign and the top of
 * its payload, quieted (what the CPU does; LLVM's folder is not bound to). */
static enum lf_status cvt_sd2ss(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef a = lift_zext(c, lift_get(c, i, 1), 64), fa = to_fp(c, a);
    LLVMValueRef r = LLVMBuildBitCast(c->b, LLVMBuildFPTrunc(c->b, fa, c->f32, ""), c->i32, "");
    LLVMValueRef sign = lift_trunc(c, LLVMBuildLShr(c->b, a, lift_const(c, 64, 32), ""), 32);
    sign = LLVMBuildAnd(c->b, sign, lift_const(c, 32, 0x80000000u), "");
    LLVMValueRef pay = lift_trunc(c, LLVMBuildLShr(c->b, a, lift_const(c, 64, 29), ""), 32);
    pay = LLVMBuildAnd(c->b, pay, lift_const(c, 32, 0x003fffffu), "");
    LLVMValueRef nan = LLVMBuildOr(c->b, LLVMBuildOr(c->b, sign, pay, ""), lift_const(c, 32, 0x7fc00000u), "");
    lift_put(c, i, 0, LLVMBuildSelect(c->b, is_nan(c, fa), nan, r, ""));
    return LF_OK;
}

/* cvtss2sd: low double = (double)low float; NaN payload widened, quieted. */
static enum lf_status cvt_ss2sd(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef a = lift_zext(c, lift_get(c, i, 1), 32), fa = to_fp(c, a);
    LLVMValueRef r = LLVMBuildBitCast(c->b, LLVMBuildFPExt(c->b, fa, c->f64, ""), c->i64, "");
    LLVMValueRef a64 = lift_zext(c, a, 64);
    LLVMValueRef sign = LLVMBuildShl(c->b, LLVMBuildAnd(c->b, a64, lift_const(c, 64, 0x80000000u), ""),
                                     lift_const(c, 64, 32), "");
    LLVMValueRef pay = LLVMBuildShl(c->b, LLVMBuildAnd(c->b, a64, lift_const(c, 64, 0x007fffffu), ""),
                                    lift_const(c, 64, 29), "");
    LLVMValueRef nan = LLVMBuildOr(c->b, LLVMBuildOr(c->b, sign, pay, ""),
                                   lift_const(c, 64, 0x7ff8000000000000ull), "");
    lift_put(c, i, 0, LLVMBuildSelect(c->b, is_nan(c, fa), nan, r, ""));
    return LF_OK;
}

/* -- SSE/SSSE3 shuffles and sums, VEX.128 forms ------------------------------------- */

/* movlhps xmm1, xmm2: xmm1's high lane = xmm2's low lane, low lane kept. */
static enum lf_status move_low_high(struct lift_ctx *c, const struct lift_insn *i)
{
    unsigned d = (unsigned)lift_reg_index(i->op[0].reg.value), s = (unsigned)lift_reg_index(i->op[1].reg.value);
    LLVMValueRef k64 = LLVMConstInt(c->i128, 64, 0);
    LLVMValueRef lo = lift_zext(c, lift_trunc(c, lift_xmm(c, d), 64), 128);
    lift_set_xmm(c, d, LLVMBuildOr(c->b, lo, LLVMBuildShl(c->b, lift_xmm(c, s), k64, ""), ""));
    return LF_OK;
}

/* pshufb: byte k = 0 when bit 7 of op1's byte k is set, else op0's byte
 * (op1's byte k & 15). */
static enum lf_status shuffle_b(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef a = xmm_full(c, i, 0), b = xmm_full(c, i, 1), l[16];
    for (unsigned k = 0; k < 16; k++) {
        LLVMValueRef x = lane(c, b, 8, k);
        LLVMValueRef at = LLVMBuildMul(c->b, lift_zext(c, LLVMBuildAnd(c->b, x, lift_const(c, 8, 15), ""), 128),
                                       LLVMConstInt(c->i128, 8, 0), "");
        LLVMValueRef v = lift_trunc(c, LLVMBuildLShr(c->b, a, at, ""), 8);
        LLVMValueRef neg = LLVMBuildICmp(c->b, LLVMIntSLT, x, lift_const(c, 8, 0), "");
        l[k] = LLVMBuildSelect(c->b, neg, lift_const(c, 8, 0), v, "");
    }
    lift_set_xmm(c, (unsigned)lift_reg_index(i->op[0].reg.value), join(c, l, 16));
    return LF_OK;
}

/* psadbw: per 64-bit half, the sum of the 8 absolute byte differences in
 * its low word, the rest of the half zero. */
static enum lf_status sum_abs_diff(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef a = xmm_full(c, i, 0), b = xmm_full(c, i, 1), l[2];
    for (unsigned h = 0; h < 2; h++) {
        LLVMValueRef sum = lift_const(c, 64, 0);
        for (unsigned k = 0; k < 8; k++) {
            LLVMValueRef x = lift_zext(c, lane(c, a, 8, 8 * h + k), 64), y = lift_zext(c, lane(c, b, 8, 8 * h + k), 64);
            LLVMValueRef gt = LLVMBuildICmp(c->b, LLVMIntUGT, x, y, "");
            LLVMValueRef d = LLVMBuildSelect(c->b, gt, LLVMBuildSub(c->b, x, y, ""), LLVMBuildSub(c->b, y, x, ""), "");
            sum = LLVMBuildAdd(c->b, sum, d, "");
        }
        l[h] = sum;
    }
    lift_set_xmm(c, (unsigned)lift_reg_index(i->op[0].reg.value), join(c, l, 2));
    return LF_OK;
}

/* vpxor xmm1, xmm2, xmm3/m128 (VEX.128): xmm1 = xmm2 ^ op2.  The upper
 * halves of the ymm registers are not modeled; VEX.256 forms are not in the
 * table. */
static enum lf_status vex_xor(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef a = xmm_full(c, i, 1), b = xmm_full(c, i, 2);
    lift_set_xmm(c, (unsigned)lift_reg_index(i->op[0].reg.value), LLVMBuildXor(c->b, a, b, ""));
    return LF_OK;
}

/* -- The rows ------------------------------------------------------------------------- */

#define SEM_(name, body) \
    enum lf_status lift_sem_##name(struct lift_ctx *c, const struct lift_insn *i) { return body; }
#define PAIR_(op, body) SEM_(op##_X_X, body) SEM_(op##_X_M, body)

PAIR_(ADDSD, fp_arith(c, i, F_ADD)) PAIR_(SUBSD, fp_arith(c, i, F_SUB))
PAIR_(MULSD, fp_arith(c, i, F_MUL)) PAIR_(DIVSD, fp_arith(c, i, F_DIV))
PAIR_(ADDSS, fp_arith(c, i, F_ADD)) PAIR_(SUBSS, fp_arith(c, i, F_SUB))
PAIR_(MULSS, fp_arith(c, i, F_MUL)) PAIR_(DIVSS, fp_arith(c, i, F_DIV))
PAIR_(SQRTSD, fp_sqrt(c, i))
PAIR_(UCOMISD, fp_compare(c, i)) PAIR_(COMISD, fp_compare(c, i))
PAIR_(XORPD, bitwise(c, i, B_XOR)) PAIR_(XORPS, bitwise(c, i, B_XOR)) PAIR_(PXOR, bitwise(c, i, B_XOR))
PAIR_(ANDPD, bitwise(c, i, B_AND)) PAIR_(ANDNPD, bitwise(c, i, B_ANDN)) PAIR_(ORPD, bitwise(c, i, B_OR))
PAIR_(MOVAPD, move(c, i)) PAIR_(MOVAPS, move(c, i)) PAIR_(MOVSD, move(c, i)) PAIR_(MOVSS, move(c, i))
SEM_(MOVSD_M_X, move(c, i)) SEM_(MOVSS_M_X, move(c, i))
SEM_(MOVQ_X_R, move(c, i)) SEM_(MOVQ_R_X, move(c, i)) SEM_(MOVQ_X_M, move(c, i)) SEM_(MOVQ_M_X, move(c, i))
SEM_(MOVD_X_R, move(c, i)) SEM_(MOVD_R_X, move(c, i))
SEM_(CVTSI2SD_X_R, cvt_si2fp(c, i)) SEM_(CVTSI2SD_X_M, cvt_si2fp(c, i))
SEM_(CVTTSD2SI_R_X, cvtt_fp2si(c, i)) SEM_(CVTTSD2SI_R_M, cvtt_fp2si(c, i))
SEM_(CVTSD2SS_X_X, cvt_sd2ss(c, i)) SEM_(CVTSS2SD_X_X, cvt_ss2sd(c, i))
SEM_(MOVAPS_M_X, move(c, i)) SEM_(MOVAPD_M_X, move(c, i))
SEM_(MOVUPS_X_M, move(c, i)) SEM_(MOVUPS_M_X, move(c, i))
SEM_(MOVDQU_X_M, move(c, i)) SEM_(MOVDQU_M_X, move(c, i))
SEM_(MOVDQA_X_X, move(c, i)) SEM_(MOVDQA_X_M, move(c, i)) SEM_(MOVDQA_M_X, move(c, i))
SEM_(MOVD_X_M, move(c, i)) SEM_(MOVD_M_X, move(c, i))
SEM_(MOVHPS_X_M, move_high(c, i))
PAIR_(PUNPCKLDQ, unpack(c, i, 32, 0)) PAIR_(PUNPCKLQDQ, unpack(c, i, 64, 0))
PAIR_(PUNPCKLBW, unpack(c, i, 8, 0)) PAIR_(PUNPCKHBW, unpack(c, i, 8, 1))
PAIR_(PACKUSWB, pack_us_wb(c, i))
SEM_(PSHUFLW_X_X_I, shuffle_w(c, i, 0)) SEM_(PSHUFLW_X_M_I, shuffle_w(c, i, 0))
SEM_(PSHUFHW_X_X_I, shuffle_w(c, i, 1)) SEM_(PSHUFHW_X_M_I, shuffle_w(c, i, 1))
PAIR_(PUNPCKLWD, unpack(c, i, 16, 0)) PAIR_(PUNPCKHWD, unpack(c, i, 16, 1))
PAIR_(PUNPCKHDQ, unpack(c, i, 32, 1)) PAIR_(PUNPCKHQDQ, unpack(c, i, 64, 1))
PAIR_(UNPCKHPD, unpack(c, i, 64, 1))
PAIR_(PAND, bitwise(c, i, B_AND)) PAIR_(PANDN, bitwise(c, i, B_ANDN)) PAIR_(POR, bitwise(c, i, B_OR))
PAIR_(PADDB, lanes(c, i, 8, L_ADD)) PAIR_(PADDW, lanes(c, i, 16, L_ADD)) PAIR_(PADDD, lanes(c, i, 32, L_ADD))
PAIR_(PSUBB, lanes(c, i, 8, L_SUB)) PAIR_(PSUBW, lanes(c, i, 16, L_SUB)) PAIR_(PSUBD, lanes(c, i, 32, L_SUB))
PAIR_(PSUBQ, lanes(c, i, 64, L_SUB))
PAIR_(PCMPEQB, lanes(c, i, 8, L_EQ)) PAIR_(PCMPEQW, lanes(c, i, 16, L_EQ)) PAIR_(PCMPEQD, lanes(c, i, 32, L_EQ))
PAIR_(PCMPGTB, lanes(c, i, 8, L_GT)) PAIR_(PCMPGTW, lanes(c, i, 16, L_GT)) PAIR_(PCMPGTD, lanes(c, i, 32, L_GT))
SEM_(PSLLW_X_I, shift_lanes(c, i, 16, S_SHL)) SEM_(PSLLD_X_I, shift_lanes(c, i, 32, S_SHL))
SEM_(PSLLQ_X_I, shift_lanes(c, i, 64, S_SHL)) SEM_(PSRLW_X_I, shift_lanes(c, i, 16, S_SHR))
SEM_(PSRLD_X_I, shift_lanes(c, i, 32, S_SHR)) SEM_(PSRLQ_X_I, shift_lanes(c, i, 64, S_SHR))
SEM_(PSRAW_X_I, shift_lanes(c, i, 16, S_SAR)) SEM_(PSRAD_X_I, shift_lanes(c, i, 32, S_SAR))
SEM_(PSLLDQ_X_I, shift_bytes(c, i, 1)) SEM_(PSRLDQ_X_I, shift_bytes(c, i, 0))
SEM_(PMOVMSKB_R_X, move_mask(c, i, 8)) SEM_(MOVMSKPD_R_X, move_mask(c, i, 64))
PAIR_(ADDPD, fp_arith_pd(c, i, F_ADD)) PAIR_(SUBPD, fp_arith_pd(c, i, F_SUB))
PAIR_(MULPD, fp_arith_pd(c, i, F_MUL)) PAIR_(DIVPD, fp_arith_pd(c, i, F_DIV))
SEM_(MOVUPD_X_M, move(c, i)) SEM_(MOVUPD_M_X, move(c, i)) SEM_(MOVHPS_M_X, store_high(c, i))
SEM_(PINSRW_X_R_I, insert_w(c, i)) SEM_(PINSRW_X_M_I, insert_w(c, i)) SEM_(PEXTRW_R_X_I, extract_w(c, i))
SEM_(PSHUFD_X_X_I, shuffle_d(c, i)) SEM_(PSHUFD_X_M_I, shuffle_d(c, i))
SEM_(CMPSD_X_X_I, fp_cmp_mask(c, i)) SEM_(CMPSD_X_M_I, fp_cmp_mask(c, i))
PAIR_(SQRTSS, fp_sqrt(c, i))
PAIR_(MINSD, fp_minmax(c, i, 0)) PAIR_(MAXSD, fp_minmax(c, i, 1))
PAIR_(MINSS, fp_minmax(c, i, 0)) PAIR_(MAXSS, fp_minmax(c, i, 1))
PAIR_(UCOMISS, fp_compare(c, i)) PAIR_(COMISS, fp_compare(c, i))
PAIR_(ANDPS, bitwise(c, i, B_AND)) PAIR_(ANDNPS, bitwise(c, i, B_ANDN)) PAIR_(ORPS, bitwise(c, i, B_OR))
PAIR_(UNPCKLPD, unpack(c, i, 64, 0)) PAIR_(PADDQ, add_q(c, i))
SEM_(CVTSI2SS_X_R, cvt_si2fp(c, i)) SEM_(CVTSI2SS_X_M, cvt_si2fp(c, i))
SEM_(CVTTSS2SI_R_X, cvtt_fp2si(c, i)) SEM_(CVTTSS2SI_R_M, cvtt_fp2si(c, i))
SEM_(CVTSD2SS_X_M, cvt_sd2ss(c, i)) SEM_(CVTSS2SD_X_M, cvt_ss2sd(c, i))
SEM_(MOVHLPS_X_X, move_high_low(c, i))
SEM_(SHUFPD_X_X_I, shuffle_pd(c, i)) SEM_(SHUFPD_X_M_I, shuffle_pd(c, i))
SEM_(SHUFPS_X_X_I, shuffle_ps(c, i)) SEM_(SHUFPS_X_M_I, shuffle_ps(c, i))
PAIR_(UNPCKLPS, unpack(c, i, 32, 0))
SEM_(MOVLHPS_X_X, move_low_high(c, i))
PAIR_(PSHUFB, shuffle_b(c, i))
PAIR_(PSADBW, sum_abs_diff(c, i))
SEM_(VPXOR_X_X_X, vex_xor(c, i)) SEM_(VPXOR_X_X_M, vex_xor(c, i))
SEM_(VMOVD_X_R, move(c, i)) SEM_(VMOVD_R_X, move(c, i))
