/* lift_cc.c -- recursion without callee-saved registers, on optimized IR.
 *
 * Interpreted recursion becomes a specialization that calls itself (ack's
 * call node, tak's body loop), or a cycle of specializations that call
 * each other (a procedure whose body calls a second one that calls the
 * first: the interpreter's call node specialized twice).  Under the C
 * convention every call of such a function runs a prologue that saves
 * each callee-saved register its body uses anywhere, and an epilogue that
 * restores them: six pushes and six pops for ack's call node, though only
 * one value (m - 1) lives across its recursive call.  Under LLVM's GHC
 * convention no register is callee-saved: the caller keeps what lives
 * across a call in its frame, one store and one load per value, and
 * constants are materialized again after the call.
 *
 * Inputs: an optimized module.  Output: the number of functions given the
 * GHC convention (lf_report.recursion_cc).  An internal function F gets
 * it, at its definition and at every call, when:
 *   1. every use of F is a direct call, and F is on a cycle of the call
 *      graph of the module's defined functions (it calls itself, or calls
 *      a function that calls it back, directly or through others);
 *   2. F's parameters are at most GHC_MAX_ARGS i64 (the integer registers
 *      the convention passes arguments in: r13, rbp, r12, rbx, r14, rsi,
 *      rdi, r8, r9, r15), so no argument goes on the stack;
 *   3. no function that calls F needs a frame pointer: rbp is an argument
 *      register of the convention and F does not preserve it, so a caller
 *      addressing its frame through rbp (a run-time-sized alloca, an alloca
 *      aligned past the stack's 16 bytes) would lose its frame.
 * Each function is decided alone: a cycle member that fails 2 or 3 keeps
 * the C convention and the others still get GHC (a convention is a
 * property of one function and its calls, not of the cycle).
 *
 * Functions off every cycle keep the C convention: a call from a loop
 * would make its caller keep every value live across it in memory
 * instead of the callee saving only the registers it uses.
 *
 * Measured (`lineiform run`, median of seven, CPU time): ack 0.18 against
 * 0.21 s, tak 0.11 against 0.12 s; see the README's bench table. */
#include "lifter/lift_proc.h"

#include <stdint.h>
#include <stdlib.h>

enum { GHC_MAX_ARGS = 10 };

/* 1 when g addresses its frame through a frame pointer (invariant 3). */
static int needs_frame_pointer(LLVMValueRef g)
{
    LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(g);
    for (LLVMBasicBlockRef bb = entry; bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
            if (LLVMIsAAllocaInst(i) &&
                (bb != entry || !LLVMIsAConstant(LLVMGetOperand(i, 0)) || LLVMGetAlignment(i) > 16))
                return 1;
    return 0;
}

/* Conditions 1 (its first half), 2 and 3 for one function. */
static int may_take_ghc(LLVMValueRef f)
{
    if (LLVMIsDeclaration(f) || LLVMGetLinkage(f) != LLVMInternalLinkage || LLVMIsFunctionVarArg(LLVMGlobalGetValueType(f)))
        return 0;
    unsigned np = LLVMCountParams(f);
    if (np > GHC_MAX_ARGS) return 0;
    LLVMTypeRef i64 = LLVMInt64TypeInContext(LLVMGetModuleContext(LLVMGetGlobalParent(f)));
    for (unsigned k = 0; k < np; k++)
        if (LLVMTypeOf(LLVMGetParam(f, k)) != i64) return 0;
    if (!lift_only_called(f)) return 0;
    for (LLVMUseRef u = LLVMGetFirstUse(f); u; u = LLVMGetNextUse(u))
        if (needs_frame_pointer(LLVMGetBasicBlockParent(LLVMGetInstructionParent(LLVMGetUser(u)))))
            return 0;
    return 1;
}

/* The call graph of the defined functions and its strongly connected
 * components (Tarjan), to find which functions are on a cycle. */
struct cg {
    LLVMValueRef *fn;       /* defined functions, sorted by address */
    unsigned n;
    unsigned *index, *low;  /* Tarjan's numbering; 0: not visited yet */
    unsigned *stack, sp, next;
    unsigned char *on_stack, *cyclic;
};

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(LLVMValueRef const *)a, y = (uintptr_t)*(LLVMValueRef const *)b;
    return x < y ? -1 : x > y;
}

/* f's position in g->fn, or g->n when f is not a defined function. */
static unsigned cg_find(const struct cg *g, LLVMValueRef f)
{
    LLVMValueRef *hit = f ? bsearch(&f, g->fn, g->n, sizeof *g->fn, cmp_ptr) : NULL;
    return hit ? (unsigned)(hit - g->fn) : g->n;
}

static void cg_visit(struct cg *g, unsigned v)
{
    g->index[v] = g->low[v] = ++g->next;
    g->stack[g->sp++] = v;
    g->on_stack[v] = 1;
    LLVMValueRef f = g->fn[v];
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            if (!LLVMIsACallInst(i) && !LLVMIsAInvokeInst(i)) continue;
            unsigned w = cg_find(g, LLVMGetCalledValue(i));
            if (w == g->n) continue;
            if (w == v) g->cyclic[v] = 1;   /* calls itself */
            if (!g->index[w]) {
                cg_visit(g, w);
                if (g->low[w] < g->low[v]) g->low[v] = g->low[w];
            } else if (g->on_stack[w] && g->index[w] < g->low[v]) {
                g->low[v] = g->index[w];
            }
        }
    if (g->low[v] != g->index[v]) return;
    unsigned top = g->sp, w;
    do {
        w = g->stack[--g->sp];
        g->on_stack[w] = 0;
    } while (w != v);
    if (top - g->sp > 1)   /* a component of several functions: a cycle */
        for (unsigned k = g->sp; k < top; k++) g->cyclic[g->stack[k]] = 1;
}

int lift_recursion_cc(LLVMModuleRef mod)
{
    struct cg g = {0};
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
        if (!LLVMIsDeclaration(f)) g.n++;
    if (!g.n) return 0;
    g.fn = malloc(g.n * sizeof *g.fn);
    g.index = calloc(g.n, sizeof *g.index);
    g.low = calloc(g.n, sizeof *g.low);
    g.stack = calloc(g.n, sizeof *g.stack);
    g.on_stack = calloc(g.n, 1);
    g.cyclic = calloc(g.n, 1);
    int made = -1;   /* out of memory: no convention changes, reported as 0 */
    if (g.fn && g.index && g.low && g.stack && g.on_stack && g.cyclic) {
        unsigned k = 0;
        for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
            if (!LLVMIsDeclaration(f)) g.fn[k++] = f;
        qsort(g.fn, g.n, sizeof *g.fn, cmp_ptr);
        for (k = 0; k < g.n; k++)
            if (!g.index[k]) cg_visit(&g, k);
        made = 0;
        /* Decided for every function before any convention changes, so
         * each decision sees the module as the passes left it. */
        for (k = 0; k < g.n; k++) g.cyclic[k] = g.cyclic[k] && may_take_ghc(g.fn[k]);
        for (k = 0; k < g.n; k++) {
            if (!g.cyclic[k]) continue;
            LLVMValueRef f = g.fn[k];
            LLVMSetFunctionCallConv(f, LLVMGHCCallConv);
            for (LLVMUseRef u = LLVMGetFirstUse(f); u; u = LLVMGetNextUse(u))
                LLVMSetInstructionCallConv(LLVMGetUser(u), LLVMGHCCallConv);
            made++;
        }
    }
    free(g.fn), free(g.index), free(g.low), free(g.stack), free(g.on_stack), free(g.cyclic);
    return made < 0 ? 0 : made;
}
