/* lift_retfwd.c -- results a function hands back unchanged, forwarded to
 * its callers, on optimized IR.
 *
 * A specialization returns a struct: rax, rdx, xmm0, xmm1 and, with a
 * frame window (lift_job.h), the window's words as it leaves them.  A
 * callee that only reads its caller's frame (an interpreter's call node
 * evaluating its arguments) returns each word as it got it, and the caller
 * writes it back into its own slot: a return through memory (more results
 * than rax and rdx hold) for nothing.  LLVM forwards constant returns
 * (ipsccp) but not returned arguments of a struct.
 *
 * For each internal function F returning a struct, and each field f, this
 * finds whether every return of F gives in field f the same parameter p
 * (or the same constant).  A field copied from a call's result is resolved
 * through the callee's verdict, so recursion is handled by a greatest
 * fixpoint: a field is assumed forwarded until a return shows otherwise
 * (sound by induction on the depth of calls).  Then at every call of F,
 * `extractvalue (call F ...), f` becomes the call's argument p (or the
 * constant), and deadargelim drops what no caller reads any more.
 *
 * Invariants:
 *   1. Only functions whose every use is a direct call are considered.
 *   2. A value is resolved through insertvalue, extractvalue, phis (a cycle
 *      of phis only passes the value around) and calls of considered
 *      functions; anything else fails the field. */
#include "lifter/lift_proc.h"

#include <stdlib.h>

enum { RF_MAX_FIELDS = 16, RF_MAX_FNS = 512, RF_MAX_VISIT = 64 };
enum rf_kind { RF_ANY, RF_PARAM, RF_CONST, RF_FAIL };

struct rf_val { enum rf_kind k; int p; LLVMValueRef c; };
struct rf_fn { LLVMValueRef fn; int nf; struct rf_val f[RF_MAX_FIELDS]; };
struct rf {
    struct rf_fn fn[RF_MAX_FNS];
    int n;
    LLVMValueRef visit[RF_MAX_VISIT];  /* phis being resolved */
    int nvisit;
};

static const struct rf_val rf_any = { RF_ANY, 0, NULL }, rf_fail = { RF_FAIL, 0, NULL };

static struct rf_fn *rf_find(struct rf *r, LLVMValueRef fn)
{
    for (int k = 0; k < r->n; k++)
        if (r->fn[k].fn == fn) return &r->fn[k];
    return NULL;
}

static struct rf_val rf_join(struct rf_val a, struct rf_val b)
{
    if (a.k == RF_ANY) return b;
    if (b.k == RF_ANY) return a;
    if (a.k == RF_FAIL || b.k == RF_FAIL || a.k != b.k) return rf_fail;
    if (a.k == RF_PARAM) return a.p == b.p ? a : rf_fail;
    return a.c == b.c ? a : rf_fail;
}

static int param_index(LLVMValueRef f, LLVMValueRef v)
{
    for (unsigned k = 0; k < LLVMCountParams(f); k++)
        if (LLVMGetParam(f, k) == v) return (int)k;
    return -1;
}

static struct rf_val rf_scalar(struct rf *r, LLVMValueRef f, LLVMValueRef v);
static struct rf_val rf_field(struct rf *r, LLVMValueRef f, LLVMValueRef v, unsigned idx);

/* Field idx of a call's result, in f's terms: the callee's verdict, its
 * parameter resolved through the call's argument. */
static struct rf_val rf_call_field(struct rf *r, LLVMValueRef f, LLVMValueRef call, unsigned idx)
{
    struct rf_fn *g = rf_find(r, LLVMGetCalledValue(call));
    if (!g || (int)idx >= g->nf) return rf_fail;
    struct rf_val v = g->f[idx];
    if (v.k != RF_PARAM) return v;
    return rf_scalar(r, f, LLVMGetOperand(call, (unsigned)v.p));
}

/* Merge over a phi's incoming values; a phi already being resolved (a
 * cycle) contributes nothing of its own. */
static struct rf_val rf_phi(struct rf *r, LLVMValueRef f, LLVMValueRef phi, int field, unsigned idx)
{
    for (int k = 0; k < r->nvisit; k++)
        if (r->visit[k] == phi) return rf_any;
    if (r->nvisit == RF_MAX_VISIT) return rf_fail;
    r->visit[r->nvisit++] = phi;
    struct rf_val acc = rf_any;
    for (unsigned e = 0; e < LLVMCountIncoming(phi) && acc.k != RF_FAIL; e++) {
        LLVMValueRef in = LLVMGetIncomingValue(phi, e);
        acc = rf_join(acc, field ? rf_field(r, f, in, idx) : rf_scalar(r, f, in));
    }
    r->nvisit--;
    return acc;
}

static struct rf_val rf_scalar(struct rf *r, LLVMValueRef f, LLVMValueRef v)
{
    int p = param_index(f, v);
    if (p >= 0) return (struct rf_val){ RF_PARAM, p, NULL };
    if (LLVMIsUndef(v) || LLVMIsPoison(v)) return rf_any;
    if (LLVMIsAConstantInt(v) || LLVMIsAConstantDataVector(v) || LLVMIsAConstantAggregateZero(v))
        return (struct rf_val){ RF_CONST, 0, v };
    if (LLVMIsAExtractValueInst(v) && LLVMGetNumIndices(v) == 1)
        return rf_field(r, f, LLVMGetOperand(v, 0), LLVMGetIndices(v)[0]);
    if (LLVMIsAPHINode(v)) return rf_phi(r, f, v, 0, 0);
    return rf_fail;
}

static struct rf_val rf_field(struct rf *r, LLVMValueRef f, LLVMValueRef v, unsigned idx)
{
    while (LLVMIsAInsertValueInst(v) && LLVMGetNumIndices(v) == 1) {
        if (LLVMGetIndices(v)[0] == idx) return rf_scalar(r, f, LLVMGetOperand(v, 1));
        v = LLVMGetOperand(v, 0);
    }
    if (LLVMIsUndef(v) || LLVMIsPoison(v)) return rf_any;
    if (LLVMIsAConstantAggregateZero(v))
        return (struct rf_val){ RF_CONST, 0, LLVMConstNull(LLVMStructGetTypeAtIndex(LLVMTypeOf(v), idx)) };
    if (LLVMIsACallInst(v)) return rf_call_field(r, f, v, idx);
    if (LLVMIsAPHINode(v)) return rf_phi(r, f, v, 1, idx);
    return rf_fail;
}

/* Every use of fn is a direct call of it (invariant 1). */
int lift_only_called(LLVMValueRef fn)
{
    for (LLVMUseRef u = LLVMGetFirstUse(fn); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (!LLVMIsACallInst(user) || LLVMGetCalledValue(user) != fn) return 0;
        for (unsigned k = 0; k + 1 < (unsigned)LLVMGetNumOperands(user); k++)
            if (LLVMGetOperand(user, k) == fn) return 0;
    }
    return 1;
}

/* One round over every considered field; 1 when a verdict changed. */
static int rf_round(struct rf *r)
{
    int changed = 0;
    for (int k = 0; k < r->n; k++) {
        struct rf_fn *g = &r->fn[k];
        for (int i = 0; i < g->nf; i++) {
            if (g->f[i].k == RF_FAIL) continue;
            struct rf_val acc = rf_any;
            for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(g->fn); b && acc.k != RF_FAIL; b = LLVMGetNextBasicBlock(b)) {
                LLVMValueRef t = LLVMGetBasicBlockTerminator(b);
                if (!t || LLVMGetInstructionOpcode(t) != LLVMRet || LLVMGetNumOperands(t) != 1) continue;
                r->nvisit = 0;
                acc = rf_join(acc, rf_field(r, g->fn, LLVMGetOperand(t, 0), (unsigned)i));
            }
            if (acc.k != g->f[i].k || acc.p != g->f[i].p || acc.c != g->f[i].c) {
                g->f[i] = acc;
                changed = 1;
            }
        }
    }
    return changed;
}

int lift_forward_returns(LLVMModuleRef mod)
{
    struct rf *r = calloc(1, sizeof *r);
    LF_ASSERT(r, "out of memory");
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f && r->n < RF_MAX_FNS; f = LLVMGetNextFunction(f)) {
        LLVMTypeRef rt = LLVMGetReturnType(LLVMGlobalGetValueType(f));
        if (LLVMIsDeclaration(f) || LLVMGetLinkage(f) != LLVMInternalLinkage ||
            LLVMGetTypeKind(rt) != LLVMStructTypeKind || LLVMCountStructElementTypes(rt) > RF_MAX_FIELDS ||
            !lift_only_called(f))
            continue;
        struct rf_fn *g = &r->fn[r->n++];
        g->fn = f;
        g->nf = (int)LLVMCountStructElementTypes(rt);
        for (int i = 0; i < g->nf; i++) g->f[i] = rf_any;   /* optimistic: the greatest fixpoint */
    }
    for (int round = 0; round < 64 && rf_round(r); round++) {}
    int made = 0;
    for (int k = 0; k < r->n; k++) {
        struct rf_fn *g = &r->fn[k];
        for (LLVMUseRef u = LLVMGetFirstUse(g->fn); u; u = LLVMGetNextUse(u)) {
            LLVMValueRef call = LLVMGetUser(u);
            /* The extractvalues of the call, collected first: replacing
             * them edits the use list being walked. */
            LLVMValueRef ev[64];
            int nev = 0;
            for (LLVMUseRef cu = LLVMGetFirstUse(call); cu && nev < 64; cu = LLVMGetNextUse(cu)) {
                LLVMValueRef x = LLVMGetUser(cu);
                if (LLVMIsAExtractValueInst(x) && LLVMGetNumIndices(x) == 1) ev[nev++] = x;
            }
            for (int q = 0; q < nev; q++) {
                unsigned i = LLVMGetIndices(ev[q])[0];
                struct rf_val v = g->f[i];
                LLVMValueRef to = v.k == RF_PARAM ? LLVMGetOperand(call, (unsigned)v.p) : v.k == RF_CONST ? v.c : NULL;
                if (!to || LLVMTypeOf(to) != LLVMTypeOf(ev[q])) continue;
                LLVMReplaceAllUsesWith(ev[q], to);
                LLVMInstructionEraseFromParent(ev[q]);
                made++;
            }
        }
    }
    free(r);
    return made;
}

/* -- Struct phis split by field --------------------------------------------------- */

/* A fast exit inlined at its call (lift_fast.c) leaves a phi of two whole
 * results, the region's and the call's, of which the caller extracts a
 * field or two; deadargelim counts every field of a call result that
 * reaches a phi as read.  A phi of structs whose every use extracts one
 * field becomes one phi per field read, each incoming value extracted at
 * the end of its block (instcombine folds those of insertvalue chains). */
static int split_phi(LLVMBuilderRef b, LLVMValueRef phi)
{
    LLVMValueRef ev[64];
    int nev = 0;
    for (LLVMUseRef u = LLVMGetFirstUse(phi); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef x = LLVMGetUser(u);
        if (!LLVMIsAExtractValueInst(x) || LLVMGetNumIndices(x) != 1 || nev == 64) return 0;
        ev[nev++] = x;
    }
    if (!nev) return 0;
    LLVMTypeRef st = LLVMTypeOf(phi);
    unsigned nf = LLVMCountStructElementTypes(st), nin = LLVMCountIncoming(phi);
    LLVMValueRef field[RF_MAX_FIELDS] = { 0 };
    if (nf > RF_MAX_FIELDS) return 0;
    for (int q = 0; q < nev; q++) {
        unsigned i = LLVMGetIndices(ev[q])[0];
        if (!field[i]) {
            LLVMPositionBuilderBefore(b, phi);
            field[i] = LLVMBuildPhi(b, LLVMStructGetTypeAtIndex(st, i), "");
            for (unsigned e = 0; e < nin; e++) {
                LLVMBasicBlockRef from = LLVMGetIncomingBlock(phi, e);
                LLVMPositionBuilderBefore(b, LLVMGetBasicBlockTerminator(from));
                LLVMValueRef v = LLVMBuildExtractValue(b, LLVMGetIncomingValue(phi, e), i, "");
                LLVMAddIncoming(field[i], &v, &from, 1);
            }
        }
        LLVMReplaceAllUsesWith(ev[q], field[i]);
        LLVMInstructionEraseFromParent(ev[q]);
    }
    LLVMInstructionEraseFromParent(phi);
    return 1;
}

int lift_split_struct_phis(LLVMModuleRef mod)
{
    LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetModuleContext(mod));
    int made = 0, more = 1;
    while (more) {   /* a phi of phis splits once its users have */
        more = 0;
        for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
            for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
                for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i && LLVMIsAPHINode(i);) {
                    LLVMValueRef next = LLVMGetNextInstruction(i);
                    if (LLVMGetTypeKind(LLVMTypeOf(i)) == LLVMStructTypeKind && split_phi(b, i)) made++, more = 1;
                    i = next;
                }
    }
    LLVMDisposeBuilder(b);
    return made;
}
