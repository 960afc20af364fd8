/* lift_eval.c -- evaluate lifted values under an assumption about one i1
 * condition, to split control flow where a target is "one of two".
 *
 * Compilers turn `c ? a->fn(a) : b->fn(b)` into branch-free code: setcc,
 * a load indexed by the flag, an indirect jump.  The target is then not a
 * constant, but it is one of two constants, chosen by one condition.  The
 * lifter splits there: a branch on the condition to two copies of the
 * indirect instruction, each entered with the registers re-evaluated under
 * cond = 1 or cond = 0, where the target is a constant again.
 * The same evaluation serves a guard (lift_guard.c): cond is then an i64
 * value assumed equal to val (a closure address).
 * Invariants:
 *   1. lift_eval folds only through pure operations and loads from
 *      constant memory (lift_mem_read == 1); anything else is "unknown".
 *   2. It never emits IR. */
#include "lifter/lift_job.h"

enum { EVAL_DEPTH = 24 };

static uint64_t mask_of(unsigned w) { return w >= 64 ? ~0ull : (1ull << w) - 1; }

static int64_t sx(uint64_t v, unsigned w) { return w >= 64 ? (int64_t)v : (int64_t)(v << (64 - w)) >> (64 - w); }

static int eval(const struct lift_ctx *c, LLVMValueRef v, LLVMValueRef cond, uint64_t val,
                uint64_t *out, int depth);

static int eval_load(const struct lift_ctx *c, LLVMValueRef ld, LLVMValueRef cond, uint64_t val,
                     uint64_t *out, int depth)
{
    LLVMValueRef p = LLVMGetOperand(ld, 0);
    if (LLVMIsAInstruction(p) && LLVMGetInstructionOpcode(p) == LLVMBitCast) p = LLVMGetOperand(p, 0);
    if (!LLVMIsAInstruction(p) || LLVMGetInstructionOpcode(p) != LLVMIntToPtr) return 0;
    if (LLVMGetPointerAddressSpace(LLVMTypeOf(p)) != 0) return 0;
    uint64_t a;
    if (!eval(c, LLVMGetOperand(p, 0), cond, val, &a, depth + 1)) return 0;
    unsigned w = LLVMGetIntTypeWidth(LLVMTypeOf(ld));
    if (w > 64 || w % 8) return 0;
    uint64_t x = 0;
    if (lift_mem_read(c->mem, a, &x, w / 8) != 1) return 0;
    *out = x;
    return 1;
}

static int eval_icmp(LLVMIntPredicate p, uint64_t a, uint64_t b, unsigned w)
{
    int64_t sa = sx(a, w), sb = sx(b, w);
    switch (p) {
    case LLVMIntEQ: return a == b;   case LLVMIntNE: return a != b;
    case LLVMIntUGT: return a > b;   case LLVMIntUGE: return a >= b;
    case LLVMIntULT: return a < b;   case LLVMIntULE: return a <= b;
    case LLVMIntSGT: return sa > sb; case LLVMIntSGE: return sa >= sb;
    case LLVMIntSLT: return sa < sb; default: return sa <= sb;
    }
}

static int eval_bin(LLVMOpcode op, uint64_t a, uint64_t b, unsigned w, uint64_t *out)
{
    switch (op) {
    case LLVMAdd: *out = a + b; break;
    case LLVMSub: *out = a - b; break;
    case LLVMMul: *out = a * b; break;
    case LLVMAnd: *out = a & b; break;
    case LLVMOr: *out = a | b; break;
    case LLVMXor: *out = a ^ b; break;
    case LLVMShl: if (b >= w) return 0; *out = a << b; break;
    case LLVMLShr: if (b >= w) return 0; *out = a >> b; break;
    case LLVMAShr: if (b >= w) return 0; *out = (uint64_t)(sx(a, w) >> b); break;
    default: return 0;
    }
    *out &= mask_of(w);
    return 1;
}

static int eval(const struct lift_ctx *c, LLVMValueRef v, LLVMValueRef cond, uint64_t val,
                uint64_t *out, int depth)
{
    if (v == cond) { *out = val; return 1; }
    if (LLVMIsAConstantInt(v)) {
        if (LLVMGetIntTypeWidth(LLVMTypeOf(v)) > 64) return 0;
        *out = LLVMConstIntGetZExtValue(v);
        return 1;
    }
    if (depth > EVAL_DEPTH || !LLVMIsAInstruction(v)) return 0;
    if (LLVMGetTypeKind(LLVMTypeOf(v)) != LLVMIntegerTypeKind) return 0;
    unsigned w = LLVMGetIntTypeWidth(LLVMTypeOf(v));
    if (w > 64) return 0;
    LLVMOpcode op = LLVMGetInstructionOpcode(v);
    uint64_t a, b;
    switch (op) {
    case LLVMLoad: return eval_load(c, v, cond, val, out, depth);
    case LLVMFreeze: return eval(c, LLVMGetOperand(v, 0), cond, val, out, depth + 1);
    case LLVMZExt: case LLVMSExt: case LLVMTrunc: {
        LLVMValueRef s = LLVMGetOperand(v, 0);
        unsigned sw = LLVMGetIntTypeWidth(LLVMTypeOf(s));
        if (!eval(c, s, cond, val, &a, depth + 1)) return 0;
        *out = (op == LLVMSExt ? (uint64_t)sx(a, sw) : a) & mask_of(w);
        return 1;
    }
    case LLVMSelect:
        if (!eval(c, LLVMGetOperand(v, 0), cond, val, &a, depth + 1)) return 0;
        return eval(c, LLVMGetOperand(v, a ? 1 : 2), cond, val, out, depth + 1);
    case LLVMICmp: {
        LLVMValueRef l = LLVMGetOperand(v, 0);
        if (LLVMGetTypeKind(LLVMTypeOf(l)) != LLVMIntegerTypeKind) return 0;
        unsigned ow = LLVMGetIntTypeWidth(LLVMTypeOf(l));
        if (ow > 64 || !eval(c, l, cond, val, &a, depth + 1) ||
            !eval(c, LLVMGetOperand(v, 1), cond, val, &b, depth + 1)) return 0;
        *out = (uint64_t)eval_icmp(LLVMGetICmpPredicate(v), a, b, ow);
        return 1;
    }
    default:
        if (LLVMGetNumOperands(v) != 2) return 0;
        if (!eval(c, LLVMGetOperand(v, 0), cond, val, &a, depth + 1) ||
            !eval(c, LLVMGetOperand(v, 1), cond, val, &b, depth + 1)) return 0;
        return eval_bin(op, a, b, w, out);
    }
}

int lift_eval(const struct lift_ctx *c, LLVMValueRef v, LLVMValueRef cond, uint64_t val, uint64_t *out)
{
    if (!cond || LLVMGetTypeKind(LLVMTypeOf(v)) != LLVMIntegerTypeKind) return 0;
    return eval(c, v, cond, val, out, 0);
}

/* i1 values v depends on: select conditions, zext/sext of an i1, icmps. */
static void cands(LLVMValueRef v, LLVMValueRef *out, int *n, int depth)
{
    if (*n >= 6 || depth > EVAL_DEPTH || !LLVMIsAInstruction(v)) return;
    LLVMTypeRef t = LLVMTypeOf(v);
    if (LLVMGetTypeKind(t) == LLVMIntegerTypeKind && LLVMGetIntTypeWidth(t) == 1) {
        for (int k = 0; k < *n; k++) if (out[k] == v) return;
        out[(*n)++] = v;
        return;
    }
    LLVMOpcode op = LLVMGetInstructionOpcode(v);
    if (op == LLVMPHI || op == LLVMCall || op == LLVMAlloca) return;
    int nops = LLVMGetNumOperands(v);
    for (int k = 0; k < nops && k < 3; k++) cands(LLVMGetOperand(v, (unsigned)k), out, n, depth + 1);
}

LLVMValueRef lift_split_cond(const struct lift_ctx *c, LLVMValueRef v)
{
    LLVMValueRef cs[6];
    int n = 0;
    uint64_t a, b;
    cands(v, cs, &n, 0);
    for (int k = 0; k < n; k++)
        if (eval(c, v, cs[k], 0, &a, 0) && eval(c, v, cs[k], 1, &b, 0)) return cs[k];
    return NULL;
}
