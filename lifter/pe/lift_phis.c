/* lift_phis.c -- tidy the phis and dead pure instructions a lifted
 * function's emission leaves, before any LLVM pass sees them.
 *
 * Inputs: a function emitted by lift_block.c.  Outputs: the same function,
 * its trivial phis replaced by their one value, unused side-effect-free
 * instructions deleted.  Nothing with an observable effect is removed. */
#include "lifter/lift_job.h"

#include <stdlib.h>
#include <string.h>

/* -- Phis ------------------------------------------------------------------ */

/* Emission gives every block a phi per register and flag its entry state
 * leaves unknown, whether or not anything reads it; most of them pass one
 * value through or only feed one another.  Cleaning them here is linear
 * and spares every LLVM pass the work (on nqueens they were 88,106 of
 * 163,386 instructions). */

static int ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return x < y ? -1 : x > y;
}

static long phi_index(LLVMValueRef *phis, size_t n, LLVMValueRef v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((uintptr_t)phis[mid] < (uintptr_t)v) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && phis[lo] == v ? (long)lo : -1;
}

/* The one value phi p merges besides itself, or NULL. */
static LLVMValueRef phi_single(LLVMValueRef p)
{
    LLVMValueRef v = NULL;
    for (unsigned k = 0, n = LLVMCountIncoming(p); k < n; k++) {
        LLVMValueRef in = LLVMGetIncomingValue(p, k);
        if (in == p || in == v) continue;
        if (v) return NULL;
        v = in;
    }
    return v;
}

/* Phis of a single value become that value (to a fixpoint, a bounded
 * number of sweeps); then phis that no other instruction reads, directly
 * or through phis, go. */
void lift_job_phis(LLVMValueRef fn)
{
    for (int sweep = 0, changed = 1; changed && sweep < 8; sweep++) {
        changed = 0;
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
            LLVMValueRef in = LLVMGetFirstInstruction(bb), next;
            for (; in && LLVMGetInstructionOpcode(in) == LLVMPHI; in = next) {
                next = LLVMGetNextInstruction(in);
                LLVMValueRef v = phi_single(in);
                if (!v) continue;
                LLVMReplaceAllUsesWith(in, v);
                LLVMInstructionEraseFromParent(in);
                changed = 1;
            }
        }
    }
    size_t n = 0, cap = 1024;
    LLVMValueRef *phis = malloc(sizeof *phis * cap);
    LF_ASSERT(phis, "out of memory");
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in && LLVMGetInstructionOpcode(in) == LLVMPHI;
             in = LLVMGetNextInstruction(in)) {
            if (n == cap) phis = realloc(phis, sizeof *phis * (cap *= 2));
            LF_ASSERT(phis, "out of memory");
            phis[n++] = in;
        }
    qsort(phis, n, sizeof *phis, ptr_cmp);
    char *live = calloc(n ? n : 1, 1);
    size_t *work = malloc(sizeof *work * (n ? n : 1)), nwork = 0;
    LF_ASSERT(live && work, "out of memory");
    for (size_t i = 0; i < n; i++)
        for (LLVMUseRef u = LLVMGetFirstUse(phis[i]); u && !live[i]; u = LLVMGetNextUse(u))
            if (phi_index(phis, n, LLVMGetUser(u)) < 0) live[i] = 1, work[nwork++] = i;
    while (nwork > 0) {
        LLVMValueRef p = phis[work[--nwork]];
        for (unsigned k = 0, m = LLVMCountIncoming(p); k < m; k++) {
            long q = phi_index(phis, n, LLVMGetIncomingValue(p, k));
            if (q >= 0 && !live[q]) live[q] = 1, work[nwork++] = (size_t)q;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!live[i]) LLVMReplaceAllUsesWith(phis[i], LLVMGetUndef(LLVMTypeOf(phis[i])));
    for (size_t i = 0; i < n; i++)
        if (!live[i]) LLVMInstructionEraseFromParent(phis[i]);
    free(live);
    free(work);
    free(phis);
}

/* An instruction without side effects. */
static int sweep_pure(LLVMValueRef in)
{
    LLVMOpcode op = LLVMGetInstructionOpcode(in);
    return (op >= LLVMAdd && op <= LLVMXor && op != LLVMUDiv && op != LLVMSDiv &&
            op != LLVMURem && op != LLVMSRem) ||
           (op >= LLVMTrunc && op <= LLVMBitCast) || op == LLVMAddrSpaceCast ||
           op == LLVMICmp || op == LLVMFCmp || op == LLVMFNeg ||
           op == LLVMPHI || op == LLVMSelect || op == LLVMGetElementPtr ||
           op == LLVMExtractValue || op == LLVMInsertValue || op == LLVMFreeze ||
           op == LLVMExtractElement || op == LLVMInsertElement || op == LLVMShuffleVector;
}

/* Delete side-effect-free instructions nobody uses, so that no dead
 * ptrtoint of the frame keeps SROA from promoting it; but not keep (sp0:
 * the frame split reads its uses next). */
void lift_job_sweep(LLVMValueRef fn, LLVMValueRef keep)
{
    /* A worklist of dead values: erasing one may leave its operands dead.
     * A value enters it once: when found unused, or when its last user
     * goes (operands are deduplicated per user). */
    size_t n = 0, cap = 1024;
    LLVMValueRef *work = malloc(sizeof *work * cap);
    LF_ASSERT(work, "out of memory");
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
            if (in == keep || LLVMGetFirstUse(in) || !sweep_pure(in)) continue;
            if (n == cap) work = realloc(work, sizeof *work * (cap *= 2));
            LF_ASSERT(work, "out of memory");
            work[n++] = in;
        }
    while (n > 0) {
        LLVMValueRef in = work[--n], small[16];
        int nops = LLVMGetNumOperands(in), k = 0;
        LLVMValueRef *ops = nops <= 16 ? small : malloc(sizeof *ops * (size_t)nops);
        LF_ASSERT(ops, "out of memory");
        for (int i = 0; i < nops; i++) {
            LLVMValueRef o = LLVMGetOperand(in, i);
            if (!o || !LLVMIsAInstruction(o) || o == in) continue;
            int seen = 0;
            for (int q = 0; q < k && !seen; q++) seen = ops[q] == o;
            if (!seen) ops[k++] = o;
        }
        LLVMInstructionEraseFromParent(in);
        for (int q = 0; q < k; q++) {
            if (ops[q] == keep || LLVMGetFirstUse(ops[q]) || !sweep_pure(ops[q])) continue;
            if (n == cap) work = realloc(work, sizeof *work * (cap *= 2));
            LF_ASSERT(work, "out of memory");
            work[n++] = ops[q];
        }
        if (ops != small) free(ops);
    }
    free(work);
}

