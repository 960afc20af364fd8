/* lift_fast.c -- fast exits inlined at the call (partial inlining of a
 * specialization's early return), on optimized IR.
 *
 * Interpreted recursion ends in leaves: fib's n < 2, tak's y >= x, ack's
 * m = 0.  A leaf runs a few compares and returns, yet pays a whole call:
 * the prologue and epilogue that save and restore every callee-saved
 * register the non-leaf paths need.  For an internal function F whose
 * entry reaches a `ret` through a few blocks without side effects (the
 * fast region), a wrapper F.fast is made:
 *
 *      F.fast(args):   <the fast region, cloned>          -- then inlined
 *                      every edge leaving it: call F(args)  into each caller
 *
 * and every direct call of F (its recursion too) calls F.fast instead.
 * F.fast is small and always inlined (LLVM's partial inliner does this but
 * skips recursive functions, which are the ones that matter here).
 *
 * Invariants:
 *   1. The region has no side effects (no store, call, alloca, fence or
 *      volatile access), so running it and then F from its start is the
 *      same as running F: the slow edge re-runs the region's checks.
 *   2. Only values the region computes from F's arguments and constants
 *      are cloned; a region whose exit needs anything else is not made.
 *   3. F keeps its body and its name (the image's symbol). */
#include "lifter/lift_proc.h"

#include <stdio.h>
#include <stdlib.h>

/* Region limits, measured on the bench images (`lineiform run`, median of
 * five): tak's leaf (y >= x) lies past its loop's header and a tag check,
 * seven blocks from the entry; with at most 6 blocks it had no fast exit
 * (0.23 s), with 10 blocks and 60 instructions 0.12 s.  16 and 100 copy
 * colder paths into every call: ack 0.27 against 0.21 s, tak 0.18 s.
 * Keeping only the paths to the nearest returns (not every pure block
 * breadth-first): tak 0.11 against 0.12 s, ack, fib and nqueens equal.
 * FAST_SEARCH bounds the blocks searched for those paths. */
enum { FAST_MAX_BLOCKS = 10, FAST_MAX_INSNS = 60, FAST_MAX_VALS = 256, FAST_SEARCH = 64 };

struct fast_map {
    LLVMValueRef from[FAST_MAX_VALS], to[FAST_MAX_VALS];
    int n;
};

static LLVMValueRef map_get(const struct fast_map *m, LLVMValueRef v)
{
    for (int k = 0; k < m->n; k++)
        if (m->from[k] == v) return m->to[k];
    return NULL;
}

static int map_put(struct fast_map *m, LLVMValueRef from, LLVMValueRef to)
{
    if (m->n == FAST_MAX_VALS) return 0;
    m->from[m->n] = from, m->to[m->n++] = to;
    return 1;
}

/* 1 when insn has no side effect and may run twice. */
static int insn_pure(LLVMValueRef i)
{
    switch (LLVMGetInstructionOpcode(i)) {
    case LLVMStore: case LLVMCall: case LLVMInvoke: case LLVMAlloca: case LLVMFence:
    case LLVMAtomicCmpXchg: case LLVMAtomicRMW: case LLVMCallBr: case LLVMResume:
    case LLVMUnreachable: case LLVMIndirectBr: case LLVMVAArg:
        return 0;
    case LLVMLoad:
        return !LLVMGetVolatile(i);
    default:
        return 1;
    }
}

static int block_index(LLVMBasicBlockRef *bb, int n, LLVMBasicBlockRef b)
{
    for (int k = 0; k < n; k++)
        if (bb[k] == b) return k;
    return -1;
}

/* Instructions in b, or -1 when one has a side effect. */
static int block_cost(LLVMBasicBlockRef b)
{
    int count = 0;
    for (LLVMValueRef i = LLVMGetFirstInstruction(b); i; i = LLVMGetNextInstruction(i), count++)
        if (!insn_pure(i)) return -1;
    return count;
}

/* The fast region: the shortest paths from the entry (pure but for its
 * allocas) to the nearest returns through pure blocks, at most
 * FAST_MAX_BLOCKS blocks and FAST_MAX_INSNS instructions, in
 * breadth-first order (a block's dominators before it); 0 when no return
 * is that near.  Only blocks on such a path: a side branch (a type check's
 * slow side) leaves for the call rather than growing every copy. */
static int fast_region(LLVMValueRef f, LLVMBasicBlockRef *bb)
{
    LLVMBasicBlockRef seen[FAST_SEARCH];
    int parent[FAST_SEARCH], cost[FAST_SEARCH], keep[FAST_SEARCH] = { 0 }, ns = 0;
    seen[ns] = LLVMGetEntryBasicBlock(f), parent[ns] = -1, cost[ns++] = 0;
    for (LLVMValueRef i = LLVMGetFirstInstruction(seen[0]); i; i = LLVMGetNextInstruction(i), cost[0]++)
        if (LLVMGetInstructionOpcode(i) != LLVMAlloca && !insn_pure(i)) return 0;
    int nkeep = 0, insns = 0;
    for (int q = 0; q < ns; q++) {
        LLVMValueRef term = LLVMGetBasicBlockTerminator(seen[q]);
        if (!term) return 0;
        if (LLVMGetInstructionOpcode(term) == LLVMRet) {
            /* Its path, where not kept yet, if it fits. */
            int add = 0, extra = 0;
            for (int x = q; x >= 0 && !keep[x]; x = parent[x]) add++, extra += cost[x];
            if (nkeep + add > FAST_MAX_BLOCKS || insns + extra > FAST_MAX_INSNS) continue;
            for (int x = q; x >= 0 && !keep[x]; x = parent[x]) keep[x] = 1;
            nkeep += add, insns += extra;
            continue;
        }
        for (unsigned s = 0; s < LLVMGetNumSuccessors(term) && ns < FAST_SEARCH; s++) {
            LLVMBasicBlockRef b = LLVMGetSuccessor(term, s);
            int c = block_index(seen, ns, b) >= 0 ? -1 : block_cost(b);
            if (c < 0) continue;
            seen[ns] = b, parent[ns] = q, cost[ns++] = c;
        }
    }
    int n = 0;
    for (int q = 0; q < ns; q++)
        if (keep[q]) bb[n++] = seen[q];
    return n;
}

/* 1 when every operand of i is a constant, a block or mapped (then
 * remapped in c); 0 when it needs a value not cloned. */
static int remap(const struct fast_map *m, LLVMValueRef i, LLVMValueRef c)
{
    int nops = LLVMGetNumOperands(i);
    for (int o = 0; o < nops; o++) {
        LLVMValueRef v = LLVMGetOperand(i, o);
        if (LLVMValueIsBasicBlock(v)) continue;
        LLVMValueRef t = map_get(m, v);
        if (t) {
            if (c) LLVMSetOperand(c, o, t);
        } else if (LLVMIsAInstruction(v) || LLVMIsAArgument(v)) {
            return 0;
        }
    }
    return 1;
}

/* Clone the region's blocks into w (slow: the block calling f).  Blocks
 * are in breadth-first order, so a non-phi operand's definition is cloned
 * before its use; what is not cloned (the frame's alloca, values computed
 * from it) may feed only other such values (invariant 2). */
static int fast_clone(LLVMBuilderRef b, LLVMValueRef f, LLVMValueRef w, LLVMBasicBlockRef *bb, int n,
                      LLVMBasicBlockRef slow, struct fast_map *m)
{
    LLVMBasicBlockRef nb[FAST_MAX_BLOCKS];
    LLVMContextRef lc = LLVMGetModuleContext(LLVMGetGlobalParent(f));
    for (unsigned k = 0; k < LLVMCountParams(f); k++)
        if (!map_put(m, LLVMGetParam(f, k), LLVMGetParam(w, k))) return 0;
    for (int k = 0; k < n; k++) nb[k] = LLVMAppendBasicBlockInContext(lc, w, "fast");
    LLVMValueRef phis[FAST_MAX_VALS];
    int nphi = 0, cut[FAST_MAX_BLOCKS] = { 0 };
    for (int k = 0; k < n; k++) {
        LLVMPositionBuilderAtEnd(b, nb[k]);
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb[k]); i; i = LLVMGetNextInstruction(i)) {
            LLVMOpcode op = LLVMGetInstructionOpcode(i);
            if (op == LLVMPHI) {
                LLVMValueRef p = LLVMBuildPhi(b, LLVMTypeOf(i), "");
                if (!map_put(m, i, p) || nphi == FAST_MAX_VALS) return 0;
                phis[nphi++] = i;
                continue;
            }
            int term = LLVMIsATerminatorInst(i) != NULL;
            if (op == LLVMAlloca || !remap(m, i, NULL)) {
                /* A branch on what is not cloned (a stack check on the
                 * frame's address): that block leaves for the slow call. */
                if (term) LLVMBuildBr(b, slow), cut[k] = 1;
                continue;
            }
            LLVMValueRef c = LLVMInstructionClone(i);
            LLVMInsertIntoBuilder(b, c);
            remap(m, i, c);
            if (!map_put(m, i, c)) return 0;
            for (unsigned s = 0; term && s < LLVMGetNumSuccessors(i); s++) {
                int x = block_index(bb, n, LLVMGetSuccessor(i, s));
                LLVMSetSuccessor(c, s, x >= 0 ? nb[x] : slow);
            }
        }
    }
    /* Phis: the incoming edges from region blocks only (a block outside
     * the region, or one cut, is never a predecessor of a cloned one). */
    for (int q = 0; q < nphi; q++) {
        LLVMValueRef old = phis[q], p = map_get(m, old);
        for (unsigned e = 0; e < LLVMCountIncoming(old); e++) {
            int x = block_index(bb, n, LLVMGetIncomingBlock(old, e));
            if (x < 0 || cut[x]) continue;
            LLVMValueRef v = LLVMGetIncomingValue(old, e), t = map_get(m, v);
            if (!t && (LLVMIsAInstruction(v) || LLVMIsAArgument(v))) return 0;
            LLVMBasicBlockRef from = nb[x];
            LLVMValueRef tv = t ? t : v;
            LLVMAddIncoming(p, &tv, &from, 1);
        }
        if (!LLVMCountIncoming(p)) return 0;
    }
    return 1;
}

/* Make f's wrapper and point f's direct calls at it; 1 when made. */
static int fast_wrap(LLVMModuleRef mod, LLVMBuilderRef b, LLVMValueRef f)
{
    LLVMBasicBlockRef bb[FAST_MAX_BLOCKS];
    LLVMTypeRef fty = LLVMGlobalGetValueType(f);
    if (LLVMIsFunctionVarArg(fty) || LLVMGetTypeKind(LLVMGetReturnType(fty)) == LLVMVoidTypeKind) return 0;
    int n = fast_region(f, bb);
    if (n < 2) return 0;
    /* The calls to redirect, collected before the wrapper adds its own. */
    int ncall = 0, cap = 16;
    LLVMValueRef *calls = malloc((size_t)cap * sizeof *calls);
    LF_ASSERT(calls, "out of memory");
    for (LLVMUseRef u = LLVMGetFirstUse(f); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (!LLVMIsACallInst(user) || LLVMGetCalledValue(user) != f) continue;
        if (ncall == cap) {
            calls = realloc(calls, (size_t)(cap *= 2) * sizeof *calls);
            LF_ASSERT(calls, "out of memory");
        }
        calls[ncall++] = user;
    }
    if (!ncall) { free(calls); return 0; }
    size_t len;
    const char *name = LLVMGetValueName2(f, &len);
    char wname[160];
    snprintf(wname, sizeof wname, "%.*s.fast", (int)(len < 140 ? len : 140), name);
    LLVMValueRef w = LLVMAddFunction(mod, wname, fty);
    LLVMSetLinkage(w, LLVMInternalLinkage);
    LLVMSetFunctionCallConv(w, LLVMGetFunctionCallConv(f));
    LLVMContextRef lc = LLVMGetModuleContext(mod);
    LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(lc, w, "slow");
    struct fast_map *m = calloc(1, sizeof *m);
    LF_ASSERT(m, "out of memory");
    int ok = fast_clone(b, f, w, bb, n, slow, m);
    free(m);
    if (!ok) {
        LLVMDeleteFunction(w);
        free(calls);
        return 0;
    }
    /* The entry block comes first: move the slow block after the clones. */
    LLVMMoveBasicBlockAfter(slow, LLVMGetLastBasicBlock(w));
    LLVMPositionBuilderAtEnd(b, slow);
    unsigned np = LLVMCountParams(w);
    LLVMValueRef *args = malloc((np ? np : 1) * sizeof *args);
    LF_ASSERT(args, "out of memory");
    for (unsigned k = 0; k < np; k++) args[k] = LLVMGetParam(w, k);
    LLVMValueRef call = LLVMBuildCall2(b, fty, f, args, np, "");
    LLVMSetInstructionCallConv(call, LLVMGetFunctionCallConv(f));
    LLVMBuildRet(b, call);
    free(args);
    unsigned always = LLVMGetEnumAttributeKindForName("alwaysinline", 12);
    unsigned never = LLVMGetEnumAttributeKindForName("noinline", 8);
    LLVMAddAttributeAtIndex(w, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(lc, always, 0));
    /* Else f, called once (from w), would be inlined into w. */
    LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(lc, never, 0));
    for (int k = 0; k < ncall; k++) LLVMSetOperand(calls[k], LLVMGetNumOperands(calls[k]) - 1, w);
    free(calls);
    return 1;
}

int lift_fast_exits(LLVMModuleRef mod)
{
    LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetModuleContext(mod));
    int made = 0;
    LLVMValueRef last = LLVMGetLastFunction(mod);
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
        if (!LLVMIsDeclaration(f) && LLVMGetLinkage(f) == LLVMInternalLinkage) made += fast_wrap(mod, b, f);
        if (f == last) break;   /* not the wrappers just added */
    }
    LLVMDisposeBuilder(b);
    return made;
}
