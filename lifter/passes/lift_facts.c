/* lift_facts.c -- marker compares decided by a tag bit, on optimized IR.
 *
 * A dynamically typed interpreter's loops compare a body's result with
 * its marker values (nc_bodyloop's `while ((r = body()) == mark)`, the
 * LV_TAIL check after a call): r is the marker on the paths that looped
 * or tail-called, a computed value on the others, and they meet in one
 * phi before one switch.  Where a computed value was just tested to be a
 * fixnum (`test $1, al`: low bit 1) and every marker is even, the switch
 * cannot match on that path, but LLVM neither threads a phi's incoming
 * value by its known bits nor carries a branch's bit test past the join.
 *
 * lift_thread_by_bit does it for a block B made of phis and a terminator
 * that switches (or branches on one equality compare) on one of B's
 * phis, V:
 *
 *      P:  br ((X & 1) == 0), other, B        -- X's low bit is 1 into B
 *      B:  V = phi [X, P], ...;  switch V [64: loop, 48: tail], default D
 *
 * P's edge goes to D directly (every case value is even), and D's phis,
 * or the phis made in D for B's phis it reads, take P's values.
 *
 * ack's call node: 1.73 against 1.87 G instructions (callgrind).  With
 * LLVM's default block placement the image ran slower all the same (0.167
 * against 0.156 s, fastest of fifteen); with the ext-TSP placement
 * (lift_jit.c) 0.137 s (median 0.139 against 0.160 s).
 *
 * Invariants:
 *   1. The bit is known only from P's own terminator: a conditional branch
 *      on `(X & 1) ==/!= 0` (or on an `or` of such a compare with others,
 *      taken false; an `and`, taken true) whose edge into B implies bit 1,
 *      and the value P gives V is X, or X plus or minus an even constant.
 *   2. B's phis are read only by B's terminator (or its compare), by phis
 *      of B's successors along B's edges, or inside D when B is D's only
 *      predecessor; anything else leaves B alone (no other use would stay
 *      dominated once P bypasses B).
 *   3. P enters B by one edge and is not already a predecessor of D. */
#include "lifter/lift_proc.h"

#include <stdlib.h>

enum { TB_MAX_PHIS = 64, TB_MAX_PREDS = 32 };

/* 1 when c is an odd/even constant int (any width up to 64). */
static int const_parity(LLVMValueRef c, int *odd)
{
    if (!LLVMIsAConstantInt(c) || LLVMGetIntTypeWidth(LLVMTypeOf(c)) > 64) return 0;
    *odd = (int)(LLVMConstIntGetZExtValue(c) & 1);
    return 1;
}

/* The values whose bit 0 cond taken `truth` proves set: a compare of
 * (X & 1) with 0 or 1, or the terms of an `and` taken true / an `or`
 * taken false (also in their select forms).  Their number, at most 4. */
static int odd_by(LLVMValueRef cond, int truth, LLVMValueRef *x, int n)
{
    if (n >= 4 || !LLVMIsAInstruction(cond)) return n;
    if (LLVMIsAICmpInst(cond)) {
        LLVMIntPredicate pr = LLVMGetICmpPredicate(cond);
        LLVMValueRef a = LLVMGetOperand(cond, 0), z = LLVMGetOperand(cond, 1);
        if ((pr != LLVMIntEQ && pr != LLVMIntNE) || !LLVMIsAConstantInt(z) || !LLVMIsAInstruction(a) ||
            LLVMGetInstructionOpcode(a) != LLVMAnd || LLVMConstIntGetZExtValue(z) > 1)
            return n;
        LLVMValueRef m = LLVMGetOperand(a, 1);
        if (!LLVMIsAConstantInt(m) || LLVMConstIntGetZExtValue(m) != 1) return n;
        int true_means_set = (pr == LLVMIntEQ) == (LLVMConstIntGetZExtValue(z) == 1);
        if (true_means_set == truth) x[n++] = LLVMGetOperand(a, 0);
        return n;
    }
    LLVMOpcode op = LLVMGetInstructionOpcode(cond);
    LLVMValueRef a, b;
    if ((op == LLVMAnd && truth) || (op == LLVMOr && !truth)) {
        a = LLVMGetOperand(cond, 0), b = LLVMGetOperand(cond, 1);
    } else if (op == LLVMSelect) {   /* select a, b, false = a && b; select a, true, b = a || b */
        LLVMValueRef k = LLVMGetOperand(cond, truth ? 2 : 1);
        if (!LLVMIsAConstantInt(k) || LLVMConstIntGetZExtValue(k) != (unsigned long long)!truth) return n;
        a = LLVMGetOperand(cond, 0), b = LLVMGetOperand(cond, truth ? 1 : 2);
    } else {
        return n;
    }
    return odd_by(b, truth, x, odd_by(a, truth, x, n));
}

/* The values P's terminator proves odd on its edge into b. */
static int odd_on_edge(LLVMBasicBlockRef p, LLVMBasicBlockRef b, LLVMValueRef x[4])
{
    LLVMValueRef t = LLVMGetBasicBlockTerminator(p);
    if (!t || LLVMGetInstructionOpcode(t) != LLVMBr || !LLVMIsConditional(t)) return 0;
    LLVMBasicBlockRef s0 = LLVMGetSuccessor(t, 0), s1 = LLVMGetSuccessor(t, 1);
    if (s0 == s1 || (s0 != b && s1 != b)) return 0;
    return odd_by(LLVMGetCondition(t), s0 == b, x, 0);
}

/* v is x, or x +/- an even constant (invariant 1). */
static int odd_from(LLVMValueRef v, LLVMValueRef x)
{
    if (v == x) return 1;
    if (!LLVMIsAInstruction(v)) return 0;
    LLVMOpcode op = LLVMGetInstructionOpcode(v);
    int odd;
    return (op == LLVMAdd || op == LLVMSub) && LLVMGetOperand(v, 0) == x &&
           const_parity(LLVMGetOperand(v, 1), &odd) && !odd;
}

/* The successor of B's terminator t taken when V is odd and every value
 * it is compared with is even; NULL when some compared value is odd. */
static LLVMBasicBlockRef odd_target(LLVMValueRef t, LLVMValueRef *v)
{
    int odd;
    if (LLVMGetInstructionOpcode(t) == LLVMSwitch) {
        *v = LLVMGetOperand(t, 0);
        for (unsigned k = 1; k < LLVMGetNumSuccessors(t); k++)   /* operands 2k: case values */
            if (!const_parity(LLVMGetOperand(t, 2 * k), &odd) || odd) return NULL;
        return LLVMGetSwitchDefaultDest(t);
    }
    if (LLVMGetInstructionOpcode(t) != LLVMBr || !LLVMIsConditional(t)) return NULL;
    LLVMValueRef cmp = LLVMGetCondition(t);
    if (!LLVMIsAICmpInst(cmp) || !const_parity(LLVMGetOperand(cmp, 1), &odd) || odd) return NULL;
    LLVMIntPredicate pr = LLVMGetICmpPredicate(cmp);
    if (pr != LLVMIntEQ && pr != LLVMIntNE) return NULL;
    *v = LLVMGetOperand(cmp, 0);
    return LLVMGetSuccessor(t, pr == LLVMIntEQ ? 1 : 0);   /* where V differs from the constant */
}

static int is_succ_of(LLVMBasicBlockRef s, LLVMBasicBlockRef b)
{
    LLVMValueRef t = LLVMGetBasicBlockTerminator(b);
    for (unsigned k = 0; t && k < LLVMGetNumSuccessors(t); k++)
        if (LLVMGetSuccessor(t, k) == s) return 1;
    return 0;
}

static int npreds(LLVMBasicBlockRef b, LLVMBasicBlockRef *out, int max)
{
    int n = 0;
    for (LLVMUseRef u = LLVMGetFirstUse(LLVMBasicBlockAsValue(b)); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef t = LLVMGetUser(u);
        if (!LLVMIsATerminatorInst(t)) return -1;
        LLVMBasicBlockRef p = LLVMGetInstructionParent(t);
        int dup = 0;
        for (int k = 0; k < n; k++) dup |= out[k] == p;
        if (dup) continue;
        if (n == max) return -1;
        out[n++] = p;
    }
    return n;
}

static LLVMValueRef incoming_for(LLVMValueRef phi, LLVMBasicBlockRef p)
{
    for (unsigned e = 0; e < LLVMCountIncoming(phi); e++)
        if (LLVMGetIncomingBlock(phi, e) == p) return LLVMGetIncomingValue(phi, e);
    return NULL;
}

/* Invariant 2 for B's phis; *in_d: some are read inside d. */
static int phis_contained(LLVMBasicBlockRef b, LLVMValueRef term, LLVMBasicBlockRef d, int d_single, int *in_d)
{
    LLVMValueRef cmp = LLVMGetInstructionOpcode(term) == LLVMBr ? LLVMGetCondition(term) : NULL;
    *in_d = 0;
    int nph = 0;
    for (LLVMValueRef i = LLVMGetFirstInstruction(b); i != term; i = LLVMGetNextInstruction(i)) {
        if (i == cmp) continue;
        if (!LLVMIsAPHINode(i) || ++nph > TB_MAX_PHIS) return 0;   /* thread() maps at most these */
        for (LLVMUseRef u = LLVMGetFirstUse(i); u; u = LLVMGetNextUse(u)) {
            LLVMValueRef x = LLVMGetUser(u);
            LLVMBasicBlockRef xb = LLVMGetInstructionParent(x);
            if (x == term || x == cmp) continue;
            if (LLVMIsAPHINode(x) && is_succ_of(xb, b) && incoming_for(x, b) == i) continue;
            if (xb == d && d_single && !LLVMIsAPHINode(x)) { *in_d = 1; continue; }
            return 0;
        }
    }
    return !cmp || LLVMGetFirstUse(cmp) == NULL || LLVMGetNextUse(LLVMGetFirstUse(cmp)) == NULL;
}

/* Rebuild b's phis without p's incoming value (the C API cannot remove one). */
static void drop_incoming(LLVMBuilderRef bld, LLVMBasicBlockRef b, LLVMBasicBlockRef p)
{
    for (LLVMValueRef i = LLVMGetFirstInstruction(b); i && LLVMIsAPHINode(i);) {
        LLVMValueRef next = LLVMGetNextInstruction(i);
        LLVMPositionBuilderBefore(bld, i);
        LLVMValueRef n = LLVMBuildPhi(bld, LLVMTypeOf(i), "");
        for (unsigned e = 0; e < LLVMCountIncoming(i); e++) {
            LLVMBasicBlockRef from = LLVMGetIncomingBlock(i, e);
            if (from == p) continue;
            LLVMValueRef v = LLVMGetIncomingValue(i, e);
            LLVMAddIncoming(n, &v, &from, 1);
        }
        LLVMReplaceAllUsesWith(i, n);
        LLVMInstructionEraseFromParent(i);
        i = next;
    }
}

/* Thread p's edge into b to d. */
static void thread(LLVMBuilderRef bld, LLVMBasicBlockRef p, LLVMBasicBlockRef b, LLVMBasicBlockRef d, int in_d)
{
    /* Values p gives b's phis, before they are rebuilt. */
    LLVMValueRef phis[TB_MAX_PHIS], vals[TB_MAX_PHIS];
    int nph = 0;
    for (LLVMValueRef i = LLVMGetFirstInstruction(b); i && LLVMIsAPHINode(i); i = LLVMGetNextInstruction(i))
        phis[nph] = i, vals[nph++] = incoming_for(i, p);
    /* d's own phis: p's value is what b passed, translated through b's phis. */
    for (LLVMValueRef i = LLVMGetFirstInstruction(d); i && LLVMIsAPHINode(i); i = LLVMGetNextInstruction(i)) {
        LLVMValueRef w = incoming_for(i, b);
        for (int k = 0; k < nph; k++)
            if (w == phis[k]) w = vals[k];
        LLVMAddIncoming(i, &w, &p, 1);
    }
    /* b's phis read in d (b was its only predecessor): a phi in d of b's
     * value and p's. */
    if (in_d) {
        LLVMValueRef first = LLVMGetFirstInstruction(d);
        while (first && LLVMIsAPHINode(first)) first = LLVMGetNextInstruction(first);
        for (int k = 0; k < nph; k++) {
            int used = 0;
            for (LLVMUseRef u = LLVMGetFirstUse(phis[k]); u && !used; u = LLVMGetNextUse(u))
                used = LLVMGetInstructionParent(LLVMGetUser(u)) == d && !LLVMIsAPHINode(LLVMGetUser(u));
            if (!used) continue;
            LLVMPositionBuilderBefore(bld, first);
            LLVMValueRef n = LLVMBuildPhi(bld, LLVMTypeOf(phis[k]), "");
            LLVMValueRef in[2] = { phis[k], vals[k] };
            LLVMBasicBlockRef from[2] = { b, p };
            LLVMAddIncoming(n, in, from, 2);
            for (LLVMUseRef u = LLVMGetFirstUse(phis[k]); u;) {
                LLVMUseRef nu = LLVMGetNextUse(u);
                LLVMValueRef x = LLVMGetUser(u);
                if (x != n && LLVMGetInstructionParent(x) == d && !LLVMIsAPHINode(x))
                    for (int o = 0; o < LLVMGetNumOperands(x); o++)
                        if (LLVMGetOperand(x, (unsigned)o) == phis[k]) LLVMSetOperand(x, (unsigned)o, n);
                u = nu;
            }
        }
    }
    LLVMValueRef pt = LLVMGetBasicBlockTerminator(p);
    for (unsigned k = 0; k < LLVMGetNumSuccessors(pt); k++)
        if (LLVMGetSuccessor(pt, k) == b) LLVMSetSuccessor(pt, k, d);
    drop_incoming(bld, b, p);
}

static int thread_block(LLVMBuilderRef bld, LLVMBasicBlockRef b)
{
    LLVMValueRef term = LLVMGetBasicBlockTerminator(b), v = NULL;
    if (!term) return 0;
    LLVMBasicBlockRef d = odd_target(term, &v), preds[TB_MAX_PREDS], dp[2];
    if (!d || d == b || !LLVMIsAPHINode(v) || LLVMGetInstructionParent(v) != b) return 0;
    int np = npreds(b, preds, TB_MAX_PREDS), ndp = npreds(d, dp, 2), in_d;
    if (np < 2 || ndp < 0) return 0;
    if (!phis_contained(b, term, d, ndp == 1 && dp[0] == b, &in_d)) return 0;
    for (int k = 0; k < np; k++) {
        LLVMBasicBlockRef p = preds[k];
        LLVMValueRef x[4], val = incoming_for(v, p);
        int nx = odd_on_edge(p, b, x), odd = 0;
        for (int q = 0; q < nx && val; q++) odd |= odd_from(val, x[q]);
        if (!odd || is_succ_of(d, p)) continue;   /* invariants 1, 3 */
        thread(bld, p, b, d, in_d);
        return 1;   /* b's phis were rebuilt: look again */
    }
    return 0;
}

int lift_thread_by_bit(LLVMModuleRef mod)
{
    LLVMBuilderRef bld = LLVMCreateBuilderInContext(LLVMGetModuleContext(mod));
    int made = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
        for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(f); b; b = LLVMGetNextBasicBlock(b))
            for (int guard = 0; guard < TB_MAX_PREDS && thread_block(bld, b); guard++) made++;
    LLVMDisposeBuilder(bld);
    return made;
}
